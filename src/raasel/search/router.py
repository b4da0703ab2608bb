"""Questions asked of a snapshot: search organizations, search groups, route a request.

Scores follow ``ranking.py``; each answer says why ("matches: refunds, double charges").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from raasel.search import ranking, reranker, text
from raasel.search.index import DirectoryIndex, GroupEntry, OrgEntry, Query, top_positions
from raasel.search.scoring import router_scores

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# A result one of whose groups' descriptions is this close in meaning passes the search
# filter without sharing a word. (Not the organization's profile: it holds identifiers,
# slugs and domains, whose rare tokens dominate a static embedding.)
SEMANTIC_MATCH = 0.75
# Requests of this many words or more are needs, ranked by the router (``is_need``); the
# organizations shown are those whose best group scores at least NEED_SHARE of the best
# one's and above NEED_FLOOR (scores in standard deviations, ranking.py).
NEED_WORDS = 3
# Results explained in the encoder of the request's language (the first: the matching team);
# the rest by the primary one. Cold USE phrase vectors cost ~8 ms per group (the bench).
REASONED = 1
NEED_SHARE = 0.5
NEED_FLOOR = 1.0


@dataclass(frozen=True, slots=True)
class GroupHit:
    org: OrgEntry
    group: GroupEntry
    score: float
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class OrgHit:
    org: OrgEntry
    score: float
    confidence: float
    reason: str
    groups: list[GroupHit] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Routing:
    groups: list[GroupHit]
    orgs: list[OrgHit]
    confidence: float
    is_confident: bool
    # Why it did not route by itself (None when it did, or had nothing to offer).
    not_routed_because: str | None = None
    # The confidence auto-routing needs in this scope (docs/decisions.md).
    threshold: float = ranking.ROUTER_AUTO_THRESHOLD


@dataclass(frozen=True, slots=True)
class Filters:
    category: str | None = None
    language: str | None = None

    def mask(self, index: DirectoryIndex) -> npt.NDArray[np.bool_]:
        keep = index.is_listed.copy()
        if self.category:
            wanted = self.category.lower()
            keep &= np.array([o.category.lower() == wanted for o in index.orgs], dtype=np.bool_)
        if self.language:
            keep &= np.array([self.language in o.languages for o in index.orgs], dtype=np.bool_)
        return keep


def route(
    index: DirectoryIndex, query: Query, *, org_id: str | None = None, limit: int = 3
) -> Routing:
    """The best groups for a request: inside ``org_id``, or across every listed organization.

    Scored by ``ranking.ROUTER_WEIGHTS`` (standardized features per candidate set, weights
    by language); confident when the calibrated confidence reaches the threshold.
    """
    if org_id is not None:
        position = index.org_position.get(org_id)
        if position is None:
            return Routing([], [], 0.0, False)
        candidates = index.groups_of(position)
        weights = reranker.shipped()
        if weights is None or not index.encoded:  # untrained, or lexical only: by hand
            scores = router_scores(index, query, candidates, with_orgs=False)
            return _decide(index, query, candidates, scores, limit, with_orgs=False)
        features = reranker.feature_matrix(index, query, candidates)
        scores = reranker.scores(weights, query.lang, features)

        def calibrated(margin: float, local: int) -> float:
            agreed = reranker.agreement(features, local)
            return reranker.confidence(weights, margin, agreed)

        return _decide(
            index,
            query,
            candidates,
            scores,
            limit,
            with_orgs=False,
            confidence_of=calibrated,
            threshold=weights.threshold,
        )
    keep = Filters().mask(index)
    candidates = np.flatnonzero(keep[index.group_org])
    scores = router_scores(index, query, candidates, with_orgs=True)
    return _decide(index, query, candidates, scores, limit, with_orgs=True)


def _margin_only(margin: float, local: int) -> float:
    del local
    return ranking.margin_confidence(margin)


def _decide(
    index: DirectoryIndex,
    query: Query,
    candidates: IntArray,
    scores: FloatArray,
    limit: int,
    *,
    with_orgs: bool,
    confidence_of: Callable[[float, int], float] = _margin_only,
    threshold: float = ranking.ROUTER_AUTO_THRESHOLD,
) -> Routing:
    """Ranks by s(g) (+ the promoted boost across organizations) and decides: confident
    when ``confidence_of(lead over the runner-up, candidate)`` of the best reaches
    ``threshold``."""
    if len(candidates) == 0 or (not query.words and not query.vectors):
        return Routing([], [], 0.0, False, threshold=threshold)
    orgs_of = index.group_org[candidates]
    final = scores
    if with_orgs:
        boost = np.float32(ranking.ROUTER_PROMOTED_BOOST)
        final = scores + boost * index.is_promoted[orgs_of].astype(np.float32)
    order = top_positions(final, max(limit * 20, 2) if with_orgs else max(limit, 2))
    best = float(final[order[0]])
    second = float(final[order[1]]) if len(order) > 1 else best - 10.0

    def confidence(local: int) -> float:
        rival = second if local == order[0] else best
        return round(confidence_of(float(final[local]) - rival, local), 4)

    index.builder.phrases_for([index.groups[int(candidates[i])] for i in order[:limit]])
    hits = []
    for rank, local in enumerate(order[:limit]):
        group = index.groups[int(candidates[local])]
        org = index.orgs[int(orgs_of[local])]
        hits.append(
            GroupHit(
                org,
                group,
                round(float(scores[local]), 4),
                confidence(int(local)),
                explain(index, query, group, org, first=rank < REASONED),
            )
        )
    org_hits: list[OrgHit] = []
    if with_orgs:
        seen: dict[int, OrgHit] = {}
        for local in order:
            position = int(orgs_of[local])
            if position not in seen:
                group = index.groups[int(candidates[local])]
                shown = next((h.reason for h in hits if h.group.id == group.id), None)
                seen[position] = OrgHit(
                    index.orgs[position],
                    round(float(scores[local]), 4),
                    confidence(int(local)),
                    shown or explain(index, query, group, index.orgs[position], first=False),
                )
            if len(seen) == limit:
                break
        org_hits = list(seen.values())
    top = hits[0].confidence
    # Standardized scores find a winner even in noise: a request with no content word
    # ("hello?") is never routed on its own, whatever the margin.
    is_confident = top >= threshold and bool(query.words)
    why = None
    if not query.words:
        why = "too little to go on: no word in the request says what it is about"
    elif not is_confident:
        runner_up = index.groups[int(candidates[order[1]])].name if len(order) > 1 else None
        close = f"; {runner_up} is a close second" if runner_up else ""
        why = (
            f"not sure enough: {hits[0].group.name} at {top:.0%} confidence, auto-routing "
            f"needs {threshold:.0%}{close}"
        )
    return Routing(hits, org_hits, top, is_confident, why, threshold)


def search_groups(
    index: DirectoryIndex, query: Query, filters: Filters, limit: int
) -> list[GroupHit]:
    """Groups of listed organizations matching ``query`` (the plan-plus search)."""
    if not query.words and query.vector is None:
        return []
    keep = filters.mask(index)
    candidates = np.flatnonzero(keep[index.group_org])
    rel = _global_group_scores(index, query, candidates)
    org_cover, group_cover = _coverage(index, query)
    cover = np.maximum(group_cover[candidates], org_cover[index.group_org[candidates]])
    meaning = index.semantic_only(query)
    close = meaning[1][candidates] if meaning is not None else None
    passes = _passes(query, cover, close)
    candidates, rel = candidates[passes], rel[passes]
    routing = _routing(index, query, candidates, rel, limit, with_orgs=False)
    return routing.groups


def search_orgs(index: DirectoryIndex, query: Query, filters: Filters, limit: int) -> list[OrgHit]:
    """Listed organizations matching ``query`` by their profile or by what a group handles."""
    keep = filters.mask(index)
    if not query.words:
        listed = [i for i in np.flatnonzero(keep)]
        listed.sort(key=lambda i: (not index.is_promoted[i], index.orgs[i].name.lower()))
        return [OrgHit(index.orgs[i], 0.0, 0.0, "") for i in listed[:limit]]
    if is_need(index, query):
        return _orgs_by_need(index, query, keep, limit)
    org_rel, _ = index.org_relevance(query)
    # Whole-description similarity is enough to rank organizations; phrases are for routing.
    group_rel, _ = index.group_relevance(query, refine=0)
    best_group = index.max_per_org(group_rel)
    rel = np.maximum(org_rel, ranking.with_org(best_group, org_rel))
    org_cover, _ = _coverage(index, query)
    meaning = index.semantic_only(query)
    close = None
    if meaning is not None:
        close = index.max_per_org(meaning[1])
    keep &= _passes(query, org_cover, close)
    candidates = np.flatnonzero(keep)
    final = ranking.promoted(rel[candidates], index.is_promoted[candidates])
    order = candidates[top_positions(final, limit)]
    conf = ranking.confidences(final)
    conf_of = dict(zip(candidates.tolist(), conf.tolist(), strict=True))
    best_groups = {}
    for position in order:
        groups = index.groups_of(int(position))
        if len(groups):
            best_groups[int(position)] = int(groups[np.argmax(group_rel[groups])])
    index.builder.phrases_for([index.groups[g] for g in best_groups.values()])  # one batch
    hits = []
    for position in order:
        org = index.orgs[position]
        best = best_groups.get(int(position))
        reason = explain(index, query, index.groups[best], org) if best is not None else ""
        hits.append(
            OrgHit(org, round(float(rel[position]), 4), round(conf_of[int(position)], 4), reason)
        )
    return hits


def is_need(index: DirectoryIndex, query: Query) -> bool:
    """A request in a sentence ("I was charged twice"), not a name: three words or more
    and no organization's name in it. Needs are ranked by the router."""
    if len(query.raw.split()) < NEED_WORDS:
        return False
    words = text.normalize(query.raw).split()
    raw = f" {' '.join(words)} "
    return not any(
        f" {name} " in raw
        for word in set(words)
        for name in index.names_by_first_word.get(word, ())
    )


def _orgs_by_need(
    index: DirectoryIndex, query: Query, keep: npt.NDArray[np.bool_], limit: int
) -> list[OrgHit]:
    """Organizations ranked by their best group for the request (the router's score); each
    hit carries that group (the team the app highlights)."""
    candidates = np.flatnonzero(keep[index.group_org])
    if len(candidates) == 0:
        return []
    scores = router_scores(index, query, candidates, with_orgs=True)
    every = np.full(len(index.groups), -np.inf, dtype=np.float32)
    every[candidates] = scores
    best = np.full(len(index.orgs), -np.inf, dtype=np.float32)
    np.maximum.at(best, index.group_org, every)
    boost = np.float32(ranking.ROUTER_PROMOTED_BOOST)
    final = (best + boost * index.is_promoted.astype(np.float32)).astype(np.float32)
    ranked = [int(i) for i in top_positions(final, limit) if np.isfinite(final[i])]
    if not ranked:
        return []
    floor = max(float(final[ranked[0]]) * NEED_SHARE, NEED_FLOOR)
    hits: list[OrgHit] = []
    for position in ranked:
        if final[position] < floor and hits:
            break
        groups = index.groups_of(position)
        group = int(groups[np.argmax(every[groups])])
        org = index.orgs[position]
        reason = explain(index, query, index.groups[group], org, first=len(hits) < REASONED)
        matching = GroupHit(org, index.groups[group], round(float(every[group]), 4), 0.0, reason)
        hits.append(OrgHit(org, round(float(best[position]), 4), 0.0, reason, [matching]))
    return hits


def _global_group_scores(index: DirectoryIndex, query: Query, candidates: IntArray) -> FloatArray:
    org_rel, _ = index.org_relevance(query)
    group_rel, _ = index.group_relevance(query, candidates)
    return ranking.with_org(group_rel, org_rel[index.group_org[candidates]])


def _coverage(index: DirectoryIndex, query: Query) -> tuple[FloatArray, FloatArray]:
    """Share of the query's words found in each organization (its profile or any group)
    and in each group (its text or its organization's profile)."""
    org_cover = np.zeros(len(index.orgs), dtype=np.float32)
    group_cover = np.zeros(len(index.groups), dtype=np.float32)
    if not query.words:
        return org_cover, group_cover
    for word in query.words:
        orgs, groups = index.documents_with(word)
        in_org = np.zeros(len(index.orgs), dtype=np.bool_)
        in_org[orgs] = True
        in_group = np.zeros(len(index.groups), dtype=np.bool_)
        in_group[groups] = True
        in_group |= in_org[index.group_org]
        in_org[index.group_org[groups]] = True
        org_cover += in_org
        group_cover += in_group
    count = np.float32(len(query.words))
    return org_cover / count, group_cover / count


def _passes(query: Query, cover: FloatArray, semantic: FloatArray | None) -> npt.NDArray[np.bool_]:
    """A search result shares every word of a short query, half of a longer one, or is
    very close in meaning by itself."""
    needed = 1.0 if len(query.words) <= 2 else 0.5
    passes = cover >= needed - 1e-6
    if semantic is not None:
        passes |= semantic >= SEMANTIC_MATCH
    return passes


def _routing(
    index: DirectoryIndex,
    query: Query,
    candidates: IntArray,
    rel: FloatArray,
    limit: int,
    *,
    with_orgs: bool,
) -> Routing:
    evidence = rel > 0  # a candidate nothing points to is no recommendation
    candidates, rel = candidates[evidence], rel[evidence]
    if len(candidates) == 0:
        return Routing([], [], 0.0, False)
    orgs_of = index.group_org[candidates]
    final = ranking.promoted(rel, index.is_promoted[orgs_of]) if with_orgs else rel
    conf = ranking.confidences(final)
    # Enough of the best to find ``limit`` distinct organizations in all but odd cases.
    order = top_positions(final, limit * 20 if with_orgs else limit)
    index.builder.phrases_for([index.groups[int(candidates[i])] for i in order[:limit]])
    hits = []
    for rank, local in enumerate(order[:limit]):
        group = index.groups[int(candidates[local])]
        org = index.orgs[int(orgs_of[local])]
        hits.append(
            GroupHit(
                org,
                group,
                round(float(rel[local]), 4),
                round(float(conf[local]), 4),
                explain(index, query, group, org, first=rank < REASONED),
            )
        )
    org_hits: list[OrgHit] = []
    if with_orgs:
        seen: dict[int, OrgHit] = {}
        for local in order:
            position = int(orgs_of[local])
            if position in seen:
                continue
            share = float(conf[orgs_of == position].sum())
            group = index.groups[int(candidates[local])]
            seen[position] = OrgHit(
                index.orgs[position],
                round(float(rel[local]), 4),
                round(share, 4),
                explain(index, query, group, index.orgs[position], first=False),
            )
            if len(seen) == limit:
                break
        org_hits = list(seen.values())
    top = float(conf[order[0]])
    return Routing(hits, org_hits, round(top, 4), top >= ranking.AUTO_ROUTE_THRESHOLD)


def explain(
    index: DirectoryIndex, query: Query, group: GroupEntry, org: OrgEntry, *, first: bool = True
) -> str:
    """A one-line reason a person can read: the group's topics closest to the request, by
    meaning under the encoder that serves the request's language for the ``first`` result
    (USE phrase vectors cost ~1 ms each to embed the first time), the primary one after."""
    encoder = _reason_encoder(index, query) if first else index.builder.primary_key
    phrases, vectors = index.builder.phrases_of(group, encoder)
    vector = query.vectors.get(encoder) if encoder else None
    words = set(query.words)
    scored: list[tuple[float, str]] = []
    for i, phrase in enumerate(phrases):
        shared = len(words & set(text.terms(phrase)))
        closeness = 0.0
        if vectors is not None and vector is not None:
            closeness = float(vectors[i] @ vector)
        if shared or closeness > 0.3:
            scored.append((shared + closeness, phrase))
    scored.sort(key=lambda s: -s[0])
    topics = [_short(p) for _, p in scored[:2]]
    if not topics:
        return f"no close match; {group.name} at {org.name}"
    return "matches: " + ", ".join(topics)


def _reason_encoder(index: DirectoryIndex, query: Query) -> str | None:
    """WordLlama (the primary) for English, USE for the other languages when present."""
    if query.lang != "en" and "use" in query.vectors:
        return "use"
    return index.builder.primary_key


def _short(phrase: str, limit: int = 48) -> str:
    phrase = " ".join(phrase.split())
    return phrase if len(phrase) <= limit else phrase[: limit - 1].rstrip() + "…"
