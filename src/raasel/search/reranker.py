"""The router's learned reranker inside one organization (issue 14; docs/decisions.md,
"The router's reranker").

Each candidate group of one organization gets a row of features, each standardized over
the organization's groups (z-scores, so encoders with different cosine scales add up):
BM25, and the cosine of the request with the group's whole text (name, description,
example requests) and with its closest description phrase or example request under
each encoder. The score
is a linear combination with weights by language family (English, or any other
language, which WordLlama does not serve): a conditional logit fitted by
``python -m raasel.search.reranker_training`` on ``data/routing-eval`` and the **dev**
split of ``data/routing-heldout`` only. The weights ship in ``reranker_weights.json``.

Its confidence is a logistic in the margin between the two best groups and in how many
single features agree on the best one, fitted on out-of-fold scores of the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from raasel.search import ranking
from raasel.search.index import DirectoryIndex, GroupEntry, Query

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

WEIGHTS_FILE = Path(__file__).with_name("reranker_weights.json")
FEATURES = (
    "lexical",
    "use",
    "wordllama",
    "use_phrase",
    "wordllama_phrase",
    "use_example",
    "wordllama_example",
)
# The single features whose best group is counted as a "vote" for the confidence.
VOTERS = ("lexical", "use", "wordllama", "use_phrase", "wordllama_phrase")


def family(lang: str) -> str:
    """The weight set of a language: ``en``, or ``other`` (French, Spanish, Arabic)."""
    return "en" if lang == "en" else "other"


@dataclass(frozen=True, slots=True)
class Weights:
    """What ``reranker_training`` fitted: feature weights and the confidence map."""

    features: dict[str, dict[str, float]]  # family -> feature -> weight
    confidence: dict[str, float]  # margin, agreement, bias
    threshold: float

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Weights:
        features = data["features"]
        confidence = data["confidence"]
        threshold = data["threshold"]
        assert isinstance(features, dict) and isinstance(confidence, dict)
        assert isinstance(threshold, int | float)
        return cls(
            {str(k): {str(f): float(w) for f, w in v.items()} for k, v in features.items()},
            {str(k): float(v) for k, v in confidence.items()},
            float(threshold),
        )


@cache
def shipped() -> Weights | None:
    """The weights in the repository (None before the first training)."""
    if not WEIGHTS_FILE.exists():
        return None
    return Weights.from_json(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))


def feature_matrix(index: DirectoryIndex, query: Query, candidates: IntArray) -> FloatArray:
    """One row per candidate, one column per ``FEATURES`` entry, standardized over the
    candidates; a feature without its encoder (in this stack or for this query) is 0."""
    columns = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
    if len(candidates) == 0:
        return columns
    bm25, _ = index.group_bm25.scores(query.words)
    columns[:, 0] = ranking.standardized(np.log1p(bm25[candidates]).astype(np.float32))
    groups = [index.groups[int(i)] for i in candidates]
    for key in ("use", "wordllama"):
        vector = query.vectors.get(key)
        if vector is None or key not in index.encoded:
            continue
        whole = index.encoded[key][1][candidates] @ vector
        columns[:, FEATURES.index(key)] = ranking.standardized(whole)
        best = _best_phrase(index, groups, key, vector)
        columns[:, FEATURES.index(f"{key}_phrase")] = ranking.standardized(best)
        examples = _best_example(index, groups, key, vector, best)
        columns[:, FEATURES.index(f"{key}_example")] = ranking.standardized(examples)
    return columns


def _best_phrase(
    index: DirectoryIndex, groups: list[GroupEntry], key: str, vector: FloatArray
) -> FloatArray:
    """The closest of each group's description phrases."""
    found = index.builder.phrases_for(groups, key)
    return np.array(
        [float((v @ vector).max()) if v is not None and len(v) else 0.0 for _, v in found],
        dtype=np.float32,
    )


def _best_example(
    index: DirectoryIndex,
    groups: list[GroupEntry],
    key: str,
    vector: FloatArray,
    phrases: FloatArray,
) -> FloatArray:
    """The closest of each group's example requests, or of its phrases when closer (a
    group without examples has its best phrase: examples alone are no bonus)."""
    best = phrases.copy()
    for i, vectors in enumerate(index.builder.examples_for(groups, key)):
        if vectors is not None and len(vectors):
            best[i] = max(best[i], float((vectors @ vector).max()))
    return best


def scores(weights: Weights, lang: str, features: FloatArray) -> FloatArray:
    table = weights.features.get(family(lang), weights.features["en"])
    w = np.array([table.get(f, 0.0) for f in FEATURES], dtype=np.float32)
    result: FloatArray = (features @ w).astype(np.float32)
    return result


def agreement(features: FloatArray, best: int) -> float:
    """Share of the single features (``VOTERS``) whose own best candidate is ``best``;
    features that are all zero (no encoder) do not vote."""
    votes = counted = 0
    for name in VOTERS:
        column = features[:, FEATURES.index(name)]
        if not column.any():
            continue
        counted += 1
        votes += int(np.argmax(column)) == best
    return votes / counted if counted else 0.0


def confidence(weights: Weights, margin: float, agreed: float) -> float:
    c = weights.confidence
    z = c["margin"] * margin + c["agreement"] * agreed + c["bias"]
    return float(1.0 / (1.0 + np.exp(-z)))
