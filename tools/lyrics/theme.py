"""Theme lexicon: how close each vocabulary word is to a song's topic, by the packaged MiniLM.

Why: the embedded writer has no language model; what keeps a lyric on topic is choosing its
nouns, verbs, adjectives and rhyme words from the topic's semantic neighbourhood. The vocabulary is
embedded once (the matrix is cached under ``settings().cache_dir``), so a new topic costs one
sentence embedding (~25 ms) after the model has loaded.

Without the model (package missing) the score falls back to word overlap with the topic, so the
writer still works, less on topic.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _encoder():
    """(tokenizer, model) of the packaged all-MiniLM-L6-v2, loaded offline, or None."""
    import os

    from tools.music.resources import minilm_path

    path = minilm_path()
    if path is None:
        return None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch  # deferred: heavy
        from transformers import AutoModel, AutoTokenizer

        try:
            from tools.config import settings

            torch.set_num_threads(max(1, int(getattr(settings(), "threads", 1) or 1)))
        except Exception:  # noqa: BLE001 - thread count is a tuning knob, not a requirement
            pass
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on the user's terminal
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModel.from_pretrained(str(path)).eval()
    except Exception:  # noqa: BLE001 - a broken model install degrades to word overlap
        return None
    return tokenizer, model


def available() -> bool:
    return _encoder() is not None


def embed(texts: list[str], batch: int = 64):
    """L2-normalised MiniLM sentence embeddings (mean pooling, as sentence-transformers does)."""
    import numpy as np
    import torch

    enc = _encoder()
    if enc is None:
        raise RuntimeError("MiniLM is not installed")
    tokenizer, model = enc
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            chunk = texts[start:start + batch]
            tokens = tokenizer(chunk, padding=True, truncation=True, max_length=64, return_tensors="pt")
            hidden = model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).float()
            vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(vectors, dim=1)
            out.append(vectors.numpy().astype(np.float32))
    return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


def _cache_path(words: tuple[str, ...]) -> Path | None:
    try:
        from tools.config import settings

        digest = hashlib.sha1("\n".join(words).encode()).hexdigest()[:16]
        return settings().cache_dir / "lyrics" / f"vocab-minilm-{digest}.npy"
    except Exception:  # noqa: BLE001
        return None


PACKAGED = Path(__file__).parent / "data"


def packaged_path(words: tuple[str, ...]) -> Path:
    """Where the shipped embeddings of this exact word list lie (float16; rebuilt by `save_packaged`)."""
    digest = hashlib.sha1("\n".join(words).encode()).hexdigest()[:16]
    return PACKAGED / f"vocab-minilm-{digest}.npy"


def save_packaged(words: tuple[str, ...]) -> Path:
    """Embed ``words`` and store them next to the code, so a fresh install skips ~20 s of embedding."""
    import numpy as np

    path = packaged_path(words)
    for old in PACKAGED.glob("vocab-minilm-*.npy"):
        old.unlink()
    np.save(path, embed(list(words)).astype(np.float16))
    return path


@lru_cache(maxsize=4)
def vocabulary_matrix(words: tuple[str, ...]):
    """Embeddings of ``words`` (rows in order): shipped file, else the user cache, else computed and cached."""
    import numpy as np

    shipped = packaged_path(words)
    if shipped.is_file():
        try:
            matrix = np.load(shipped).astype(np.float32)
            if matrix.shape[0] == len(words):
                return matrix
        except (OSError, ValueError):
            pass
    path = _cache_path(words)
    if path is not None and path.is_file():
        try:
            matrix = np.load(path)
            if matrix.shape[0] == len(words):
                return matrix
        except (OSError, ValueError):
            pass
    matrix = embed(list(words))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")  # concurrent writers never collide
            np.save(tmp, matrix)
            tmp.replace(path)
        except OSError:
            pass
    return matrix


def theme_scores(query: str, words: tuple[str, ...]) -> list[float]:
    """Cosine similarity of each word to the query (topic, mood, genre), in order."""
    if available():
        import numpy as np

        matrix = vocabulary_matrix(words)
        q = embed([query])[0]
        return [float(x) for x in np.asarray(matrix @ q)]
    topic_words = set(re.findall(r"[a-z]+", query.lower()))
    return [1.0 if w in topic_words else 0.0 for w in words]
