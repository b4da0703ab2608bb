"""An immutable in-memory snapshot of the directory: texts, BM25 indexes and vectors.

``IndexBuilder`` makes snapshots from records and keeps what is expensive between them:
each text's terms, and each organization's and group's vector keyed by its id and its
exact text, so a rebuild only embeds what changed (a group whose description was edited),
never anything per query.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from raasel.search import ranking, text
from raasel.search.bm25 import Bm25Index
from raasel.search.embedding import Embedder, EmbeddingStack

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# "Refunds are handled by Billing" names another team's topic: never a reason for this one.
_HAND_OVER = re.compile(r"\b(handled by|go(es)? to|hand(ed)? over|belongs? to)\b", re.IGNORECASE)
# Groups whose description phrases refine the semantic score (the best by whole text).
REFINE = 12
# Below this many candidates, cosines are computed for them alone, not for every group.
SMALL = 1000
_PHRASE_SPLIT = re.compile(r"[.;:!?()]\s*|,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def top_positions(scores: FloatArray, count: int) -> IntArray:
    """Positions of the ``count`` highest scores, best first (ties: lower position first),
    without sorting everything."""
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, count)[:count]
    return part[np.lexsort((part, -scores[part]))]


@dataclass(frozen=True, slots=True)
class OrgEntry:
    id: str
    slug: str
    name: str
    description: str
    category: str
    domains: tuple[str, ...]
    tags: tuple[str, ...]
    languages: tuple[str, ...]
    is_listed: bool
    plan: str

    @property
    def text(self) -> str:
        return " . ".join(
            [self.name, self.slug, *self.domains, self.category, *self.tags, self.description]
        )


@dataclass(frozen=True, slots=True)
class GroupEntry:
    id: str
    org_id: str
    slug: str
    name: str
    description: str
    is_default: bool
    # Requests an admin wrote as examples (any language), embedded with the description.
    examples: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if not self.examples:
            return f"{self.name}. {self.description}"
        return f"{self.name}. {self.description} " + " ".join(self.examples)

    def phrases(self) -> list[str]:
        """The topics a description lists, one per phrase: "refunds", "double charges"."""
        parts = (p.strip(" -'\"") for p in _PHRASE_SPLIT.split(self.description))
        topics = (p for p in parts if len(p) > 2 and not _HAND_OVER.search(p))
        return [self.name, *dict.fromkeys(topics)]


@dataclass(frozen=True, slots=True)
class Query:
    """A query prepared once: its terms, its guessed language and its vectors."""

    raw: str
    words: list[str]
    vector: FloatArray | None  # the primary encoder's (organization search, reasons)
    lang: str = "en"
    vectors: dict[str, FloatArray] = field(default_factory=dict)  # by encoder key
    # Per-snapshot results computed once per query (cosines against every text).
    memo: dict[tuple[int, str], FloatArray] = field(default_factory=dict)


class IndexBuilder:
    """Builds snapshots; caches terms and vectors across them (thread-safe)."""

    def __init__(
        self, embedder: EmbeddingStack | Embedder | None, phrase_cache_size: int = 4_000
    ) -> None:
        if embedder is not None and not isinstance(embedder, EmbeddingStack):
            embedder = EmbeddingStack.of(embedder)
        self.stack = embedder
        self.embedder = embedder.primary if embedder is not None else None
        self.primary_key = embedder.primary_key if embedder is not None else None
        self._lock = threading.Lock()  # builds (in a worker thread)
        self._phrase_lock = threading.Lock()  # phrase vectors (asked for by queries)
        self._vectors: dict[str, tuple[str, FloatArray]] = {}
        self._terms: dict[str, list[str]] = {}
        self._phrases: OrderedDict[tuple[str, str, str], tuple[list[str], FloatArray]] = (
            OrderedDict()
        )
        self._phrase_cache_size = phrase_cache_size

    def query(self, raw: str) -> Query:
        vectors: dict[str, FloatArray] = {}
        if self.stack is not None and raw.strip():
            vectors = {k: e.embed([raw])[0] for k, e in self.stack.encoders.items()}
        vector = vectors.get(self.primary_key) if self.primary_key else None
        return Query(raw, text.query_words(raw), vector, text.guess_language(raw), vectors)

    def build(self, orgs: Sequence[OrgEntry], groups: Sequence[GroupEntry]) -> DirectoryIndex:
        with self._lock:
            org_terms = [self._terms_of(o.text) for o in orgs]
            group_terms = [self._terms_of(g.text) for g in groups]
            encoded: dict[str, tuple[FloatArray, FloatArray]] = {}
            for key, encoder in (self.stack.encoders if self.stack else {}).items():
                org_keys = [f"{key}:o:{o.id}" for o in orgs]
                group_keys = [f"{key}:g:{g.id}" for g in groups]
                encoded[key] = (
                    self._encode(encoder, org_keys, [o.text for o in orgs]),
                    self._encode(encoder, group_keys, [g.text for g in groups]),
                )
            org_vectors, group_vectors = encoded.get(self.primary_key or "", (None, None))
            keys = self.stack.encoders if self.stack else {}
            live = {f"{k}:o:{o.id}" for o in orgs for k in keys}
            live |= {f"{k}:g:{g.id}" for g in groups for k in keys}
            for key in [k for k in self._vectors if k not in live]:
                del self._vectors[key]
            live_texts = {o.text for o in orgs} | {g.text for g in groups}
            for key in [k for k in self._terms if k not in live_texts]:
                del self._terms[key]
        return DirectoryIndex(
            self, orgs, groups, org_terms, group_terms, org_vectors, group_vectors, encoded
        )

    def _terms_of(self, value: str) -> list[str]:
        found = self._terms.get(value)
        if found is None:
            found = self._terms[value] = text.terms(value)
        return found

    def _encode(self, encoder: Embedder, keys: list[str], texts: list[str]) -> FloatArray:
        """Vectors of ``texts`` under ``encoder``; only texts new or changed are embedded."""
        missing = [
            i
            for i, (k, t) in enumerate(zip(keys, texts, strict=True))
            if self._vectors.get(k, ("", None))[0] != t
        ]
        if missing:
            fresh = encoder.embed([texts[i] for i in missing])
            for row, i in enumerate(missing):
                self._vectors[keys[i]] = (texts[i], fresh[row])
        if not keys:
            return np.zeros((0, encoder.dimensions), dtype=np.float32)
        stacked = np.stack([self._vectors[k][1] for k in keys]).astype(np.float32)
        for i, key in enumerate(keys):  # the cache keeps rows of the snapshot's matrix, not
            self._vectors[key] = (texts[i], stacked[i])  # a second copy of every vector
        return stacked

    def phrases_of(
        self, group: GroupEntry, encoder: str | None = None
    ) -> tuple[list[str], FloatArray | None]:
        """A group's phrases and their vectors, embedded once per description (LRU)."""
        return self.phrases_for([group], encoder)[0]

    def phrases_for(
        self, groups: Sequence[GroupEntry], encoder: str | None = None
    ) -> list[tuple[list[str], FloatArray | None]]:
        """Phrases and vectors of several groups under ``encoder`` (default: the primary);
        the missing ones embedded in one batch."""
        return self._pieces_for(groups, encoder, "phrases")

    def examples_for(self, groups: Sequence[GroupEntry], encoder: str) -> list[FloatArray | None]:
        """The vectors of each group's example requests under ``encoder`` (same LRU)."""
        return [vectors for _, vectors in self._pieces_for(groups, encoder, "examples")]

    def _pieces_for(
        self, groups: Sequence[GroupEntry], encoder: str | None, kind: str
    ) -> list[tuple[list[str], FloatArray | None]]:
        def pieces(group: GroupEntry) -> list[str]:
            return group.phrases() if kind == "phrases" else list(group.examples)

        chosen = encoder or self.primary_key
        model = self.stack.encoders.get(chosen) if self.stack and chosen else None
        if model is None or chosen is None:
            return [(pieces(g), None) for g in groups]
        with self._phrase_lock:
            found: dict[tuple[str, str, str], tuple[list[str], FloatArray]] = {}
            missing: dict[tuple[str, str, str], list[str]] = {}
            for group in groups:
                key = (f"{chosen}:{kind}", group.id, group.text)
                cached = self._phrases.get(key)
                if cached is not None:
                    self._phrases.move_to_end(key)
                    found[key] = cached
                elif key not in missing:
                    missing[key] = pieces(group)
            if missing:
                flat = [p for phrases in missing.values() for p in phrases]
                vectors = model.embed(flat)
                start = 0
                for key, phrases in missing.items():
                    entry = (phrases, vectors[start : start + len(phrases)])
                    start += len(phrases)
                    found[key] = self._phrases[key] = entry
                while len(self._phrases) > self._phrase_cache_size:
                    self._phrases.popitem(last=False)
            answer: list[tuple[list[str], FloatArray | None]] = []
            for group in groups:
                phrases, vectors_of = found[(f"{chosen}:{kind}", group.id, group.text)]
                answer.append((phrases, vectors_of))
            return answer


class DirectoryIndex:
    """One snapshot. Read-only after construction, so queries need no lock."""

    def __init__(
        self,
        builder: IndexBuilder,
        orgs: Sequence[OrgEntry],
        groups: Sequence[GroupEntry],
        org_terms: list[list[str]],
        group_terms: list[list[str]],
        org_vectors: FloatArray | None,
        group_vectors: FloatArray | None,
        encoded: dict[str, tuple[FloatArray, FloatArray]] | None = None,
    ) -> None:
        self.builder = builder
        encoded = dict(encoded or {})
        self.orgs = list(orgs)
        self.groups = list(groups)
        self.org_position = {o.id: i for i, o in enumerate(self.orgs)}
        self.group_org: IntArray = np.array(
            [self.org_position.get(g.org_id, -1) for g in self.groups], dtype=np.int64
        )
        keep = self.group_org >= 0
        if not keep.all():  # a group whose organization is not in the snapshot
            self.groups = [g for g, k in zip(self.groups, keep, strict=True) if k]
            group_terms = [t for t, k in zip(group_terms, keep, strict=True) if k]
            group_vectors = group_vectors[keep] if group_vectors is not None else None
            encoded = {k: (o, g[keep]) for k, (o, g) in encoded.items()}
            self.group_org = self.group_org[keep]
        order = np.argsort(self.group_org, kind="stable")
        bounds = np.searchsorted(self.group_org[order], np.arange(len(self.orgs) + 1))
        self._groups_of = [order[bounds[i] : bounds[i + 1]] for i in range(len(self.orgs))]
        self._by_org = order
        self._has_groups = bounds[1:] > bounds[:-1]
        self._starts = bounds[:-1][self._has_groups]
        self.org_bm25 = Bm25Index(org_terms)
        self.group_bm25 = Bm25Index(group_terms)
        self.org_vectors = org_vectors
        self.group_vectors = group_vectors
        self.encoded = encoded  # every encoder's (organization, group) vectors
        self.is_listed = np.array([o.is_listed for o in self.orgs], dtype=np.bool_)
        # Organization names by their first word, normalized once per snapshot: "is this
        # request naming an organization?" must not normalize 10,000 names per query.
        self.names_by_first_word: dict[str, list[str]] = {}
        for org in self.orgs:
            name = " ".join(text.normalize(org.name).split())
            if name:
                self.names_by_first_word.setdefault(name.split()[0], []).append(name)
        self.is_promoted = np.array([o.plan == "promoted" for o in self.orgs], dtype=np.bool_)

    @property
    def has_vectors(self) -> bool:
        return self.group_vectors is not None

    def groups_of(self, org_position: int) -> IntArray:
        return self._groups_of[org_position]

    def max_per_org(self, values: FloatArray) -> FloatArray:
        """For each organization, the largest value among its groups (0 without groups)."""
        best = np.zeros(len(self.orgs), dtype=np.float32)
        if len(self._starts):
            best[self._has_groups] = np.maximum.reduceat(values[self._by_org], self._starts)
        return best

    def _cosines(self, query: Query, kind: str) -> FloatArray | None:
        """Cosine of the query with every organization's or group's whole text (memoized)."""
        vectors = self.org_vectors if kind == "org" else self.group_vectors
        if query.vector is None or vectors is None:
            return None
        key = (id(self), kind)
        found = query.memo.get(key)
        if found is None:
            found = query.memo[key] = vectors @ query.vector
        return found

    def org_relevance(self, query: Query) -> tuple[FloatArray, FloatArray]:
        """Every organization's own relevance (its profile text) and lexical hits."""
        bm25, hits = self.org_bm25.scores(query.words)
        cosines = self._cosines(query, "org")
        semantic = ranking.semantic(cosines) if cosines is not None else None
        return ranking.relevance(ranking.lexical(bm25), semantic), hits

    def group_relevance(
        self, query: Query, candidates: IntArray | None = None, refine: int = REFINE
    ) -> tuple[FloatArray, FloatArray]:
        """Relevance of each group in ``candidates`` (all when None), and its lexical hits.

        The whole-description cosine ranks everything; the best-phrase cosine refines the
        ``refine`` best only (it needs each group's phrase vectors).
        """
        bm25, hits = self.group_bm25.scores(query.words)
        if candidates is not None:
            bm25, hits = bm25[candidates], hits[candidates]
        lexical = ranking.lexical(bm25)
        if query.vector is None or self.group_vectors is None:
            return lexical, hits
        if (
            candidates is not None
            and len(candidates) < SMALL
            and (id(self), "group") not in query.memo
        ):
            whole = self.group_vectors[candidates] @ query.vector  # one organization's groups
        else:
            cosines = self._cosines(query, "group")
            assert cosines is not None
            whole = cosines if candidates is None else cosines[candidates]
        rel = ranking.relevance(lexical, ranking.semantic(whole))
        best = top_positions(rel, refine)
        chosen = [self.groups[int(i if candidates is None else candidates[i])] for i in best]
        for local, (_, phrase_vectors) in zip(best, self.builder.phrases_for(chosen), strict=True):
            assert phrase_vectors is not None
            top_phrase = np.float32((phrase_vectors @ query.vector).max())
            cosine = ranking.blend_cosine(whole[local : local + 1], top_phrase)
            rel[local] = ranking.relevance(lexical[local : local + 1], ranking.semantic(cosine))[0]
        return rel, hits

    def semantic_only(self, query: Query) -> tuple[FloatArray, FloatArray] | None:
        """Each organization's and each group's semantic relevance alone (None without a
        model)."""
        org_cosines, group_cosines = self._cosines(query, "org"), self._cosines(query, "group")
        if org_cosines is None or group_cosines is None:
            return None
        return ranking.semantic(org_cosines), ranking.semantic(group_cosines)

    def documents_with(self, word: str) -> tuple[IntArray, IntArray]:
        """Positions of the organizations and of the groups whose text holds ``word``."""
        return self.org_bm25.documents_with(word), self.group_bm25.documents_with(word)
