"""write_lyrics: scheme rhymes, syllable targets, refrains, variety across topics, LLM path, tools and CLI."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from tools.lyrics.evaluate import SCHEMES, TOPICS, evaluate
from tools.lyrics.writer import write_lyrics
from tools.music.errors import TunesmithError

SAMPLE_TOPICS = TOPICS[:4]  # the full 20 x 3 run is bench/lyrics.py


@pytest.fixture(scope="module")
def sample():
    return evaluate(SAMPLE_TOPICS, SCHEMES, seed=0)


def test_scheme_pairs_rhyme_and_lines_hit_the_syllable_target(sample):
    stats, _ = sample
    assert stats.pairs >= 4 * 3 * 6
    assert stats.rhyme_rate >= 0.95, stats.failures[:10]
    assert stats.syllable_rate >= 0.90, stats.failures[:10]


def test_topics_do_not_share_more_than_a_refrain(sample):
    stats, _ = sample
    assert stats.max_shared_lines <= stats.refrain_lines


def test_refrain_repeats_and_other_lines_do_not(sample):
    _, drafts = sample
    for draft in drafts.values():
        choruses = [s.lines for s in draft.sections if s.kind == "chorus"]
        assert len(choruses) == 3 and choruses[0] == choruses[1] == choruses[2]
        others = Counter(l.lower() for s in draft.sections if s.kind != "chorus" for l in s.lines)
        assert max(others.values()) == 1
        assert [s.name for s in draft.sections] == ["verse 1", "chorus", "verse 2", "chorus", "bridge", "chorus"]
        assert draft.text().startswith("[verse 1]\n")


def test_on_topic_theme_words(sample):
    _, drafts = sample
    ocean = drafts[("summer at the ocean", "ABAB")]
    assert {"ocean", "beach", "sea", "shore", "wave"} & set(ocean.theme_words)
    words = " ".join(l for s in ocean.sections for l in s.lines).lower()
    assert any(w in words for w in ("ocean", "beach", "sea", "shore", "wave", "sand", "summer", "sun"))


def test_same_seed_same_lyrics_other_seed_differs():
    a = write_lyrics("a storm at sea", rhyme_scheme="AABB", structure="verse chorus", seed=5)
    b = write_lyrics("a storm at sea", rhyme_scheme="AABB", structure="verse chorus", seed=5)
    c = write_lyrics("a storm at sea", rhyme_scheme="AABB", structure="verse chorus", seed=6)
    assert a.text() == b.text() and a.text() != c.text()


def test_custom_syllables_structure_and_title():
    draft = write_lyrics("a wolf howling at the moon", rhyme_scheme="AABBA", structure="verse prechorus chorus outro",
                         syllables_per_line=6, title="Howl")
    assert draft.title == "Howl"
    assert [s.kind for s in draft.sections] == ["verse", "prechorus", "chorus", "outro"]
    assert len(draft.sections[0].lines) == 5 and len(draft.sections[1].lines) == 2
    assert draft.syllable_targets["verse"] == 6


class FakeModel:
    """Stands in for a LangChain chat model: answers the first try badly, then well."""

    def __init__(self):
        self.prompts = []

    def invoke(self, prompt):
        self.prompts.append(prompt)
        rhyme = prompt.split("\n", 1)[0].split(": ", 1)[1]
        if len(self.prompts) % 2 == 1:
            return "this line ignores the request entirely and runs on far too long for any melody"
        return type("Message", (), {"content": f"we sing about the {rhyme}" if rhyme else ""})()


def test_llm_lines_are_validated_and_regenerated():
    model = FakeModel()
    draft = write_lyrics("summer at the ocean", structure="verse", syllables_per_line=6, llm=model, seed=1)
    assert draft.source == "llm"
    assert all(p.startswith("Rhyme word: ") for p in model.prompts)
    assert len(model.prompts) >= 2 * len(draft.sections[0].lines) - 1
    # accepted lines end with their rhyme word; rejected answers never reach the lyrics
    assert not any("ignores the request" in l for l in draft.sections[0].lines)


def test_llm_failures_fall_back_to_the_embedded_writer():
    class Broken:
        def invoke(self, prompt):
            raise RuntimeError("server down")

    draft = write_lyrics("summer at the ocean", structure="verse", llm=Broken())
    assert draft.source == "embedded" and len(draft.sections[0].lines) == 4


@pytest.mark.parametrize("kwargs", [{"topic": ""}, {"topic": "x", "rhyme_scheme": "AB1"},
                                    {"topic": "x", "structure": "verse solo"}, {"topic": "x", "structure": ""},
                                    {"topic": "x", "syllables_per_line": 40}, {"topic": "x" * 2500}])
def test_bad_arguments(kwargs):
    topic = kwargs.pop("topic")
    with pytest.raises(TunesmithError):
        write_lyrics(topic, **kwargs)


def test_tools_in_the_registry(tmp_path):
    from tools.lyrics import TOOLS
    from tools.registry import Registry, ToolContext

    assert [t.name for t in TOOLS] == ["write_lyrics", "find_rhymes", "analyze_lyrics"]
    registry = Registry(TOOLS)
    assert {s["function"]["name"] for s in registry.openai_schemas()} == {t.name for t in TOOLS}
    ctx = ToolContext(workdir=tmp_path)
    written = registry.get("write_lyrics").invoke({"topic": "coffee on a rainy morning", "structure": "verse chorus"}, ctx)
    assert written.files["lyrics"].read_text().count("[chorus]") == 1
    analysed = registry.get("analyze_lyrics").invoke({"text": written.data["text"]}, ctx)
    assert analysed.data["schemes"] == ["ABAB", "ABAB"]
    rhymes = registry.get("find_rhymes").invoke({"word": "rain", "kind": "perfect", "limit": 5}, ctx)
    assert len(rhymes.data["rhymes"]) == 5
    with pytest.raises(TunesmithError):
        registry.get("find_rhymes").invoke({"word": "rain", "kind": "wrong"}, ctx)


def test_cli(tmp_path):
    import typer

    from ui.commands import lyrics as lyrics_commands

    app = typer.Typer()
    lyrics_commands.register(app)
    runner = CliRunner()
    out = runner.invoke(app, ["rhyme", "heart", "--kind", "perfect", "--limit", "3", "--json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.output)["rhymes"]) == 3
    poem = tmp_path / "poem.txt"
    poem.write_text("Twinkle, twinkle, little star,\nHow I wonder what you are!\n")
    out = runner.invoke(app, ["lyrics", "analyze", str(poem), "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["schemes"] == ["AA"]
    out = runner.invoke(app, ["lyrics", "analyze", "-"], input="Up above the world so high\nLike a diamond in the sky\n")
    assert out.exit_code == 0 and "AA" in out.output
    out = runner.invoke(app, ["lyrics", "write", "a road trip across the desert", "--scheme", "AABB",
                              "--structure", "verse chorus", "--json"])
    assert out.exit_code == 0, out.output
    assert [s["kind"] for s in json.loads(out.output)["sections"]] == ["verse", "chorus"]
    out = runner.invoke(app, ["lyrics", "analyze", str(tmp_path / "missing.txt")])
    assert out.exit_code != 0 and isinstance(out.exception, TunesmithError)
    assert "does not exist" in str(out.exception)


def test_shipped_vocabulary_embeddings_match_the_model():
    import numpy as np

    from tools.lyrics import theme
    from tools.lyrics.writer import vocabulary

    words = vocabulary().words
    path = theme.packaged_path(words)
    assert path.is_file(), "vocabulary changed: run tools.lyrics.theme.save_packaged(vocabulary().words)"
    shipped = np.load(path).astype(np.float32)
    assert shipped.shape == (len(words), 384)
    sample = [0, len(words) // 2, len(words) - 1]
    fresh = theme.embed([words[i] for i in sample])
    np.testing.assert_allclose(shipped[sample], fresh, atol=2e-3)
