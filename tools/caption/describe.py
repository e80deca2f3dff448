"""Attributes → a Caption: mood and genre guesses from the measured features, then one paragraph.

The prose is a plain template over measured attributes: LP-MusicCaps found such templates within
~1.4 BERTScore points of an LLM's prose, so the effort goes into the attributes being right.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Caption:
    """Measured attributes (each estimate with a confidence) and a one-paragraph description."""

    text: str
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str = "symbolic"  # symbolic | audio

    def to_dict(self) -> dict[str, Any]:
        return {"caption": self.text, "source": self.source, "attributes": self.attributes}

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=1)
def words() -> dict:
    return json.loads(Path(__file__).with_name("words.json").read_text())


def confidence_word(value: float) -> str:
    """"possibly", "probably" or "clearly": how a caption says how sure an estimate is."""
    return _threshold_word(words()["confidence_words"], value)


def _threshold_word(table: list, value: float) -> str:
    word = table[0][1]
    for bound, name in table:
        if value >= bound:
            word = name
    return word


def onset_rate(starts_s: list[float]) -> float:
    """Distinct note onsets per second (attacks within 50 ms are one event).

    Why onsets and not notes: a strummed or block chord is one event to the ear but three to six
    notes, so notes per second called a strummed folk song "driving" (density 7.7 notes/s).
    """
    starts = np.sort(np.asarray(starts_s, dtype=float))
    if starts.size < 2:
        return 0.0
    events = 1 + int(np.sum(np.diff(starts) > 0.05))
    return events / max(float(starts[-1] - starts[0]), 1e-6)


def _level(value: float, cuts: list) -> str:
    return "low" if value < cuts[0] else ("high" if value >= cuts[1] else "mid")


def mood(*, tempo_bpm: float, mode: str, onsets_per_s: float, loudness: float) -> dict:
    """Energy (arousal) and valence in 0..1, and the words of their cell on a 3 x 3 grid.

    Arousal follows tempo, event rate and loudness; valence follows mode first and tempo a little
    (the cues with the largest effects in Gabrielsson & Lindström's review of music and emotion).
    ``loudness`` is 0..1: integrated LUFS mapped from −30..−10 for audio, mean MIDI velocity / 127
    for notes. A 3 x 3 grid instead of four quadrants: a minor song at a moderate pace is
    "melancholic, wistful", not "tense, driving" as the quadrant split called it. Weights and
    cuts live in words.json ("mood_model").
    """
    model = words()["mood_model"]
    w = model["energy_weights"]
    energy = (w["tempo"] * np.clip((tempo_bpm - 60) / 110, 0, 1) + w["onsets"] * np.clip((onsets_per_s - 1) / 7, 0, 1)
              + w["loudness"] * np.clip(loudness, 0, 1))
    valence = model["valence_by_mode"].get(mode, 0.45) + model["valence_tempo"] * np.clip((tempo_bpm - 70) / 90, 0, 1)
    cell = f"{_level(energy, model['energy_cuts'])}_energy_{_level(valence, model['valence_cuts'])}_valence"
    edges = np.array(model["energy_cuts"] + model["valence_cuts"])
    distance = float(np.min(np.abs(np.array([energy, energy, valence, valence]) - edges)))
    return {"energy": round(float(energy), 2), "valence": round(float(valence), 2), "words": words()["moods"][cell],
            "confidence": round(float(np.clip(0.4 + 2 * distance, 0.4, 0.8)), 2)}


def genre(*, texture: str, voices: int, drums: bool, tempo_bpm: float, families: list[str] | None = None,
          drums_confidence: float = 1.0) -> dict:
    """The first genre rule (words.json) the features satisfy; rules are ordered specific → general.

    ``families`` (instrument families heard in audio) lets rules name instruments; a rule that asks
    for them never matches without them (the symbolic path's programs say more than families).
    An audio drum verdict is an estimate, so its confidence scales the guess's.
    """
    matched = []
    for rule in words()["genres"]:
        when = rule["when"]
        ok = when.get("drums", drums) == drums and when.get("texture", texture) == texture
        ok = ok and voices >= when.get("voices_min", 0) and tempo_bpm >= when.get("tempo_min", 0)
        ok = ok and tempo_bpm < when.get("tempo_max", float("inf"))
        if "families_any" in when:
            ok = ok and families is not None and any(f in families for f in when["families_any"])
        if ok:
            matched.append(rule["name"])
    if not matched:
        return {"name": "unknown", "confidence": 0.0}
    specificity = len([r for r in words()["genres"] if r["name"] == matched[0]][0]["when"])
    return {"name": matched[0], "confidence": round((0.25 + 0.1 * specificity) * drums_confidence, 2)}


def _fmt_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"


UNSURE_GENRE = 0.4  # below this probability the genre is named as "possibly"
# The tempo ranker's second reading is said aloud from this probability on. On its 296 training
# clips the truth is its first reading on 0.882 and among its first two on 0.976; from 0.2 the
# second is stated on 26 % of clips and turns 20 of the 35 first-reading misses into a stated
# right answer (0.1: stated on 43 %, 24 rescued; 0.3: 14 %, 14).
SAY_ALTERNATIVE_TEMPO = 0.2
# Below this probability the audio meter is hedged ("perhaps 3/4 time"). Leave-one-collection-out
# on fit_meter's 264 training clips the model is right on 0.58 of its readings under p 0.5, 0.75 at
# 0.5-0.7, 0.86 at 0.7-0.9 and 0.89 above; on the bench (bar length, all 88 pieces) 15/36 under 0.7
# and 42/52 above.
HEDGE_METER = 0.7


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


# A form with more different sections than this is summed up, not listed: a fugue's 190 phrases
# written out letter by letter were a paragraph of their own.
FORM_LIST_MAX = 12


def form_sentence(form: dict) -> str:
    """The form as a sentence: listed when it has few parts, else counted ("largely through-composed")."""
    sections = form.get("sections", [])
    distinct = Counter(s["label"] for s in sections)
    if len(distinct) <= FORM_LIST_MAX:
        return f"Its sections run {form_words(form)}."
    returning = len(sections) - len(distinct)
    bars = Counter(s["bars"] for s in sections).most_common(1)[0][0]
    kind = "largely through-composed" if returning < 0.25 * len(sections) else "long and sectional"
    return (f"Its form is {kind}: {len(sections)} sections of mostly {bars} bars, "
            f"{len(distinct)} of them different.")


def form_words(form: dict) -> str:
    """"A (2 bars), B (8), C (4), B, C, D (8); B returns 3 times": lengths where a letter first appears."""
    seen: set[str] = set()
    parts: list[str] = []
    runs: list[int] = []  # how many times in a row each part is played: "A ×128", not 128 "A"s
    previous = None
    for section in form.get("sections", []):
        label = section["label"]
        if label == previous:
            runs[-1] += 1
            continue
        previous = label
        if label in seen:
            parts.append(label)
        else:
            unit = (' bar' if section['bars'] == 1 else ' bars') if not seen else ''
            parts.append(f"{label} ({section['bars']}{unit})")
            seen.add(label)
        runs.append(1)
    counts = {label: sum(s["label"] == label for s in form["sections"]) for label in seen}
    most = max(sorted(counts), key=lambda label: counts[label]) if counts else None
    text = ", ".join(f"{part} ×{run}" if run >= 3 else ", ".join([part] + [part.split(" ")[0]] * (run - 1))
                     for part, run in zip(parts, runs))
    return text + (f"; {most} returns {counts[most]} times" if most and counts[most] > 2 else "")


def compose_text(a: dict[str, Any], *, focus: str | None = None) -> str:
    """One paragraph stating the attributes plainly, in a librarian's order. With a ``focus`` (the
    attribute the user asked about: "what key is it in?") a direct answer comes first, then the
    paragraph; the answer cannot be left to the paragraph's order, because key, tempo and meter all
    live in its opening sentence and the chords sentence never says "chords"."""
    tempo = a["tempo"]
    w = words()
    sentences: list[tuple[str, str]] = []  # (topic, sentence)
    texture = a.get("texture", {}).get("kind", "")
    guess = a.get("genre", {})
    genre_name = guess.get("name", "piece")
    unsure = genre_name not in ("piece", "unknown") and guess.get("confidence", 1.0) < UNSURE_GENRE
    if unsure or genre_name == "unknown":  # say what is known, and the guess as a guess
        genre_name = "piece" + (f", possibly {_article(genre_name)} {genre_name}," if unsure else "")
    mood_words = a.get("mood", {}).get("words", [])[:2]
    lead = f"{' and '.join(mood_words)} {genre_name}" if mood_words else genre_name
    lead = _article(lead).capitalize() + " " + lead
    meter = a["meter"]
    hedge = "perhaps " if meter.get("confidence", 1.0) < HEDGE_METER else ""
    lead += f" in {a['key']['key']}" + f", {hedge}{meter['meter']} time"
    alternative = next((alt["bpm"] for alt in tempo.get("alternatives", [])[:1]
                        if alt["probability"] >= SAY_ALTERNATIVE_TEMPO), None)
    asides = [_threshold_word(w["tempo_marks"], tempo["bpm"])]
    if tempo.get("origin", "").startswith("heard"):
        asides.append("heard, as the file sets no tempo")
    if alternative:
        asides.append(f"it can also be counted at {alternative:.0f} BPM")
    if tempo.get("origin", "").startswith("assumed"):  # a score without a metronome mark
        lead += f", with no tempo marked (read at {tempo['bpm']:.0f} BPM)."
    else:
        lead += f", at a {_threshold_word(w['tempo_words'], tempo['bpm'])} {tempo['bpm']:.0f} BPM ({'; '.join(asides)})."
    sentences.append(("lead", lead))
    sentences.append(("texture", f"It lasts {_fmt_seconds(a['duration_s'])}, a "
                                 f"{_threshold_word(w['duration_words'], a['duration_s'])} piece"
                                 + (f" with a {texture} texture." if texture else ".")))
    names = [i["name"] for i in a.get("instruments", [])]
    if names:
        label = "Instruments heard (estimated)" if a.get("source") == "audio" else "It is scored for"
        sentences.append(("instruments", f"{label}: {', '.join(names[:5])}."))
    vocals = a.get("vocals")
    if vocals is not None and vocals.get("present") is not None:
        if a.get("source") == "audio":  # an estimate: say how sure it is
            sure = confidence_word(vocals.get("confidence", 0.0))
            sentences.append(("vocals", f"A singing voice is {sure} heard." if vocals["present"]
                              else f"It is {sure} instrumental."))
        else:
            if not vocals["present"]:
                sentences.append(("vocals", "It is instrumental."))
            elif vocals.get("evidence") == "parts named for voices":
                sentences.append(("vocals", "The file writes no words for them."))
            else:
                sentences.append(("vocals", "A voice carries the melody."))
    chords = a.get("chords", {})
    if chords.get("progression"):
        sentences.append(("chords", f"The harmony centres on {', '.join(chords['common'][:4])}; the most repeated "
                                    f"progression is {chords['progression']}."))
    rng = a.get("melodic_range")
    if rng:
        sentences.append(("range", f"The melody spans {rng['lowest']} to {rng['highest']} ({rng['semitones']} semitones)."))
    form = a.get("structure")
    if form and form.get("repeats"):
        sentences.append(("structure", form_sentence(form)))
    loud = a.get("loudness")
    if loud:
        sentences.append(("loudness", f"Loudness {loud['integrated_lufs']:.1f} LUFS with {loud['loudness_range_lu']:.1f} "
                                      "LU of dynamic range."))
    answer = focus_answer(a, focus) if focus else None
    if focus:
        sentences = _lead_with(sentences, focus)
    return " ".join(([answer] if answer else []) + [text for _, text in sentences])


def focus_answer(a: dict[str, Any], focus: str) -> str | None:
    """The direct answer to a question about one attribute, in a sentence (None when not measured)."""
    if focus == "key":
        key = a["key"]
        runner_up = next((name for name, _ in key.get("candidates", [])[1:2]), None)
        notated = a.get("notated_key")
        return (f"It is in {key['key']} ({confidence_word(key.get('confidence', 0.0))}"
                + (f"; the next likeliest key is {runner_up}" if runner_up else "")
                + (f"; the file notates {notated}" if notated and notated != key["key"] else "") + ").")
    if focus == "tempo":
        tempo = a["tempo"]
        origin = tempo.get("origin") or ("heard" if a.get("source") == "audio" else "file")
        if origin.startswith("assumed"):
            return f"No tempo is marked, so it is read at {tempo['bpm']:.0f} BPM."
        mark = _threshold_word(words()["tempo_marks"], tempo["bpm"])
        other = next((alt["bpm"] for alt in tempo.get("alternatives", [])[:1]
                      if alt["probability"] >= SAY_ALTERNATIVE_TEMPO), None)
        said = "as the file sets it" if origin == "file" else "as heard in the music"
        also = f"; it can also be counted at {other:.0f} BPM" if other else ""
        return f"The tempo is {tempo['bpm']:.0f} BPM ({mark}), {said}{also}."
    if focus == "meter":
        meter = a["meter"]
        hedge = "probably " if meter.get("confidence", 1.0) < HEDGE_METER else ""
        return f"It is {hedge}in {meter['meter']} time."
    if focus == "chords":
        chords = a.get("chords", {})
        timeline = chords.get("timeline", [])
        if not timeline:
            return None
        opening = " – ".join(f"{c['symbol']} ({c['roman']})" for c in timeline[:8])
        return f"The chords ({chords.get('origin', 'estimated')}) open {opening}."
    if focus == "mood":
        mood = a.get("mood", {}).get("words", [])[:3]
        return f"It sounds {', '.join(mood[:-1])} and {mood[-1]}." if len(mood) > 1 else (
            f"It sounds {mood[0]}." if mood else None)
    if focus == "structure":
        form = a.get("structure")
        if not form or form.get("repeats"):
            return None  # its sections sentence leads
        if len(form.get("sections", [])) > FORM_LIST_MAX:
            return f"No section comes back: its {len(form['sections'])} sections are all different."
        return f"No section comes back; its {form.get('phrase_bars', 4)}-bar phrases run {form['form']}."
    if focus == "loudness" and not a.get("loudness"):
        return "A score has no loudness to measure; only audio does."
    if focus == "genre":
        guess = a.get("genre", {})
        if guess.get("name") in (None, "piece", "unknown"):
            return None
        return f"It is {confidence_word(guess.get('confidence', 0.0))} {_article(guess['name'])} {guess['name']}."
    return None  # the other attributes have a sentence of their own in the paragraph; it goes first


def _lead_with(sentences: list[tuple[str, str]], topic: str) -> list[tuple[str, str]]:
    return [s for s in sentences if s[0] == topic] + [s for s in sentences if s[0] != topic]
