"""The router's score of each candidate group (second generation; ``ranking.py`` has the
formula and the weights, docs/decisions.md "The router, second generation" the reasons).

Features are standardized over the candidate set, so one organization's four groups and
every listed group are scored by the same code; cosines against every group are computed
once per query and snapshot (memoized on the query).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from raasel.search import ranking
from raasel.search.index import DirectoryIndex, Query

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
# Below this many candidates, cosines are computed for them alone.
SMALL = 1000


def router_scores(
    index: DirectoryIndex, query: Query, candidates: IntArray, *, with_orgs: bool
) -> FloatArray:
    """s(g) of ``ranking.py`` for each candidate group (and its organization's profile)."""
    bm25, _ = index.group_bm25.scores(query.words)
    scores = _weighted(index, query, "group", candidates, bm25[candidates])
    if not with_orgs:
        scores = scores + _best_phrase(index, query, candidates)
    if with_orgs:
        org_bm25, _ = index.org_bm25.scores(query.words)
        every = np.arange(len(index.orgs))
        org_scores = _weighted(index, query, "org", every, org_bm25)
        scores = scores + org_scores[index.group_org[candidates]]
    return scores


def _weighted(
    index: DirectoryIndex, query: Query, kind: str, rows: IntArray, bm25: FloatArray
) -> FloatArray:
    table = ranking.ROUTER_WEIGHTS if kind == "group" else ranking.ORG_WEIGHTS
    weights = table.get(query.lang, table["en"])
    if not any(k in index.encoded and k in query.vectors for k in weights if k != "lexical"):
        weights = ranking.LEXICAL_ONLY  # no encoder this language needs: lexical alone
    total = np.zeros(len(rows), dtype=np.float32)
    for feature, weight in weights.items():
        if feature == "lexical":
            values = np.log1p(bm25).astype(np.float32)
        elif feature in index.encoded and feature in query.vectors:
            values = _encoder_cosines(index, query, feature, kind, rows)
        else:
            continue
        total += np.float32(weight) * ranking.standardized(values)
    return total


def _encoder_cosines(
    index: DirectoryIndex, query: Query, key: str, kind: str, rows: IntArray
) -> FloatArray:
    orgs, groups = index.encoded[key]
    vectors = orgs if kind == "org" else groups
    if len(rows) < SMALL:  # one organization's groups: no need to score every group
        return vectors[rows] @ query.vectors[key]
    memo = (id(index), f"{key}:{kind}")
    found = query.memo.get(memo)
    if found is None:
        found = query.memo[memo] = vectors @ query.vectors[key]
    return found if len(rows) == len(vectors) else found[rows]


def _best_phrase(index: DirectoryIndex, query: Query, candidates: IntArray) -> FloatArray:
    """Inside one organization: ``ranking.PHRASE_WEIGHT`` times the standardized USE cosine
    of the request with the closest phrase of each group's description (its topics, one by
    one). Phrase vectors are embedded once per description (the builder's LRU)."""
    vector = query.vectors.get("use")
    if vector is None or "use" not in index.encoded or len(candidates) == 0:
        return np.zeros(len(candidates), dtype=np.float32)
    found = index.builder.phrases_for([index.groups[int(i)] for i in candidates], "use")
    best = np.array(
        [
            float((vectors @ vector).max()) if vectors is not None and len(vectors) else 0.0
            for _, vectors in found
        ],
        dtype=np.float32,
    )
    return (np.float32(ranking.PHRASE_WEIGHT) * ranking.standardized(best)).astype(np.float32)
