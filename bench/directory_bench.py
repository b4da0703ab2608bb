"""Directory search and AI router latency over a large synthetic directory (SPEC 6).

    .venv/bin/python -m bench.directory_bench [--orgs 10000] [--groups-per-org 5]

Builds 10,000 organizations and 50,000 groups from the routing data set (each synthetic
organization copies a real one's profile and groups, renamed, with its topic phrases
shuffled and thinned so that no two texts are equal), pins itself to one core with one
BLAS thread, and times the engine the API calls: organization search, the global router
(plan plus), and the org-scoped router (opening a conversation). Queries are the data
set's 300 requests. Results go to docs/benchmarks.md ("Directory search and AI router").
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the thread limits must precede numpy's import
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from raasel.search.embedding import load_embedder  # noqa: E402
from raasel.search.evaluation import DEFAULT_DATA, load_dataset  # noqa: E402
from raasel.search.index import GroupEntry, IndexBuilder, OrgEntry  # noqa: E402
from raasel.search.router import Filters, route, search_groups, search_orgs  # noqa: E402

WORDS = [
    "north",
    "south",
    "prime",
    "city",
    "metro",
    "blue",
    "green",
    "star",
    "global",
    "united",
    "royal",
    "first",
]


def synthetic(
    count: int, groups_per_org: int, seed: int = 7
) -> tuple[list[OrgEntry], list[GroupEntry]]:
    rng = random.Random(seed)
    source, _ = load_dataset(DEFAULT_DATA)
    orgs, groups = [], []
    for n in range(count):
        real = source[n % len(source)]
        name = f"{rng.choice(WORDS).title()} {real['name'].split()[0]} {n}"
        org_id = str(10**12 + n)
        orgs.append(
            OrgEntry(
                id=org_id,
                slug=f"{real['slug']}-{n}",
                name=name,
                description=real["description"],
                category=real["category"],
                domains=(f"{real['slug']}-{n}.example",),
                tags=tuple(rng.sample(real["tags"], k=max(1, len(real["tags"]) - 1))),
                languages=tuple(real["languages"]),
                is_listed=rng.random() > 0.05,
                plan="promoted" if rng.random() < 0.1 else "free",
            )
        )
        real_groups = real["groups"]
        for k in range(groups_per_org):
            group = real_groups[k % len(real_groups)]
            phrases = [p.strip() for p in group["description"].split(",")]
            rng.shuffle(phrases)
            kept = phrases[: max(2, len(phrases) - rng.randrange(2))]
            groups.append(
                GroupEntry(
                    id=str(2 * 10**12 + n * 10 + k),
                    org_id=org_id,
                    slug=f"{group['slug']}-{k}",
                    name=group["name"],
                    description=", ".join(kept) + f". Team {k} of {name}.",
                    is_default=k == 0,
                )
            )
    return orgs, groups


def timed(label: str, queries: list[str], run: Callable[[str], object]) -> dict[str, float]:
    samples = []
    for text in queries:
        started = time.perf_counter()
        run(text)
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    result = {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "n": len(samples)}
    print(f"{label:<28} p50 {result['p50_ms']:>7} ms   p95 {result['p95_ms']:>7} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--groups-per-org", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    orgs, groups = synthetic(args.orgs, args.groups_per_org)
    _, labelled = load_dataset(DEFAULT_DATA)
    queries = [q["text"] for q in labelled]
    started = time.perf_counter()
    builder = IndexBuilder(load_embedder())
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    index = builder.build(orgs, groups)
    first_build = time.perf_counter() - started
    started = time.perf_counter()
    index = builder.build(orgs, groups)  # what a refresh costs when nothing was re-embedded
    rebuild = time.perf_counter() - started
    print(
        f"{len(orgs)} orgs, {len(groups)} groups; model load {loaded:.2f} s, "
        f"first build {first_build:.2f} s, rebuild {rebuild:.2f} s"
    )
    rng = random.Random(3)
    org_ids = [o.id for o in orgs]
    results = {
        "orgs": len(orgs),
        "groups": len(groups),
        "model_load_s": round(loaded, 2),
        "first_build_s": round(first_build, 2),
        "rebuild_s": round(rebuild, 2),
        "search_orgs": timed(
            "search organizations",
            queries,
            lambda t: search_orgs(index, builder.query(t), Filters(), 20),
        ),
        "search_groups": timed(
            "search groups (plus)",
            queries,
            lambda t: search_groups(index, builder.query(t), Filters(), 20),
        ),
        "route_global": timed(
            "route across orgs (plus)",
            queries,
            lambda t: route(index, builder.query(t), limit=3),
        ),
        "route_in_org": timed(
            "route inside one org",
            queries,
            lambda t: route(index, builder.query(t), org_id=rng.choice(org_ids), limit=3),
        ),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(f"max RSS {results['max_rss_mb']} MB")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
