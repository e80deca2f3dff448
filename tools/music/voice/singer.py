"""A singing voice by WORLD: espeak-ng speaks each word, pyworld re-sings it on the melody.

Per word (cached): espeak speech → dio + stonemask F0, cheaptrick envelope, d4c aperiodicity.
Per phrase (cached, so a repeated chorus is synthesised once): every syllable's onset consonants
are placed just before its note at natural speed, its vowel is stretched over the note(s) (30 ms
vowel edges kept), the coda closes it; F0 follows the melody with raised-cosine portamento and a
vibrato that fades in on long notes; the envelope is warped for the voice's formants, sung vowels
get the voice's breathiness as aperiodicity; a soft breath precedes each phrase. One
`pyworld.synthesize` call per phrase, frames gathered by index arrays (no per-frame Python loops).
Everything a voice can change lives in a `VoiceParams` (presets in voices.json).

WORLD runs at 16 kHz: at 22.05 kHz the voice costs ~1.5x the CPU (bench numbers in the commit
log). The 8-11 kHz "air" that rate would add is instead a noise band above 8 kHz at the output
rate, following the level of the voice's own 6-7.8 kHz band frame by frame (`_add_air`).
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.voice.espeak import engine
from tools.music.voice.phonemes import is_pause, split_syllables

FRAME_MS = 5.0
WORLD_RATE = 16000  # analysis/synthesis rate: 8 kHz of voice bandwidth, the air band adds the rest
FFT_SIZE = 512  # cheaptrick's window covers 3 periods down to 94 Hz at 16 kHz
SYNTH_FFT_SIZE = 256  # envelopes kept at every 2nd bin (62.5 Hz apart) for synthesis: half the cost per pulse
FRAMES_PER_SECOND = 1000.0 / FRAME_MS
PHRASE_GAP_S = 0.3  # a rest longer than this starts a new phrase (and a new synthesis call)
EDGE_FRAMES = 6  # 30 ms of each vowel's natural start and end are kept unstretched
VIBRATO_FADE_S = 0.3  # vibrato depth ramps in over this long after its onset delay
VIBRATO_MIN_NOTE_S = 0.4  # shorter notes are sung straight
AP_DECIMATION = 2  # d4c (the costliest analysis) on every 2nd frame: aperiodicity is smooth over 10 ms
WORD_CACHE_SIZE = 1024  # analysed words kept (~0.3 MB each at 16 kHz)
AIR_BAND_HZ = (6000.0, 7800.0)  # the voice's top band whose level the air continues
AIR_EDGE_HZ = (7600.0, 8400.0)  # the air fades in across WORLD's Nyquist
AIR_FLAT_TO_HZ = 10000.0  # flat continuation up to here (espeak's own spectrum is flat to ~10 kHz) ...
AIR_TILT_DB_PER_OCTAVE = -12.0  # ... then falling like a voice's aspiration noise
AIR_BANK_SAMPLES = 1 << 19  # ~12 s of shaped noise shared by all phrases: long enough that no repeat is heard
VOICES_FILE = Path(__file__).with_name("voices.json")


@dataclass(frozen=True)
class VoiceParams:
    """Everything that makes one singing voice sound like itself; hashable, so it keys caches.

    Restyling a voice is `dataclasses.replace(voice_params("female"), vibrato_cents=50, ...)`.

    Attributes:
        name: the preset it came from (or a user's label).
        formant: spectral-envelope warp; >1 raises formants (smaller, brighter voice).
        vibrato_hz, vibrato_cents: vibrato rate and peak deviation; 0 cents sings straight.
        vibrato_delay_s: how long a note is held straight before vibrato fades in.
        breathiness: 0..1, aperiodic share mixed into sung vowels (more at high frequencies).
        breath: level of the inhale before each phrase.
        portamento_s: length of the glide between connected notes.
        air_db: level of the >8 kHz air band relative to the voice's top band; None: no air.
        low, high: the comfortable MIDI range (see `octave_shift`).
    """

    name: str = "custom"
    formant: float = 1.0
    vibrato_hz: float = 5.5
    vibrato_cents: float = 30.0
    vibrato_delay_s: float = 0.2
    breathiness: float = 0.0
    breath: float = 0.01
    portamento_s: float = 0.06
    air_db: float | None = 0.0
    low: int = 57
    high: int = 76

    def __post_init__(self) -> None:
        limits = {"formant": (0.7, 1.5), "vibrato_hz": (0.0, 10.0), "vibrato_cents": (0.0, 150.0),
                  "vibrato_delay_s": (0.0, 5.0), "breathiness": (0.0, 1.0), "breath": (0.0, 0.2),
                  "portamento_s": (0.0, 0.5), "air_db": (-40.0, 12.0), "low": (24, 96), "high": (24, 96)}
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            if value is None and name == "air_db":
                continue
            if not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise TunesmithError(f"Voice setting {name}={value!r} is out of range",
                                     hint=f"use a number from {lo} to {hi}")
        if self.low >= self.high:
            raise TunesmithError(f"Voice range low={self.low} must be below high={self.high}")

    def octave_shift(self, pitches: list[float]) -> int:
        """Semitones (whole octaves) that put the middle of ``pitches`` nearest this voice's range centre."""
        if not pitches:
            return 0
        middle = (min(pitches) + max(pitches)) / 2
        return 12 * round(((self.low + self.high) / 2 - middle) / 12)


@lru_cache(maxsize=1)
def voice_presets() -> dict[str, VoiceParams]:
    """The named voices of voices.json."""
    data = json.loads(VOICES_FILE.read_text(encoding="utf-8"))
    known = {f.name for f in fields(VoiceParams)}
    return {name: VoiceParams(name=name, **{k: v for k, v in values.items() if k in known})
            for name, values in data.items() if not name.startswith("_")}


def voice_params(voice: str | VoiceParams) -> VoiceParams:
    """A preset by name, or the given params unchanged.

    Raises:
        TunesmithError: an unknown preset name.
    """
    if isinstance(voice, VoiceParams):
        return voice
    presets = voice_presets()
    if voice not in presets:
        raise TunesmithError(f"Voice {voice!r} is unknown", hint=f"use one of: {', '.join(sorted(presets))}")
    return presets[voice]


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

    word_cache: OrderedDict = field(default_factory=OrderedDict)
    phrase_cache: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- words --------------------------------------------------------------------------------
    def analyse_word(self, word: str, count: int) -> _Word:
        """espeak's speech of ``word`` analysed by WORLD, cut into ``count`` syllables (LRU-cached)."""
        key = (word, count)
        with self.lock:
            cached = self.word_cache.get(key)
            if cached is not None:
                self.word_cache.move_to_end(key)
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
        x = _resample(speech.audio.astype(np.float64), speech.sample_rate, WORLD_RATE)
        fs = WORLD_RATE
        f0, t = pyworld.dio(x, fs, f0_floor=70.0, f0_ceil=500.0, frame_period=FRAME_MS)
        f0 = pyworld.stonemask(x, f0, t, fs)
        step = FFT_SIZE // SYNTH_FFT_SIZE  # bin k of the synthesis FFT is bin k*step of the analysis FFT
        sp = pyworld.cheaptrick(x, f0, t, fs, f0_floor=94.0, fft_size=FFT_SIZE)[:, ::step]
        ap = _interpolate_frames(pyworld.d4c(x, np.ascontiguousarray(f0[::AP_DECIMATION]),
                                             np.ascontiguousarray(t[::AP_DECIMATION]), fs, fft_size=FFT_SIZE),
                                 len(f0), AP_DECIMATION)[:, ::step]
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
        with self.lock:
            self.word_cache[key] = result
            while len(self.word_cache) > WORD_CACHE_SIZE:
                self.word_cache.popitem(last=False)
        return result

    # -- phrases ------------------------------------------------------------------------------
    def sing_phrase(self, syllables: list[SungSyllable], *, voice: str | VoiceParams,
                    sample_rate: int) -> tuple[float, np.ndarray]:
        """(start seconds, mono audio at ``sample_rate``) for one phrase; cached by its content.

        Raises:
            TunesmithError: an unknown voice name or a word espeak-ng cannot speak.
        """
        params = voice_params(voice)
        origin = syllables[0].start
        key = (params, sample_rate, tuple((s.word, s.index, s.count,
                                           tuple((round(n.start - origin, 4), round(n.end - origin, 4), round(n.pitch, 3))
                                                 for n in s.notes)) for s in syllables))
        with self.lock:
            cached = self.phrase_cache.get(key)
        if cached is not None:
            lead, audio = cached
            return origin - lead, audio
        seed = zlib.crc32(repr(key).encode())  # deterministic across processes, unlike hash()
        lead, audio = self._synthesise(syllables, params=params, sample_rate=sample_rate, seed=seed)
        with self.lock:
            self.phrase_cache[key] = (lead, audio)
            while len(self.phrase_cache) > 256:
                self.phrase_cache.popitem(last=False)
        return origin - lead, audio

    def _synthesise(self, syllables: list[SungSyllable], *, params: VoiceParams, sample_rate: int,
                    seed: int) -> tuple[float, np.ndarray]:
        import pyworld

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
            onset, coda = v - a, b - ve
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
        ap[forced_voice] = _breathy(np.minimum(ap[forced_voice], 0.5), params.breathiness)  # sung vowels are periodic
        pitch = _pitch_curve(syllables, total, origin, lead_frames, params)
        f0 = np.where(voiced, 440.0 * 2.0 ** ((pitch - 69.0) / 12.0), 0.0)
        sp = _warp_envelope(sp, params.formant)
        voice = pyworld.synthesize(f0, np.ascontiguousarray(sp), np.ascontiguousarray(ap), fs, FRAME_MS)
        voice = _add_breath(voice, fs, lead_frames, params.breath)
        audio = _resample(voice, fs, sample_rate)
        if params.air_db is not None and sample_rate > fs:
            audio = audio + _add_air(voice, fs, audio.size, sample_rate, params.air_db, seed)
        fade = int(0.02 * sample_rate)
        if audio.size > 2 * fade:
            ramp = np.sin(np.linspace(0, np.pi / 2, fade)) ** 2
            audio[:fade] *= ramp
            audio[-fade:] *= ramp[::-1]
        return lead, audio.astype(np.float32)


@lru_cache(maxsize=8)
def _resampling_filter(up: int, down: int) -> np.ndarray:
    """The FIR `scipy.signal.resample_poly` would design; designing it costs more than filtering a word."""
    from scipy.signal import firwin

    max_rate = max(up, down)
    return firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))


def _resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """``x`` from ``rate_in`` to ``rate_out`` Hz, exactly as resample_poly's default does it."""
    if rate_in == rate_out:
        return x
    from scipy.signal import resample_poly

    g = gcd(int(rate_in), int(rate_out))
    up, down = int(rate_out) // g, int(rate_in) // g
    return resample_poly(x, up, down, window=_resampling_filter(up, down))


def _interpolate_frames(values: np.ndarray, frames: int, step: int) -> np.ndarray:
    """Rows computed on every ``step``-th frame, linearly interpolated back to ``frames`` rows."""
    position = np.arange(frames) / step
    low = np.minimum(np.floor(position).astype(np.int64), len(values) - 1)
    high = np.minimum(low + 1, len(values) - 1)
    weight = (position - low)[:, None]
    return values[low] * (1.0 - weight) + values[high] * weight


def _breathy(ap: np.ndarray, breathiness: float) -> np.ndarray:
    """Aspiration mixed into sung frames: aperiodicity raised toward 1, most at high frequencies (breathy phonation)."""
    if breathiness <= 0:
        return ap
    tilt = np.linspace(0.25, 1.0, ap.shape[1])
    return ap + (1.0 - ap) * breathiness * tilt


def _add_air(voice: np.ndarray, fs: int, length: int, sample_rate: int, air_db: float, seed: int) -> np.ndarray:
    """Noise above WORLD's Nyquist whose level follows the voice's top band, frame by frame.

    The band's power density is measured on the synthesised voice (so whatever WORLD's scaling,
    the air continues the spectrum without a step at 8 kHz); the noise (`_air_noise`) is flat to
    `AIR_FLAT_TO_HZ` and tilted beyond.
    """
    hop = int(fs * FRAME_MS / 1000)
    n_fft = 4 * hop
    window = np.hanning(n_fft)
    padded = np.pad(voice, (n_fft // 2, n_fft // 2 + hop))
    count = 1 + (padded.size - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:count]
    spectrum = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / fs)
    band = (freqs >= AIR_BAND_HZ[0]) & (freqs < AIR_BAND_HZ[1])
    density = 2.0 * spectrum[:, band].mean(axis=1) / (fs * np.sum(window ** 2))  # one-sided power per Hz
    gain = np.sqrt(density * sample_rate / 2.0) * 10 ** (air_db / 20)  # white unit noise has density 2/sr
    centres = np.arange(count) * hop / fs
    envelope = np.interp(np.arange(length) / sample_rate, centres, gain)
    bank = _air_noise(sample_rate)
    offset = seed % bank.size
    noise = np.take(bank, np.arange(offset, offset + length), mode="wrap")
    return noise * envelope


@lru_cache(maxsize=2)
def _air_noise(sample_rate: int) -> np.ndarray:
    """Unit-density white noise shaped to the air band once per rate; phrases read it at their own offset.

    Shaping each phrase by FFT cost more than all of WORLD's synthesis (odd lengths are slow FFTs).
    """
    noise = np.random.default_rng(20241).standard_normal(AIR_BANK_SAMPLES)
    freqs = np.fft.rfftfreq(AIR_BANK_SAMPLES, 1.0 / sample_rate)
    lo, hi = AIR_EDGE_HZ
    shape = np.sin(np.clip((freqs - lo) / (hi - lo), 0.0, 1.0) * np.pi / 2) ** 2
    exponent = AIR_TILT_DB_PER_OCTAVE / 20 / np.log10(2)  # amplitude slope per octave as a power of frequency
    shape *= np.minimum(1.0, (np.maximum(freqs, 1.0) / AIR_FLAT_TO_HZ) ** exponent)
    return np.fft.irfft(np.fft.rfft(noise) * shape, n=AIR_BANK_SAMPLES)


def _stretch_indices(v: int, ve: int, length: int) -> np.ndarray:
    """Source frames for a vowel stretched to ``length`` frames, its 30 ms edges kept natural."""
    natural = ve - v
    if natural <= 2 * EDGE_FRAMES or length <= 2 * EDGE_FRAMES + 1:
        return np.linspace(v, ve - 1, length).round().astype(np.int64)
    head = np.arange(v, v + EDGE_FRAMES)
    tail = np.arange(ve - EDGE_FRAMES, ve)
    middle = np.linspace(v + EDGE_FRAMES, ve - EDGE_FRAMES - 1, length - 2 * EDGE_FRAMES).round().astype(np.int64)
    return np.concatenate([head, middle, tail])


def _pitch_curve(syllables: list[SungSyllable], total: int, origin: float, lead_frames: int,
                 params: VoiceParams) -> np.ndarray:
    """MIDI pitch per frame: notes held, raised-cosine glides between them, vibrato on long notes."""
    notes = [n for s in syllables for n in s.notes]
    times = (np.arange(total) - lead_frames) / FRAMES_PER_SECOND + origin
    curve = np.full(total, notes[0].pitch, dtype=np.float64)
    for note in notes:
        curve[times >= note.start] = note.pitch
    for prev, note in zip(notes, notes[1:]):
        if note.start - prev.end > 0.05 or note.pitch == prev.pitch or params.portamento_s <= 0:
            continue
        half = min(params.portamento_s, (prev.end - prev.start) / 3, (note.end - note.start) / 3) / 2
        window = (times >= note.start - half) & (times < note.start + half)
        if window.any():
            phase = (times[window] - (note.start - half)) / (2 * half)
            curve[window] = prev.pitch + (note.pitch - prev.pitch) * (0.5 - 0.5 * np.cos(np.pi * phase))
    if params.vibrato_cents <= 0 or params.vibrato_hz <= 0:
        return curve
    for note in notes:
        if note.end - note.start < VIBRATO_MIN_NOTE_S:
            continue
        inside = (times >= note.start) & (times < note.end)
        local = times[inside] - note.start
        depth = np.clip((local - params.vibrato_delay_s) / VIBRATO_FADE_S, 0.0, 1.0) * (params.vibrato_cents / 100.0)
        curve[inside] += depth * np.sin(2 * np.pi * params.vibrato_hz * local)
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
    if length < 32 or audio.size < length or level <= 0:
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
