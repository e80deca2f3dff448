"""A singing voice by WORLD: espeak-ng speaks each word, pyworld re-sings it on the melody.

Per word (cached): espeak speech → dio + stonemask F0, cheaptrick envelope, d4c aperiodicity.
Per phrase (cached, so a repeated chorus is synthesised once): every syllable's onset consonants
are placed just before its note at natural speed, its vowel is stretched over the note(s) (30 ms
vowel edges kept), the coda closes it; F0 follows the melody with raised-cosine portamento and a
5.5 Hz vibrato that fades in on long notes; the envelope is warped for a female or male timbre;
a soft breath precedes each phrase. One `pyworld.synthesize` call per phrase, frames gathered by
index arrays (no per-frame Python loops over spectra).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.voice.espeak import engine
from tools.music.voice.phonemes import SyllableSpan, clean_word, is_pause, split_syllables

FRAME_MS = 5.0
WORLD_RATE = 16000  # analysis/synthesis rate: 8 kHz of voice bandwidth, 2.4x faster than 22.05 kHz
FFT_SIZE = 512  # enough for F0 down to 94 Hz (cheaptrick needs 3 periods), below any sung note here
FRAMES_PER_SECOND = 1000.0 / FRAME_MS
PHRASE_GAP_S = 0.3  # a rest longer than this starts a new phrase (and a new synthesis call)
EDGE_FRAMES = 6  # 30 ms of each vowel's natural start and end are kept unstretched
VIBRATO_HZ = 5.5
VIBRATO_CENTS = 30.0
PORTAMENTO_S = 0.06
VOICES = {
    # formant warp (envelope stretch) and the loudness of the breath before each phrase
    "female": {"formant": 1.17, "breath": 0.010},
    "male": {"formant": 0.97, "breath": 0.012},
}


@dataclass(frozen=True)
class SungNote:
    """One pitch of a syllable, in seconds from the song start; pitch is a (fractional) MIDI number."""

    start: float
    end: float
    pitch: float


@dataclass(frozen=True)
class SungSyllable:
    """A syllable to sing: its word, which of the word's syllables it is, and the notes it spans."""

    word: str
    index: int
    count: int
    notes: tuple[SungNote, ...]

    @property
    def start(self) -> float:
        return self.notes[0].start

    @property
    def end(self) -> float:
        return self.notes[-1].end


@dataclass
class _Word:
    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    spans: list[tuple[int, int, int, int]]  # frame indices per syllable: start, vowel, vowel_end, end


@dataclass
class Singer:
    """Caches of analysed words and synthesised phrases; one per process is enough (`singer()`)."""

    word_cache: dict[tuple[str, int], _Word] = field(default_factory=dict)
    phrase_cache: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- words --------------------------------------------------------------------------------
    def analyse_word(self, word: str, count: int) -> _Word:
        key = (word, count)
        cached = self.word_cache.get(key)
        if cached is not None:
            return cached
        import pyworld  # deferred: compiled extension, only needed when singing

        tts = engine()
        phonemes = tts.phonemize(word) or word
        speech = tts.speak(phonemes, phonemes=True)
        events = [e for e in speech.events if not is_pause(e.phoneme)]
        if not events or speech.audio.size < 400:
            raise TunesmithError(f"espeak-ng produced no speech for the word {word!r}")
        names = [e.phoneme for e in events]
        ends = [e.sample for e in speech.events if is_pause(e.phoneme) and e.sample > events[-1].sample]
        end_sample = min(ends[0] if ends else speech.audio.size, speech.audio.size)
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(WORLD_RATE, speech.sample_rate)
        x = resample_poly(speech.audio.astype(np.float64), WORLD_RATE // g, speech.sample_rate // g)
        fs = WORLD_RATE
        f0, t = pyworld.dio(x, fs, f0_floor=70.0, f0_ceil=500.0, frame_period=FRAME_MS)
        f0 = pyworld.stonemask(x, f0, t, fs)
        sp = pyworld.cheaptrick(x, f0, t, fs, f0_floor=94.0, fft_size=FFT_SIZE)
        ap = pyworld.d4c(x, f0, t, fs, fft_size=FFT_SIZE)
        frames = len(f0)

        def frame_of(sample: int) -> int:
            return int(min(frames - 1, max(0, round(sample / speech.sample_rate * FRAMES_PER_SECOND))))

        starts = [frame_of(e.sample) for e in events] + [frame_of(end_sample)]
        spans = []
        for span in split_syllables(names, count):
            a, v, ve, b = starts[span.start], starts[span.vowel], starts[span.vowel_end], starts[span.end]
            ve = max(ve, v + 1)
            b = max(b, ve)
            spans.append((a, v, ve, b))
        result = _Word(f0=f0, sp=sp, ap=ap, spans=spans)
        self.word_cache[key] = result
        return result

    # -- phrases ------------------------------------------------------------------------------
    def sing_phrase(self, syllables: list[SungSyllable], *, voice: str, sample_rate: int) -> tuple[float, np.ndarray]:
        """(start seconds, mono audio at ``sample_rate``) for one phrase; cached by its content."""
        origin = syllables[0].start
        key = (voice, sample_rate, tuple((s.word, s.index, s.count,
                                          tuple((round(n.start - origin, 4), round(n.end - origin, 4), round(n.pitch, 3))
                                                for n in s.notes)) for s in syllables))
        with self.lock:
            cached = self.phrase_cache.get(key)
        if cached is not None:
            lead, audio = cached
            return origin - lead, audio
        lead, audio = self._synthesise(syllables, voice=voice, sample_rate=sample_rate)
        with self.lock:
            self.phrase_cache[key] = (lead, audio)
            while len(self.phrase_cache) > 256:
                self.phrase_cache.popitem(last=False)
        return origin - lead, audio

    def _synthesise(self, syllables: list[SungSyllable], *, voice: str, sample_rate: int) -> tuple[float, np.ndarray]:
        import pyworld
        from scipy.signal import resample_poly

        settings = VOICES[voice]
        words = [self.analyse_word(s.word, s.count) for s in syllables]
        fs = WORLD_RATE
        origin = syllables[0].start
        onset_frames = []
        for s, w in zip(syllables, words):
            a, v, _, _ = w.spans[s.index]
            onset_frames.append(v - a)
        lead_frames = min(onset_frames[0], 30) + 12  # consonants before the first beat, plus breath room
        lead = lead_frames / FRAMES_PER_SECOND

        def out_frame(seconds: float) -> int:
            return int(round((seconds - origin) * FRAMES_PER_SECOND)) + lead_frames

        total = out_frame(syllables[-1].end) + 24
        # gather plan: which source word/frame feeds each output frame (-1: silence)
        source_word = np.full(total, -1, dtype=np.int64)
        source_frame = np.zeros(total, dtype=np.int64)
        forced_voice = np.zeros(total, dtype=bool)
        for i, (s, w) in enumerate(zip(syllables, words)):
            a, v, ve, b = w.spans[s.index]
            onset, vowel, coda = v - a, ve - v, b - ve
            region_start = out_frame(s.start) - onset
            next_contiguous = i + 1 < len(syllables) and syllables[i + 1].start - s.end < 0.02
            region_end = out_frame(s.end) - (min(onset_frames[i + 1], 30) if next_contiguous else 0)
            if i > 0:
                region_start = max(region_start, out_frame(syllables[i - 1].end) - (
                    min(onset, 30) if syllables[i].start - syllables[i - 1].end < 0.02 else 0))
            region_start = max(region_start, 0)
            length = max(region_end - region_start, 3)
            # consonants at speech speed, but never more than half the syllable
            consonant_budget = length // 2
            if onset + coda > consonant_budget and onset + coda > 0:
                scale = consonant_budget / (onset + coda)
                onset_len, coda_len = int(onset * scale), int(coda * scale)
            else:
                onset_len, coda_len = onset, coda
            vowel_len = max(length - onset_len - coda_len, 1)
            pieces = [
                np.linspace(a, v - 1, onset_len).round().astype(np.int64) if onset_len else np.zeros(0, np.int64),
                _stretch_indices(v, ve, vowel_len),
                np.linspace(ve, b - 1, coda_len).round().astype(np.int64) if coda_len else np.zeros(0, np.int64),
            ]
            indices = np.concatenate(pieces)
            stop = min(region_start + len(indices), total)
            count = stop - region_start
            source_word[region_start:stop] = i
            source_frame[region_start:stop] = indices[:count]
            vowel_from = region_start + onset_len
            forced_voice[vowel_from:min(vowel_from + vowel_len, total)] = True

        bins = words[0].sp.shape[1]
        sp = np.full((total, bins), 1e-12)
        ap = np.ones((total, bins))
        src_voiced = np.zeros(total, dtype=bool)
        for i, w in enumerate(words):
            mask = source_word == i
            if not mask.any():
                continue
            idx = np.clip(source_frame[mask], 0, len(w.f0) - 1)
            sp[mask] = w.sp[idx]
            ap[mask] = w.ap[idx]
            src_voiced[mask] = w.f0[idx] > 0
        voiced = (src_voiced | forced_voice) & (source_word >= 0)
        ap[forced_voice] = np.minimum(ap[forced_voice], 0.5)  # a sung vowel is clearly periodic
        pitch = _pitch_curve(syllables, total, origin, lead_frames)
        f0 = np.where(voiced, 440.0 * 2.0 ** ((pitch - 69.0) / 12.0), 0.0)
        sp = _warp_envelope(sp, settings["formant"])
        audio = pyworld.synthesize(f0, np.ascontiguousarray(sp), np.ascontiguousarray(ap), fs, FRAME_MS)
        audio = _add_breath(audio, fs, lead_frames, settings["breath"])
        if sample_rate != fs:
            from math import gcd

            g = gcd(int(sample_rate), int(fs))
            audio = resample_poly(audio, sample_rate // g, fs // g)
        fade = int(0.02 * sample_rate)
        if audio.size > 2 * fade:
            ramp = np.sin(np.linspace(0, np.pi / 2, fade)) ** 2
            audio[:fade] *= ramp
            audio[-fade:] *= ramp[::-1]
        return lead, audio.astype(np.float32)


def _stretch_indices(v: int, ve: int, length: int) -> np.ndarray:
    """Source frames for a vowel stretched to ``length`` frames, its 30 ms edges kept natural."""
    natural = ve - v
    if natural <= 2 * EDGE_FRAMES or length <= 2 * EDGE_FRAMES + 1:
        return np.linspace(v, ve - 1, length).round().astype(np.int64)
    head = np.arange(v, v + EDGE_FRAMES)
    tail = np.arange(ve - EDGE_FRAMES, ve)
    middle = np.linspace(v + EDGE_FRAMES, ve - EDGE_FRAMES - 1, length - 2 * EDGE_FRAMES).round().astype(np.int64)
    return np.concatenate([head, middle, tail])


def _pitch_curve(syllables: list[SungSyllable], total: int, origin: float, lead_frames: int) -> np.ndarray:
    """MIDI pitch per frame: notes held, raised-cosine glides between them, vibrato on long notes."""
    notes = [n for s in syllables for n in s.notes]
    times = (np.arange(total) - lead_frames) / FRAMES_PER_SECOND + origin
    curve = np.full(total, notes[0].pitch, dtype=np.float64)
    for note in notes:
        curve[times >= note.start] = note.pitch
    for prev, note in zip(notes, notes[1:]):
        if note.start - prev.end > 0.05 or note.pitch == prev.pitch:
            continue
        half = min(PORTAMENTO_S, (prev.end - prev.start) / 3, (note.end - note.start) / 3) / 2
        window = (times >= note.start - half) & (times < note.start + half)
        if window.any():
            phase = (times[window] - (note.start - half)) / (2 * half)
            curve[window] = prev.pitch + (note.pitch - prev.pitch) * (0.5 - 0.5 * np.cos(np.pi * phase))
    for note in notes:
        length = note.end - note.start
        if length < 0.4:
            continue
        inside = (times >= note.start) & (times < note.end)
        local = times[inside] - note.start
        depth = np.clip((local - 0.2) / 0.3, 0.0, 1.0) * (VIBRATO_CENTS / 100.0)
        curve[inside] += depth * np.sin(2 * np.pi * VIBRATO_HZ * local)
    return curve


def _warp_envelope(sp: np.ndarray, factor: float) -> np.ndarray:
    """Move formants by ``factor`` (>1 brighter/female) by resampling every envelope's frequency axis."""
    if abs(factor - 1.0) < 1e-3:
        return sp
    bins = sp.shape[1]
    position = np.arange(bins) / factor
    low = np.clip(np.floor(position).astype(np.int64), 0, bins - 1)
    high = np.clip(low + 1, 0, bins - 1)
    weight = np.clip(position - low, 0.0, 1.0)
    return sp[:, low] * (1 - weight) + sp[:, high] * weight


def _add_breath(audio: np.ndarray, fs: int, lead_frames: int, level: float) -> np.ndarray:
    """A short filtered-noise inhale in the lead-in before the phrase (deterministic)."""
    length = int(min(lead_frames, 12) / FRAMES_PER_SECOND * fs)
    if length < 32 or audio.size < length:
        return audio
    rng = np.random.default_rng(7)
    noise = np.convolve(rng.standard_normal(length), np.ones(6) / 6, mode="same")
    envelope = np.sin(np.linspace(0, np.pi, length)) ** 2
    audio = audio.copy()
    audio[:length] += level * noise * envelope
    return audio


_SINGER: Singer | None = None


def singer() -> Singer:
    """The process-wide singer (word and phrase caches survive between songs)."""
    global _SINGER
    if _SINGER is None:
        _SINGER = Singer()
    return _SINGER


def group_phrases(syllables: list[SungSyllable]) -> list[list[SungSyllable]]:
    """Split syllables into phrases at rests longer than `PHRASE_GAP_S`."""
    phrases: list[list[SungSyllable]] = []
    for s in syllables:
        if phrases and s.start - phrases[-1][-1].end < PHRASE_GAP_S:
            phrases[-1].append(s)
        else:
            phrases.append([s])
    return phrases
