"""The routing evaluation runs on the committed data set and meets the issue's floors."""

from __future__ import annotations

from raasel.search.evaluation import DEFAULT_DATA, render, run


def test_hybrid_router_meets_the_accuracy_floors() -> None:
    report = run(DEFAULT_DATA)
    assert report["model"] is not None, "the embedding model (wordllama) must be installed"
    assert report["queries"] >= 250
    lexical, hybrid = report["lexical"], report["hybrid"]
    org_en = hybrid["accuracy"]["org/en"]
    assert org_en["top1"] >= 0.85, org_en
    assert org_en["top3"] >= 0.95, org_en
    # Clearly better than the lexical baseline, overall and on English in both scopes.
    for key in ("all/all", "org/en", "global/en"):
        assert hybrid["accuracy"][key]["top1"] >= lexical["accuracy"][key]["top1"] + 0.04, key
    auto = hybrid["auto_route"]
    assert auto["precision"] >= 0.95, auto
    assert auto["coverage"] >= 0.3, auto  # it does route a good share without asking
    assert "hybrid top-1" in render(report)
