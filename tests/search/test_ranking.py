"""The ranking engine: terms, BM25, embedding cache, the promoted boost's bound."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import numpy as np
import pytest

from raasel.search import ranking
from raasel.search.bm25 import Bm25Index
from raasel.search.embedding import load_embedder
from raasel.search.evaluation import DEFAULT_DATA, entries, load_dataset
from raasel.search.index import DirectoryIndex, GroupEntry, IndexBuilder, OrgEntry
from raasel.search.router import Filters, route, search_groups, search_orgs
from raasel.search.text import terms


def test_terms_are_stemmed_unaccented_and_keep_compounds() -> None:
    found = terms("Refunded the DOUBLE charges at acme.example, remboursé")
    assert {"refund", "doubl", "charg", "acme.example", "acm", "exampl"} <= set(found)
    assert "the" not in found and "rembours" in found  # accents gone: "remboursé" == "rembourse"


def test_bm25_prefers_the_rarer_and_more_frequent_term() -> None:
    index = Bm25Index([["refund", "card"], ["card", "card"], ["login"]])
    scores, hits = index.scores(["refund", "card"])
    assert scores[0] > scores[1] > scores[2] == 0
    assert hits.tolist() == [2, 1, 0]


class CountingEmbedder:
    name = "counting"
    dimensions = 4

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += texts
        rows = [[len(t) % 7 + 1, t.count("e") + 1, 1.0, len(t.split())] for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), 4)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectors_are_embedded_once_per_text_not_per_query() -> None:
    embedder = CountingEmbedder()
    builder = IndexBuilder(embedder)
    org = OrgEntry("1", "acme", "Acme", "Shop", "retail", (), (), ("en",), True, "free")
    billing = GroupEntry("10", "1", "billing", "Billing", "Refunds and invoices", False)
    tech = GroupEntry("11", "1", "tech", "Tech", "Crashes", False)
    builder.build([org], [billing, tech])
    first = len(embedder.embedded)
    builder.build([org], [billing, tech])  # nothing changed: nothing embedded
    assert len(embedder.embedded) == first
    edited = GroupEntry("11", "1", "tech", "Tech", "Crashes and login errors", False)
    index = builder.build([org], [billing, edited])
    assert embedder.embedded[first:] == [edited.text]  # only the edited description
    before = len(embedder.embedded)
    for _ in range(3):
        route(index, builder.query("refund please"), org_id="1")
    per_query = len(embedder.embedded) - before
    # Queries embed their own text; phrase vectors are cached after the first query.
    assert per_query <= 3 + len(billing.phrases()) + len(edited.phrases())


def _dataset_index(promoted: set[str], model: bool = True) -> tuple[IndexBuilder, DirectoryIndex]:
    orgs, _ = load_dataset(DEFAULT_DATA)
    org_entries, group_entries = entries(orgs)
    org_entries = [
        OrgEntry(
            o.id, o.slug, o.name, o.description, o.category, o.domains, o.tags,
            o.languages, o.is_listed, "promoted" if o.slug in promoted else "free",
        )
        for o in org_entries
    ]  # fmt: skip
    builder = IndexBuilder(load_embedder() if model else None)
    return builder, builder.build(org_entries, group_entries)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_promoted_never_passes_a_clearly_more_relevant_result(seed: int) -> None:
    rng = random.Random(seed)
    orgs, queries = load_dataset(DEFAULT_DATA)
    promoted = {o["slug"] for o in orgs if rng.random() < 0.4}
    builder, index = _dataset_index(promoted)
    for item in rng.sample(queries, 25):
        query = builder.query(item["text"])
        hits = search_orgs(index, query, Filters(), 50)
        for above, below in itertools.pairwise(hits):
            # Anything ranked lower is never clearly (by more than the boost) more relevant.
            assert below.score <= above.score + ranking.PROMOTED_BOOST + 1e-4, (item, above, below)
            if above.org.plan == below.org.plan:
                assert below.score <= above.score + 1e-4
        groups = route(index, query, limit=10).groups
        for above, below in itertools.pairwise(groups):
            assert below.score <= above.score + ranking.PROMOTED_BOOST + 1e-4


def test_promoted_lifts_among_comparably_relevant_results() -> None:
    rel = np.array([0.70, 0.68, 0.40], dtype=np.float32)
    final = ranking.promoted(rel, np.array([False, True, True]))
    assert list(np.argsort(-final)) == [1, 0, 2]  # 0.68 + boost passes 0.70; 0.40 does not


def test_unlisted_and_filtered_out_orgs_never_appear() -> None:
    builder, index = _dataset_index(set(), model=False)
    bank = index.orgs[index.org_position["northwind-bank"]]
    unlisted = OrgEntry(
        bank.id, bank.slug, bank.name, bank.description, bank.category, bank.domains,
        bank.tags, bank.languages, False, "promoted",
    )  # fmt: skip
    others = [o for o in index.orgs if o.id != bank.id]
    hidden = builder.build([unlisted, *others], index.groups)
    query = builder.query("my card was declined at the atm")
    assert all(h.org.slug != "northwind-bank" for h in search_orgs(hidden, query, Filters(), 50))
    assert all(h.org.slug != "northwind-bank" for h in route(hidden, query, limit=10).groups)
    assert all(h.org.slug != "northwind-bank" for h in search_groups(hidden, query, Filters(), 50))
    # Routing inside it still works (its own widget's visitors).
    assert route(hidden, query, org_id=bank.id).groups[0].group.slug == "cards"
    french = search_orgs(index, builder.query("bank"), Filters(language="ar"), 50)
    assert all("ar" in h.org.languages for h in french)
    banking = search_orgs(index, builder.query("card"), Filters(category="banking"), 50)
    assert [h.org.slug for h in banking] == ["northwind-bank"]


def test_lexical_fallback_without_a_model_still_routes() -> None:
    builder, index = _dataset_index(set(), model=False)
    routing = route(
        index, builder.query("my card was swallowed by the ATM"), org_id="northwind-bank"
    )
    assert routing.groups[0].group.slug == "cards"
    assert routing.groups[0].reason.startswith("matches:")
