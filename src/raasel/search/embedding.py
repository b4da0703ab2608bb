"""Sentence embeddings from a local model, behind a small interface.

The default is WordLlama (static token embeddings, 256 dimensions, weights inside the
wheel: no network, no API key, ~0.5 s to load, well under a millisecond per query). It is
loaded once per process, lazily. When it is not installed (or ``RAASEL_EMBEDDING_MODEL``
is ``none``) there is no embedder and the directory ranks lexically only.
Why this model: docs/decisions.md, "Directory search and the AI router".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Texts in, one L2-normalized float32 row per text out (cosine = dot product)."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> FloatMatrix: ...


class WordLlamaEmbedder:
    name = "wordllama-l2-supercat-256"
    dimensions = 256

    def __init__(self) -> None:
        import wordllama

        # Its default lookup tries to download; the weights ship inside the package.
        folder = Path(wordllama.__file__).resolve().parent
        self._model = wordllama.WordLlama.load(
            cache_dir=folder, disable_download=True, dim=self.dimensions
        )

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)
        return vectors


_lock = threading.Lock()
_loaded: dict[str, Embedder | None] = {}


def load_embedder(model: str = "wordllama") -> Embedder | None:
    """The process's embedder for ``model`` (loaded at the first call), or None."""
    with _lock:
        if model not in _loaded:
            _loaded[model] = _load(model)
        return _loaded[model]


def _load(model: str) -> Embedder | None:
    if model == "wordllama":
        try:
            return WordLlamaEmbedder()
        except ImportError:
            return None
    return None
