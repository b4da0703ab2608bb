"""The reranker's shipped weights are what its training script fits, from data that holds
no test-split request (docs/decisions.md, "The router's reranker")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from raasel.search import reranker, reranker_training
from raasel.search.evaluation import HELDOUT_DATA, load_dataset


@pytest.fixture(scope="module")
def rows() -> list[reranker_training.Choice]:
    return reranker_training.choices()


def test_the_training_data_holds_no_test_split_request(
    rows: list[reranker_training.Choice],
) -> None:
    orgs, queries = load_dataset(HELDOUT_DATA)
    test_orgs = {f"dev:{o['slug']}" for o in orgs if o["split"] == "test"}
    dev_org_scoped = [q for q in queries if q["split"] == "dev" and q["scope"] == "org"]
    assert not test_orgs & {r.org for r in rows}
    assert sum(r.source == "dev" for r in rows) == len(dev_org_scoped)


def test_the_shipped_weights_are_what_the_script_fits(
    rows: list[reranker_training.Choice],
) -> None:
    shipped = json.loads(reranker.WEIGHTS_FILE.read_text(encoding="utf-8"))
    fitted = reranker_training.fit_all(rows)
    for family, weights in fitted.items():
        for feature, weight in weights.items():
            assert shipped["features"][family][feature] == pytest.approx(weight, abs=2e-3)
    made = reranker_training.decisions(rows, reranker_training.out_of_fold(rows))
    confidence = reranker_training.fit_confidence(made)
    for key, value in confidence.items():
        assert shipped["confidence"][key] == pytest.approx(value, abs=2e-3)
    table = reranker.Weights({}, confidence, 0.0)
    dev = [
        (reranker.confidence(table, m, a), ok)
        for (m, a, ok), r in zip(made, rows, strict=True)
        if r.source == "dev"
    ]
    chosen = reranker_training.choose_threshold([c for c, _ in dev], [ok for _, ok in dev], 0.95)
    assert chosen["threshold"] == shipped["threshold"] == reranker.shipped().threshold  # type: ignore[union-attr]
    assert chosen["precision"] >= 0.97 and chosen["coverage"] >= 0.4


def test_agreement_counts_the_features_that_pick_the_same_group() -> None:
    features = np.zeros((3, len(reranker.FEATURES)), dtype=np.float32)
    features[:, reranker.FEATURES.index("lexical")] = [1.0, 0.0, -1.0]
    features[:, reranker.FEATURES.index("use")] = [0.0, 1.0, -1.0]
    # wordllama and the phrase features are all zero (no encoder): they do not vote.
    assert reranker.agreement(features, 0) == 0.5
    assert reranker.agreement(features, 2) == 0.0
    weights = reranker.shipped()
    assert weights is not None
    assert reranker.confidence(weights, 3.0, 1.0) > reranker.confidence(weights, 3.0, 0.2)
    assert reranker.confidence(weights, 3.0, 1.0) > reranker.confidence(weights, 0.5, 1.0)
