"""Choosing the confidence map and auto-routing threshold across organizations, without
the test split (inside one organization: ``raasel.search.reranker_training``).

    python -m raasel.search.calibration [--precision 0.95]

1. The confidence is a logistic in the margin between the best and the second-best
   candidate's score; its slope and bias are fitted (maximum likelihood) on the global
   requests of the tuning data set, ``data/routing-eval``, whose queries also fitted the
   English weights.
2. The auto-routing threshold is the lowest confidence (on a 0.01 grid) at which the
   auto-routed global requests of the **dev** split of ``data/routing-heldout`` and of the
   tuning set together (75 + 118: the dev split alone is too small for the interval
   below) were right at least ``--precision`` + ``SAFETY`` of the time *and* the lower
   end of the 95% Wilson interval of that precision is within ``SLACK`` of
   ``--precision`` (so a threshold resting on a lucky handful is not taken), with at
   least 30 of them routed.

It prints the constants to copy into ``ranking.py``. The test split is never read here:
``raasel.search.evaluation`` reports on it (docs/decisions.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from raasel.search import ranking
from raasel.search.embedding import EmbeddingStack, load_embedder
from raasel.search.evaluation import DEFAULT_DATA, HELDOUT_DATA, entries, load_dataset, wilson
from raasel.search.index import IndexBuilder
from raasel.search.scoring import router_scores

MIN_ROUTED = 30
SAFETY = 0.02  # the dev split must show this much more than the precision asked for
SLACK = 0.03


def margins(
    folder: Path, stack: EmbeddingStack | None, split: str | None, scope: str | None = None
) -> list[tuple[float, bool]]:
    """(best - second-best score, whether the best is right) for each query of ``split``
    (and ``scope``, ``org`` or ``global``, when given)."""
    orgs, queries = load_dataset(folder)
    builder = IndexBuilder(stack)
    index = builder.build(*entries(orgs))
    found: list[tuple[float, bool]] = []
    for item in queries:
        if split is not None and item.get("split") != split:
            continue
        if scope is not None and item["scope"] != scope:
            continue
        query = builder.query(item["text"])
        if item["scope"] == "org":
            candidates = index.groups_of(index.org_position[item["org"]])
            scores = router_scores(index, query, candidates, with_orgs=False)
        else:
            candidates = np.arange(len(index.groups))
            scores = router_scores(index, query, candidates, with_orgs=True)
        order = np.argsort(-scores, kind="stable")
        best = index.groups[int(candidates[order[0]])].id
        margin = float(scores[order[0]] - scores[order[1]]) if len(order) > 1 else 10.0
        found.append((margin, best == f"{item['org']}/{item['group']}"))
    return found


def fit_logistic(rows: list[tuple[float, bool]], steps: int = 50) -> tuple[float, float]:
    """Slope and bias of P(right | margin) by Newton's method (a tiny ridge for stability)."""
    x = np.array([[m, 1.0] for m, _ in rows])
    y = np.array([float(ok) for _, ok in rows])
    w = np.zeros(2)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(2)
        w -= np.linalg.solve(hessian, x.T @ (p - y))
    return float(w[0]), float(w[1])


def threshold_for(confidences: list[float], right: list[bool], precision: float) -> dict[str, Any]:
    """The lowest threshold whose routed requests were right at least ``precision`` +
    ``SAFETY`` of the time, with the Wilson lower bound within ``SLACK`` of it and at least
    ``MIN_ROUTED`` routed (the rule of the module docstring; reranker_training uses it too)."""
    c, ok = np.array(confidences), np.array(right)
    for step in range(50, 100):
        threshold = step / 100
        routed = c >= threshold
        count, hits = int(routed.sum()), int(ok[routed].sum())
        if (
            count >= MIN_ROUTED
            and hits / count >= precision + SAFETY
            and wilson(hits, count)[0] >= precision - SLACK
        ):
            return {
                "threshold": threshold,
                "precision": round(hits / count, 4),
                "coverage": round(count / len(c), 4),
                "routed": count,
            }
    return {"threshold": 0.99, "precision": None, "coverage": 0.0, "routed": 0}


def choose_threshold(
    rows: list[tuple[float, bool]], slope: float, bias: float, precision: float
) -> dict[str, Any]:
    confidences = [float(1 / (1 + np.exp(-(slope * m + bias)))) for m, _ in rows]
    chosen = threshold_for(confidences, [ok for _, ok in rows], precision)
    return {"threshold": chosen["threshold"]} | {
        f"dev_{key}": chosen[key] for key in ("precision", "coverage", "routed")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--precision", type=float, default=0.95)
    args = parser.parse_args()
    stack = load_embedder()
    tuning = margins(DEFAULT_DATA, stack, None, "global")
    slope, bias = fit_logistic(tuning)
    dev = margins(HELDOUT_DATA, stack, "dev", "global")
    chosen = choose_threshold(dev + tuning, slope, bias, args.precision)
    routed = [ok for m, ok in dev if 1 / (1 + np.exp(-(slope * m + bias))) >= chosen["threshold"]]
    print(f"dev split alone: {sum(routed)}/{len(routed)} right of {len(dev)}")
    print(f"CALIBRATION_SLOPE = {slope:.3f}")
    print(f"CALIBRATION_BIAS = {bias:.3f}")
    print(f"ROUTER_AUTO_THRESHOLD = {chosen['threshold']}")
    print(f"dev split at that threshold: {chosen}")
    print(
        f"in ranking.py now: {ranking.CALIBRATION_SLOPE}, {ranking.CALIBRATION_BIAS}, "
        f"{ranking.ROUTER_AUTO_THRESHOLD}"
    )


if __name__ == "__main__":
    main()
