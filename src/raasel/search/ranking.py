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


# --- The router (second generation; docs/decisions.md, "The router, second generation") ---
#
# Each candidate group g of a candidate set C (one organization's groups, or every listed
# group) has features: lexical = log(1 + bm25), and the cosine of the request with the
# group's text (name, description, examples) under each encoder. Each feature is
# standardized over C (z-score), so encoders with different cosine scales add up:
#
#     s(g) = sum_f W[lang][f] * z_C(f(g))      (+ the same over organizations' profiles,
#                                               ORG_FEATURES, when routing across them)
#
# W depends on the language guessed from the request: the English weights were fitted
# (conditional logit) on data/routing-eval, the others set by hand on it and checked on
# the dev split of data/routing-heldout; the test split was never used to choose anything.
ROUTER_WEIGHTS: dict[str, dict[str, float]] = {
    "en": {"lexical": 0.65, "use": 1.11, "wordllama": 0.85},
    "fr": {"lexical": 0.3, "use": 1.0},
    "es": {"lexical": 0.3, "use": 1.0},
    "ar": {"use": 1.0},
}
ORG_WEIGHTS: dict[str, dict[str, float]] = {
    "en": {"lexical": 0.5, "use": 0.18, "wordllama": 0.77},
    "fr": {"lexical": 0.2, "use": 1.0},
    "es": {"lexical": 0.2, "use": 1.0},
    "ar": {"use": 1.0},
}
# Inside one organization the learned reranker (reranker.py) ranks; without its weights or
# without an encoder, the formula above plus the USE cosine with each group's closest
# description phrase (standardized like the others) at this weight, in every language: chosen on
# data/routing-eval and the dev split (org-scoped top-1 there: en 87.2 -> 89.9 and
# 89.5 -> 90.4, ar 61 -> 67 and 71 -> 88, fr 87 -> 100 and 87.5 -> 87.5). Not across
# organizations: there it cost global English top-1 on the dev split (decisions.md).
PHRASE_WEIGHT = 0.4
# Without an encoder for a language's weights (a stack without USE), lexical stands in.
LEXICAL_ONLY = {"lexical": 1.0}
# Promoted organizations' groups get this many standard deviations on top, only when
# routing across organizations: a result clearly more relevant (by more) stays above.
ROUTER_PROMOTED_BOOST = 0.25
# Across organizations, confidence that the top group is right: logistic in the margin
# (s1 - s2) between the best and the second-best candidate, fitted on the global requests
# of data/routing-eval. Auto-routing happens at or above ROUTER_AUTO_THRESHOLD, chosen on
# the global requests of the dev split and of data/routing-eval as the lowest confidence
# whose auto-routed precision there was at least 97% (95% + a safety margin of 2 points)
# with the Wilson interval's lower end at least 92% (``python -m raasel.search.calibration``).
# Inside one organization the reranker has its own (reranker.py). Test-split precision:
# docs/benchmarks.md.
CALIBRATION_SLOPE = 1.004
CALIBRATION_BIAS = 0.405
ROUTER_AUTO_THRESHOLD = 0.9


def standardized(values: FloatArray) -> FloatArray:
    """(x - mean) / std over one candidate set; all-equal values give zeros."""
    if values.size == 0:
        return values
    spread = float(values.std())
    centred = values - np.float32(values.mean())
    return (centred / np.float32(spread if spread > 1e-6 else 1.0)).astype(np.float32)


def margin_confidence(margin: float) -> float:
    """Probability that the best candidate is right, from its lead over the second."""
    return float(1.0 / (1.0 + np.exp(-(CALIBRATION_SLOPE * margin + CALIBRATION_BIAS))))
