"""Offline grapheme-to-phoneme for words CMUdict lacks: g2p-en's trained GRU, run in numpy.

Why not ``import g2p_en``: its import pulls NLTK and inflect (~10 s on a busy 2-core machine) and
calls ``nltk.download`` (fails offline). The model itself is a 1-layer GRU encoder-decoder whose
weights ship in the wheel as ``checkpoint20.npz``; this module locates that file without importing
the package and runs the same greedy decoding (a few milliseconds a word).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

GRAPHEMES = ["<pad>", "<unk>", "</s>"] + list("abcdefghijklmnopqrstuvwxyz")
PHONEMES = ["<pad>", "<unk>", "<s>", "</s>"] + (
    "AA0 AA1 AA2 AE0 AE1 AE2 AH0 AH1 AH2 AO0 AO1 AO2 AW0 AW1 AW2 AY0 AY1 AY2 B CH D DH EH0 EH1 EH2 "
    "ER0 ER1 ER2 EY0 EY1 EY2 F G HH IH0 IH1 IH2 IY0 IY1 IY2 JH K L M N NG OW0 OW1 OW2 OY0 OY1 OY2 P R "
    "S SH T TH UH0 UH1 UH2 UW UW0 UW1 UW2 V W Y Z ZH").split()
MAX_PHONEMES = 20  # the trained decoder's horizon


def checkpoint_path() -> Path | None:
    """Where g2p-en's weights lie, or None when g2p-en is not installed."""
    spec = find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "checkpoint20.npz"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def _weights() -> dict | None:
    path = checkpoint_path()
    if path is None:
        return None
    import numpy as np  # deferred: only words outside CMUdict need it

    with np.load(path) as data:
        return {k: data[k].astype(np.float32) for k in data.files}


def available() -> bool:
    """True when the neural G2P can run here."""
    return _weights() is not None


def _gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    import numpy as np

    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    split = gi.shape[-1] * 2 // 3
    rz = 1.0 / (1.0 + np.exp(-(gi[:, :split] + gh[:, :split])))
    r, z = np.split(rz, 2, axis=-1)
    n = np.tanh(gi[:, split:] + r * gh[:, split:])
    return (1 - z) * n + z * h


def predict(word: str) -> list[str]:
    """ARPAbet phonemes for a lowercase word (letters outside a-z count as unknown).

    Returns an empty list when g2p-en is not installed.
    """
    w = _weights()
    if w is None or not word:
        return []
    import numpy as np

    index = {g: i for i, g in enumerate(GRAPHEMES)}
    ids = [index.get(c, 1) for c in word.lower()] + [2]
    h = np.zeros((1, w["enc_w_hh"].shape[-1]), np.float32)
    for i in ids:
        h = _gru_cell(w["enc_emb"][[i]], h, w["enc_w_ih"], w["enc_w_hh"], w["enc_b_ih"], w["enc_b_hh"])
    dec = w["dec_emb"][[2]]  # <s>
    out: list[str] = []
    for _ in range(MAX_PHONEMES):
        h = _gru_cell(dec, h, w["dec_w_ih"], w["dec_w_hh"], w["dec_b_ih"], w["dec_b_hh"])
        pred = int((h @ w["fc_w"].T + w["fc_b"]).argmax())
        if pred == 3:  # </s>
            break
        out.append(PHONEMES[pred])
        dec = w["dec_emb"][[pred]]
    return [p for p in out if not p.startswith("<")]
