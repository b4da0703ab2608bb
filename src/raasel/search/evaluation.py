"""Routing accuracy on the labelled data set in ``data/routing-eval/`` (SPEC 2.1).

    python -m raasel.search.evaluation [--data data/routing-eval] [--json]

Prints top-1 / top-3 accuracy of the lexical baseline (BM25 alone) and of the hybrid
router (BM25 + WordLlama embeddings), per scope (org-scoped / global) and language, and
the precision and coverage of auto-routing at ``ranking.AUTO_ROUTE_THRESHOLD``.
tests/search/test_evaluation.py runs it and asserts the floors; docs/benchmarks.md keeps
the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raasel.search import ranking
from raasel.search.embedding import Embedder, load_embedder
from raasel.search.index import DirectoryIndex, GroupEntry, IndexBuilder, OrgEntry
from raasel.search.router import route

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "data" / "routing-eval"


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
        )
        for o in orgs
        for g in o["groups"]
    ]
    return org_entries, group_entries


@dataclass
class Tally:
    count: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, rank: int | None) -> None:
        self.count += 1
        self.top1 += rank == 0
        self.top3 += rank is not None and rank < 3

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "top1": self.top1 / self.count if self.count else 0.0,
            "top3": self.top3 / self.count if self.count else 0.0,
        }


@dataclass
class RouterResult:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    auto_routed: int = 0
    auto_correct: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self, total: int) -> dict[str, Any]:
        return {
            "accuracy": {k: t.as_dict() for k, t in sorted(self.tallies.items())},
            "auto_route": {
                "threshold": ranking.AUTO_ROUTE_THRESHOLD,
                "coverage": self.auto_routed / total if total else 0.0,
                "precision": self.auto_correct / self.auto_routed if self.auto_routed else 1.0,
                "routed": self.auto_routed,
            },
            "latency_ms": _percentiles(self.latencies_ms),
        }


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p95": values[0] if values else 0.0}
    cuts = statistics.quantiles(values, n=100)
    return {"p50": round(cuts[49], 3), "p95": round(cuts[94], 3)}


def evaluate_router(index: DirectoryIndex, queries: list[dict[str, Any]]) -> RouterResult:
    result = RouterResult()
    for item in queries:
        started = time.perf_counter()
        query = index.builder.query(item["text"])
        org_id = item["org"] if item["scope"] == "org" else None
        routing = route(index, query, org_id=org_id, limit=3)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
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
        if routing.is_confident:
            result.auto_routed += 1
            result.auto_correct += rank == 0
    return result


def run(folder: Path = DEFAULT_DATA, embedder: Embedder | None = None) -> dict[str, Any]:
    """Both routers on the data set; ``embedder`` defaults to the installed model."""
    orgs, queries = load_dataset(folder)
    org_entries, group_entries = entries(orgs)
    model = embedder if embedder is not None else load_embedder()
    report: dict[str, Any] = {"queries": len(queries), "model": model.name if model else None}
    for name, chosen in (("lexical", None), ("hybrid", model)):
        if name == "hybrid" and chosen is None:
            continue
        index = IndexBuilder(chosen).build(org_entries, group_entries)
        report[name] = evaluate_router(index, queries).as_dict(len(queries))
    return report


def render(report: dict[str, Any]) -> str:
    routers = [name for name in ("lexical", "hybrid") if name in report]
    lines = [
        f"routing evaluation: {report['queries']} queries, model {report['model']}",
        "",
        "| scope/lang | n | " + " | ".join(f"{r} top-1 | {r} top-3" for r in routers) + " |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in routers) + " |",
    ]
    for key, tally in report[routers[0]]["accuracy"].items():
        cells = []
        for name in routers:
            row = report[name]["accuracy"][key]
            cells.append(f"{row['top1']:.1%} | {row['top3']:.1%}")
        lines.append(f"| {key} | {tally['count']} | " + " | ".join(cells) + " |")
    lines.append("")
    for name in routers:
        auto, latency = report[name]["auto_route"], report[name]["latency_ms"]
        lines.append(
            f"{name}: auto-route at confidence >= {auto['threshold']}: "
            f"coverage {auto['coverage']:.1%} ({auto['routed']} queries), "
            f"precision {auto['precision']:.1%}; "
            f"router latency p50 {latency['p50']} ms, p95 {latency['p95']} ms"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = run(args.data)
    print(json.dumps(report, indent=2) if args.json else render(report))


if __name__ == "__main__":
    main()
