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
from raasel.search.router import Filters, is_need, route, search_groups, search_orgs
from raasel.search.text import guess_language, terms


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
        # Needs are ranked by the router, on its scale (standard deviations).
        boost = ranking.ROUTER_PROMOTED_BOOST if is_need(index, query) else ranking.PROMOTED_BOOST
        for above, below in itertools.pairwise(hits):
            # Anything ranked lower is never clearly (by more than the boost) more relevant.
            assert below.score <= above.score + boost + 1e-4, (item, above, below)
            if above.org.plan == below.org.plan:
                assert below.score <= above.score + 1e-4
        groups = route(index, query, limit=10).groups
        for above, below in itertools.pairwise(groups):
            assert below.score <= above.score + ranking.ROUTER_PROMOTED_BOOST + 1e-4
            if above.org.plan == below.org.plan:
                assert below.score <= above.score + 1e-4


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


def test_language_guess_picks_the_weights() -> None:
    assert guess_language("كم القسط السنوي") == "ar"
    assert guess_language("je voudrais changer la date de mon vol") == "fr"
    assert guess_language("mi maleta no llegó") == "es"
    assert guess_language("my parcel never arrived") == "en"
    assert guess_language("1234") == "en"


class TwoEncoders:
    """A stack of two counting encoders, as ``multilingual`` has."""

    def __init__(self) -> None:
        from raasel.search.embedding import EmbeddingStack

        self.use, self.wordllama = CountingEmbedder(), CountingEmbedder()
        self.stack = EmbeddingStack("two", {"use": self.use, "wordllama": self.wordllama})


def test_every_encoder_embeds_each_group_once_and_examples_count() -> None:
    encoders = TwoEncoders()
    builder = IndexBuilder(encoders.stack)
    org = OrgEntry("1", "acme", "Acme", "Shop", "retail", (), (), ("en",), True, "free")
    billing = GroupEntry("10", "1", "billing", "Billing", "Invoices", False)
    tech = GroupEntry("11", "1", "tech", "Tech", "Crashes", False)
    index = builder.build([org], [billing, tech])
    assert set(index.encoded) == {"use", "wordllama"}
    texts = ("refund please", "l'appli plante", "التطبيق لا يعمل")
    for text in texts:  # the first pass also embeds the reasons' phrases, once per group
        route(index, builder.query(text), org_id="1")
    assert not {billing.text, tech.text} & set(encoders.use.embedded[3:])  # built once
    before = len(encoders.use.embedded)
    for text in texts:
        route(index, builder.query(text), org_id="1")
        route(index, builder.query(text))
    assert encoders.use.embedded[before:] == [t for t in texts for _ in (1, 2)]  # queries only
    with_examples = GroupEntry(
        "10", "1", "billing", "Billing", "Invoices", False, ("charged twice", "débité 2 fois")
    )
    assert "charged twice" in with_examples.text  # examples are embedded with the description
    before = len(encoders.use.embedded)
    builder.build([org], [with_examples, tech])
    assert encoders.use.embedded[before:] == [with_examples.text]


def _heldout() -> tuple[IndexBuilder, DirectoryIndex]:
    from raasel.search.evaluation import HELDOUT_DATA

    orgs, _ = load_dataset(HELDOUT_DATA)
    builder = IndexBuilder(load_embedder())
    return builder, builder.build(*entries(orgs))


def test_a_need_finds_the_organizations_that_handle_it() -> None:
    builder, index = _heldout()
    query = builder.query("I was charged twice")
    assert is_need(index, query)
    found = [h.org.slug for h in search_orgs(index, query, Filters(), 10)]
    # A wallet, a ride app, a bank, a marketplace, a charger network: all take payments.
    assert len(found) >= 3
    assert {"kiosk-pay", "sahel-ride", "halden-bank", "cartwheel", "voltway"} & set(found[:3])
    assert not is_need(index, builder.query("kiosk pay"))
    assert not is_need(index, builder.query("is Kiosk Pay down today"))  # a name: search


def test_the_router_says_why_it_did_not_route() -> None:
    builder, index = _heldout()
    vague = route(index, builder.query("hello i have a question"), org_id="kiosk-pay")
    assert not vague.is_confident
    assert vague.not_routed_because and "auto-routing needs" in vague.not_routed_because
    clear = route(index, builder.query("the wifi password on my box"), org_id="atlas-fibre")
    assert clear.groups[0].group.slug == "box-wifi"
    if clear.is_confident:
        assert clear.not_routed_because is None
