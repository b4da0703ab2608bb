"""Fitting the router's reranker and its auto-routing rule, without the test split.

    python -m raasel.search.reranker_training [--write] [--precision 0.95]

1. Every org-scoped request of ``data/routing-eval`` and of the **dev** split of
   ``data/routing-heldout`` becomes a choice among its organization's groups, described by
   ``reranker.feature_matrix``. A conditional logit (softmax over the groups, L2 penalty)
   per language family gives the feature weights.
2. Out-of-fold scores (folds by organization: a request is scored by weights fitted
   without any request about its organization) give each request's margin between the two
   best groups and the agreement of the single features; a logistic in them is the
   confidence.
3. The auto-routing threshold is the lowest confidence (0.01 grid) at which the dev
   split's out-of-fold auto-routed requests were right at least ``--precision`` + ``SAFETY``
   of the time and the lower end of the 95% Wilson interval is at least ``--precision`` -
   ``SLACK``, with at least ``MIN_ROUTED`` of them routed (``calibration.threshold_for``).

``--write`` stores the result in ``reranker_weights.json``. The test split is never read
here: ``raasel.search.evaluation`` reports on it (docs/decisions.md).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from raasel.search import reranker
from raasel.search.calibration import threshold_for as choose_threshold
from raasel.search.embedding import load_embedder
from raasel.search.evaluation import DEFAULT_DATA, HELDOUT_DATA, entries, load_dataset
from raasel.search.index import IndexBuilder

FloatArray = npt.NDArray[np.float64]
PENALTY = 10.0  # L2 on the weights (per family), chosen by the out-of-fold accuracy
DEV_WEIGHT = 2.0  # a dev request counts this many times (written like the test's)
FOLDS = 8
SEED = 14


@dataclass
class Choice:
    features: FloatArray
    right: int
    lang: str
    source: str  # "eval" or "dev"
    org: str


def choices() -> list[Choice]:
    stack = load_embedder()
    found: list[Choice] = []
    for source, folder, split in (("eval", DEFAULT_DATA, None), ("dev", HELDOUT_DATA, "dev")):
        orgs, queries = load_dataset(folder)
        builder = IndexBuilder(stack)
        index = builder.build(*entries(orgs))
        for item in queries:
            if item["scope"] != "org" or (split is not None and item.get("split") != split):
                continue
            candidates = index.groups_of(index.org_position[item["org"]])
            ids = [index.groups[int(i)].id for i in candidates]
            query = builder.query(item["text"])
            matrix = reranker.feature_matrix(index, query, candidates).astype(np.float64)
            right = ids.index(f"{item['org']}/{item['group']}")
            found.append(Choice(matrix, right, query.lang, source, f"{source}:{item['org']}"))
    return found


def fit(rows: list[Choice], columns: list[int], penalty: float = PENALTY) -> FloatArray:
    """Conditional logit by Newton's method on the chosen columns."""
    w = np.zeros(len(columns))
    for _ in range(30):
        gradient = penalty * w
        hessian = penalty * np.eye(len(columns))
        for row in rows:
            x = row.features[:, columns]
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mean = p @ x
            weight = DEV_WEIGHT if row.source == "dev" else 1.0
            gradient -= weight * (x[row.right] - mean)
            centred = x - mean
            hessian += weight * (centred.T * p) @ centred
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def columns_of(family: str) -> list[int]:
    names = (
        reranker.FEATURES
        if family == "en"
        else [f for f in reranker.FEATURES if "wordllama" not in f]
    )
    return [reranker.FEATURES.index(f) for f in names]


def fit_all(rows: list[Choice], penalty: float = PENALTY) -> dict[str, dict[str, float]]:
    weights: dict[str, dict[str, float]] = {}
    for family in ("en", "other"):
        mine = [r for r in rows if reranker.family(r.lang) == family]
        cols = columns_of(family)
        w = fit(mine, cols, penalty)
        weights[family] = {
            reranker.FEATURES[c]: round(float(v), 4) for c, v in zip(cols, w, strict=True)
        }
    return weights


def score(table: dict[str, dict[str, float]], row: Choice) -> FloatArray:
    w = table[reranker.family(row.lang)]
    vector = np.array([w.get(f, 0.0) for f in reranker.FEATURES])
    result: FloatArray = row.features @ vector
    return result


def out_of_fold(rows: list[Choice], penalty: float = PENALTY) -> list[FloatArray]:
    orgs = sorted({r.org for r in rows})
    rng = np.random.default_rng(SEED)
    fold_of = {org: i % FOLDS for i, org in enumerate(rng.permutation(orgs).tolist())}
    found: list[FloatArray | None] = [None] * len(rows)
    for fold in range(FOLDS):
        train = [r for r in rows if fold_of[r.org] != fold]
        table = fit_all(train, penalty)
        for i, r in enumerate(rows):
            if fold_of[r.org] == fold:
                found[i] = score(table, r)
    return [f for f in found if f is not None]


def decisions(rows: list[Choice], scored: list[FloatArray]) -> list[tuple[float, float, bool]]:
    """(margin, agreement, right) of each request under its scores."""
    found = []
    for row, s in zip(rows, scored, strict=True):
        order = np.argsort(-s, kind="stable")
        margin = float(s[order[0]] - s[order[1]]) if len(order) > 1 else 10.0
        found.append(
            (
                margin,
                reranker.agreement(row.features.astype(np.float32), int(order[0])),
                int(order[0]) == row.right,
            )
        )
    return found


def fit_confidence(rows: list[tuple[float, float, bool]]) -> dict[str, float]:
    x = np.array([[m, a, 1.0] for m, a, _ in rows])
    y = np.array([float(ok) for _, _, ok in rows])
    w = np.zeros(3)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(3)
        w -= np.linalg.solve(hessian, x.T @ (p - y))
    return {
        "margin": round(float(w[0]), 4),
        "agreement": round(float(w[1]), 4),
        "bias": round(float(w[2]), 4),
    }


def report(rows: list[Choice], scored: list[FloatArray]) -> dict[str, Any]:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, s in zip(rows, scored, strict=True):
        ok = int(np.argmax(s)) == row.right
        for key in (f"{row.source}/{row.lang}", f"{row.source}/all"):
            tally[key][0] += ok
            tally[key][1] += 1
    return {k: f"{hits / n:.1%} of {n}" for k, (hits, n) in sorted(tally.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--precision", type=float, default=0.95)
    parser.add_argument("--penalty", type=float, default=PENALTY)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = choices()
    scored = out_of_fold(rows, args.penalty)
    print("out-of-fold top-1 (org-scoped):", json.dumps(report(rows, scored), indent=1))
    made = decisions(rows, scored)
    confidence = fit_confidence(made)
    table = reranker.Weights({}, confidence, 0.0)
    dev = [
        (reranker.confidence(table, m, a), ok)
        for (m, a, ok), r in zip(made, rows, strict=True)
        if r.source == "dev"
    ]
    chosen = choose_threshold([c for c, _ in dev], [ok for _, ok in dev], args.precision)
    weights = fit_all(rows, args.penalty)
    print("weights:", weights)
    print("confidence:", confidence)
    print("threshold on the dev split (out of fold):", chosen)
    if args.write:
        reranker.WEIGHTS_FILE.write_text(
            json.dumps(
                {
                    "features": weights,
                    "confidence": confidence,
                    "threshold": chosen["threshold"],
                    "dev": chosen,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
