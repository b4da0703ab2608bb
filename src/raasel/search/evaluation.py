"""Routing accuracy on a labelled data set (SPEC 2.1; docs/benchmarks.md).

    python -m raasel.search.evaluation [--data data/routing-heldout] [--split test] [--json]

Prints top-1 / top-3 accuracy of the lexical baseline (BM25 alone) and of the router
(the configured embedding stack), per split (dev / test, fixed in the files; a data set
without splits is one split, ``all``), scope (org-scoped / global) and language, with 95%
Wilson intervals; the precision and coverage of auto-routing at
the thresholds the router answered with (the reranker's inside an organization,
``ranking.ROUTER_AUTO_THRESHOLD`` across them); and the router's latency per query by language.
``data/routing-eval`` tuned the weights, the dev split of ``data/routing-heldout`` chose
the threshold (``raasel.search.calibration``), its test split only reports.
tests/search/test_evaluation.py asserts floors on the test split.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raasel.search.embedding import EmbeddingStack, load_embedder
from raasel.search.index import DirectoryIndex, GroupEntry, IndexBuilder, OrgEntry
from raasel.search.router import route

ROOT = Path(__file__).resolve().parents[3] / "data"
DEFAULT_DATA = ROOT / "routing-eval"  # tuning data (the router's weights came from it)
HELDOUT_DATA = ROOT / "routing-heldout"  # dev split: the threshold; test split: reports


def load_dataset(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    orgs = json.loads((folder / "organizations.json").read_text(encoding="utf-8"))
    lines = (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return orgs, [json.loads(line) for line in lines if line.strip()]


def entries(orgs: list[dict[str, Any]]) -> tuple[list[OrgEntry], list[GroupEntry]]:
    """The data set as directory entries; ids are the slugs (``org`` / ``org/group``)."""
    org_entries = [
        OrgEntry(
            id=o["slug"],
            slug=o["slug"],
            name=o["name"],
            description=o["description"],
            category=o["category"],
            domains=(o["domain"],),
            tags=tuple(o["tags"]),
            languages=tuple(o["languages"]),
            is_listed=True,
            plan="free",
        )
        for o in orgs
    ]
    group_entries = [
        GroupEntry(
            id=f"{o['slug']}/{g['slug']}",
            org_id=o["slug"],
            slug=g["slug"],
            name=g["name"],
            description=g["description"],
            is_default=False,
            examples=tuple(g.get("examples", ())),
        )
        for o in orgs
        for g in o["groups"]
    ]
    return org_entries, group_entries


def wilson(successes: int, count: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if count == 0:
        return (0.0, 1.0)
    p = successes / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


@dataclass
class Tally:
    count: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, rank: int | None) -> None:
        self.count += 1
        self.top1 += rank == 0
        self.top3 += rank is not None and rank < 3

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "top1": round(self.top1 / self.count, 4) if self.count else 0.0,
            "top3": round(self.top3 / self.count, 4) if self.count else 0.0,
            "top1_ci": wilson(self.top1, self.count),
        }


@dataclass
class AutoTally:
    count: int = 0
    routed: int = 0
    correct: int = 0
    thresholds: set[float] = field(default_factory=set)  # as the router answered

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": sorted(self.thresholds),
            "coverage": round(self.routed / self.count, 4) if self.count else 0.0,
            "coverage_ci": wilson(self.routed, self.count),
            "precision": round(self.correct / self.routed, 4) if self.routed else 1.0,
            "precision_ci": wilson(self.correct, self.routed),
            "routed": self.routed,
            "of": self.count,
        }


@dataclass
class RouterResult:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    auto: dict[str, AutoTally] = field(default_factory=lambda: defaultdict(AutoTally))
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": {k: t.as_dict() for k, t in sorted(self.tallies.items())},
            "auto_route": {k: a.as_dict() for k, a in sorted(self.auto.items())},
            "latency_ms": {k: _percentiles(v) for k, v in sorted(self.latencies_ms.items())},
            # CPU time of the query's thread: the latency on an idle core (wall time above
            # also counts waiting for a core on a busy machine).
            "cpu_ms": {k: _percentiles(v) for k, v in sorted(self.cpu_ms.items())},
        }


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p95": values[0] if values else 0.0}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 3), "p95": round(cuts[94], 3)}


def evaluate_router(index: DirectoryIndex, queries: list[dict[str, Any]]) -> RouterResult:
    result = RouterResult()
    for item in queries:
        started, cpu_started = time.perf_counter(), time.thread_time()
        query = index.builder.query(item["text"])
        org_id = item["org"] if item["scope"] == "org" else None
        routing = route(index, query, org_id=org_id, limit=3)
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.thread_time() - cpu_started) * 1000
        for key in (item["lang"], "all"):
            result.latencies_ms[key].append(elapsed)
            result.cpu_ms[key].append(cpu)
        expected = f"{item['org']}/{item['group']}"
        found = [hit.group.id for hit in routing.groups]
        rank = found.index(expected) if expected in found else None
        for key in (
            f"{item['scope']}/{item['lang']}",
            f"{item['scope']}/all",
            f"all/{item['lang']}",
            "all/all",
        ):
            result.tallies[key].add(rank)
        for key in (item["scope"], "all"):
            auto = result.auto[key]
            auto.count += 1
            auto.routed += routing.is_confident
            auto.correct += routing.is_confident and rank == 0
            auto.thresholds.add(routing.threshold)
    return result


def run(
    folder: Path = HELDOUT_DATA,
    embedder: EmbeddingStack | None = None,
    splits: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Both routers on the data set, per split; ``embedder`` defaults to the installed
    stack; ``splits`` limits the report (the test asserts on ``test`` only)."""
    orgs, queries = load_dataset(folder)
    org_entries, group_entries = entries(orgs)
    model = embedder if embedder is not None else load_embedder()
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in queries:
        by_split[item.get("split", "all")].append(item)
    chosen = [s for s in sorted(by_split) if splits is None or s in splits]
    report: dict[str, Any] = {
        "queries": {s: len(by_split[s]) for s in chosen},
        "model": model.name if model else None,
        "encoders": sorted(model.encoders) if model else [],
        "splits": {s: {} for s in chosen},
    }
    for name, stack in (("lexical", None), ("hybrid", model)):
        if name == "hybrid" and stack is None:
            continue
        index = IndexBuilder(stack).build(org_entries, group_entries)
        for split in chosen:
            report["splits"][split][name] = evaluate_router(index, by_split[split]).as_dict()
    return report


def render(report: dict[str, Any]) -> str:
    lines = [f"routing evaluation: model {report['model']} ({', '.join(report['encoders'])})"]
    for split, results in report["splits"].items():
        routers = [name for name in ("lexical", "hybrid") if name in results]
        lines += [
            "",
            f"split {split}: {report['queries'][split]} queries",
            "",
            "| scope/lang | n | "
            + " | ".join(f"{r} top-1 | {r} top-3" for r in routers)
            + " | router top-1 95% CI |",
            "| --- | ---: | " + " | ".join("---: | ---:" for _ in routers) + " | --- |",
        ]
        for key, tally in results[routers[0]]["accuracy"].items():
            cells = []
            for name in routers:
                row = results[name]["accuracy"][key]
                cells.append(f"{row['top1']:.1%} | {row['top3']:.1%}")
            low, high = results[routers[-1]]["accuracy"][key]["top1_ci"]
            lines.append(
                f"| {key} | {tally['count']} | " + " | ".join(cells) + f" | {low:.0%}-{high:.0%} |"
            )
        lines.append("")
        for name in routers:
            auto = results[name]["auto_route"]
            for scope in ("org", "global", "all"):
                if scope not in auto:
                    continue
                a = auto[scope]
                lines.append(
                    f"{name}: auto-route ({scope}) at confidence >= "
                    f"{'/'.join(str(t) for t in a['threshold'])}: "
                    f"coverage {a['coverage']:.1%} ({a['routed']}/{a['of']}), precision "
                    f"{a['precision']:.1%} (95% CI {a['precision_ci'][0]:.1%}-"
                    f"{a['precision_ci'][1]:.1%})"
                )
            for label, key in (("wall", "latency_ms"), ("cpu", "cpu_ms")):
                lines.append(
                    f"{name}: {label} time per query (ms, p50/p95): "
                    + ", ".join(f"{k} {v['p50']}/{v['p95']}" for k, v in results[name][key].items())
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=HELDOUT_DATA)
    parser.add_argument("--split", action="append", help="only this split (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = run(args.data, splits=tuple(args.split) if args.split else None)
    print(json.dumps(report, indent=2) if args.json else render(report))


if __name__ == "__main__":
    main()
