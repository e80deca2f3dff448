"""Lyrics capability: find_rhymes, analyze_lyrics and write_lyrics, offline.

Modules: `pronounce` (CMUdict + G2P, syllables), `rhymes` (rhyme index and kinds), `analysis`
(schemes, meter, warnings), `theme` (MiniLM topic lexicon), `writer` (rhyme-first lyric writer).
Heavy parts load on first use, so importing this package is cheap.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.registry import Tool, ToolContext, ToolResult


class FindRhymesArgs(BaseModel):
    word: str = Field(min_length=1, max_length=40, description="the word to rhyme")
    kind: Literal["perfect", "near", "assonance", "consonance", "multisyllabic", "all"] = Field(
        default="all", description="rhyme kind")
    syllables: int | None = Field(default=None, ge=1, le=12, description="only results with this many syllables")
    limit: int = Field(default=30, ge=1, le=500, description="most results to return")


class AnalyzeLyricsArgs(BaseModel):
    text: str = Field(min_length=1, max_length=50_000, description="lyrics; [verse]/[chorus] tags and blank lines mark sections")


class WriteLyricsArgs(BaseModel):
    topic: str = Field(min_length=1, max_length=2000, description="what the song is about")
    genre: str | None = Field(default=None, max_length=60)
    mood: str | None = Field(default=None, max_length=60)
    rhyme_scheme: str = Field(default="ABAB", max_length=12, description="e.g. ABAB, AABB, ABCB")
    structure: str = Field(default="verse chorus verse chorus bridge chorus", max_length=200)
    syllables_per_line: int | None = Field(default=None, ge=3, le=16)
    title: str | None = Field(default=None, max_length=120)
    seed: int = 0


def _find_rhymes(args: FindRhymesArgs, ctx: ToolContext) -> ToolResult:
    from tools.lyrics.rhymes import find_rhymes

    found = find_rhymes(args.word, args.kind, syllables=args.syllables, limit=args.limit)
    items = [{"word": r.word, "kind": r.kind, "score": r.score, "syllables": r.syllables, "zipf": r.zipf,
              "multiword": r.multiword} for r in found]
    head = ", ".join(r.word for r in found[:12])
    summary = (f"{len(found)} {args.kind if args.kind != 'all' else ''} rhymes for “{args.word}”: {head}"
               if found else f"No {args.kind} rhymes found for “{args.word}”.").replace("  ", " ")
    return ToolResult(kind="rhymes", summary=summary, data={"word": args.word, "kind": args.kind, "rhymes": items})


def _analyze_lyrics(args: AnalyzeLyricsArgs, ctx: ToolContext) -> ToolResult:
    from tools.lyrics.analysis import analyze

    result = analyze(args.text)
    summary = (f"{len(result.lines)} lines in {len(result.stanzas)} stanzas; schemes "
               f"{', '.join(result.schemes)}; meter: {result.meter}.")
    if result.warnings:
        summary += f" {len(result.warnings)} warning(s): " + "; ".join(result.warnings[:3])
    return ToolResult(kind="analysis", summary=summary, data=result.to_dict())


def _write_lyrics(args: WriteLyricsArgs, ctx: ToolContext) -> ToolResult:
    from tools.lyrics.writer import write_lyrics

    draft = write_lyrics(args.topic, genre=args.genre, mood=args.mood, rhyme_scheme=args.rhyme_scheme,
                         structure=args.structure, syllables_per_line=args.syllables_per_line, title=args.title,
                         seed=args.seed)
    path = ctx.workdir / "lyrics.txt"
    path.write_text(f"{draft.title}\n\n{draft.text()}", encoding="utf-8")
    summary = f"“{draft.title}”: {' / '.join(s.name for s in draft.sections)}, scheme {draft.rhyme_scheme}."
    return ToolResult(kind="lyrics", summary=summary, data=draft.to_dict(), files={"lyrics": path}, seed=args.seed)


find_rhymes = Tool(
    name="find_rhymes",
    description=("Find rhymes for a word, offline (CMUdict + G2P for unknown words). Args: word, kind "
                 "(perfect|near|assonance|consonance|multisyllabic|all), syllables (optional filter), limit. "
                 "Ranked by rhyme quality then word frequency; includes multi-word rhymes."),
    args_model=FindRhymesArgs, run=_find_rhymes)

analyze_lyrics = Tool(
    name="analyze_lyrics",
    description=("Analyse lyrics: syllables, stress pattern, end word and rhyme letter per line; rhyme scheme per "
                 "stanza; internal rhymes; meter guess; singability warnings. Args: text ([verse]/[chorus] tags ok)."),
    args_model=AnalyzeLyricsArgs, run=_analyze_lyrics)

write_lyrics = Tool(
    name="write_lyrics",
    description=("Write song lyrics on a topic with a rhyme scheme and form; the chorus repeats. Args: topic, genre, "
                 "mood, rhyme_scheme (ABAB|AABB|ABCB…), structure ('verse chorus verse chorus bridge chorus'), "
                 "syllables_per_line, title, seed. Returns lyrics.txt with [verse]/[chorus] tags."),
    args_model=WriteLyricsArgs, run=_write_lyrics)

TOOLS = [write_lyrics, find_rhymes, analyze_lyrics]
