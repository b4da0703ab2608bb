"""The ranking formula of the directory and the router (docs/decisions.md).

Every score is a relevance in [0, 1]:

    lexical(d)  = bm25(q, d) / (bm25(q, d) + LEXICAL_HALF)
    cosine(d)   = (1 - PHRASE_MIX) * cos(q, whole text of d) + PHRASE_MIX * max cos(q, phrase of d)
    semantic(d) = clip(cosine(d) / COSINE_FULL, 0, 1)
    rel(d)      = SEMANTIC_WEIGHT * semantic(d) + (1 - SEMANTIC_WEIGHT) * lexical(d)
                  (rel = lexical when no embedding model is installed)

A group found across organizations also carries its organization's relevance:
``GROUP_WEIGHT * rel(group) + (1 - GROUP_WEIGHT) * rel(org)``.

Promoted organizations get ``final = rel + PROMOTED_BOOST``, only for results that already
matched. So a promoted result passes a free one only when the free one is at most
``PROMOTED_BOOST`` more relevant: a result more relevant by more than that ("clearly more
relevant") always stays above it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

LEXICAL_HALF = 6.0
PHRASE_MIX = 0.4
COSINE_FULL = 0.6
SEMANTIC_WEIGHT = 0.65
GROUP_WEIGHT = 0.5
PROMOTED_BOOST = 0.05

# Confidence: softmax of the candidates' scores at this temperature, times how relevant
# the top one is on its own (a clear winner among poor matches is not confident).
CONFIDENCE_TEMPERATURE = 0.05
CONFIDENT_RELEVANCE = 0.6
# At or above this confidence the router routes without asking (precision measured by
# ``python -m raasel.search.evaluation``; docs/benchmarks.md).
AUTO_ROUTE_THRESHOLD = 0.8


def lexical(bm25: FloatArray) -> FloatArray:
    return (bm25 / (bm25 + np.float32(LEXICAL_HALF))).astype(np.float32)


def semantic(cosine: FloatArray) -> FloatArray:
    clipped: FloatArray = np.clip(cosine / np.float32(COSINE_FULL), 0.0, 1.0)
    return clipped.astype(np.float32)


def blend_cosine(whole: FloatArray, best_phrase: FloatArray | np.float32) -> FloatArray:
    return ((1 - PHRASE_MIX) * whole + PHRASE_MIX * best_phrase).astype(np.float32)


def relevance(lexical_part: FloatArray, semantic_part: FloatArray | None) -> FloatArray:
    if semantic_part is None:
        return lexical_part
    mixed = SEMANTIC_WEIGHT * semantic_part + (1 - SEMANTIC_WEIGHT) * lexical_part
    return mixed.astype(np.float32)


def with_org(group_rel: FloatArray, org_rel: FloatArray) -> FloatArray:
    return (GROUP_WEIGHT * group_rel + (1 - GROUP_WEIGHT) * org_rel).astype(np.float32)


def promoted(rel: FloatArray, is_promoted: npt.NDArray[np.bool_]) -> FloatArray:
    """The final ranking score: relevance plus the bounded boost of promoted organizations."""
    return (rel + np.float32(PROMOTED_BOOST) * is_promoted.astype(np.float32)).astype(np.float32)


def confidences(scores: FloatArray) -> FloatArray:
    """How sure we are of each candidate (they sum to at most 1)."""
    if scores.size == 0:
        return scores
    shifted: FloatArray = np.exp((scores - scores.max()) / np.float32(CONFIDENCE_TEMPERATURE))
    share: FloatArray = shifted / shifted.sum()
    strength = min(1.0, float(scores.max()) / CONFIDENT_RELEVANCE)
    return (share * np.float32(strength)).astype(np.float32)
