"""Directory search and AI router latency over a large synthetic directory (SPEC 6).

    .venv/bin/python -m bench.directory_bench [--orgs 10000] [--groups-per-org 5]

Builds 10,000 organizations and 50,000 groups from both routing data sets (each synthetic
organization copies a real one's profile and groups, renamed, with its topic phrases
shuffled and thinned so that no two texts are equal), pins itself to one core with one
BLAS thread, and times the engine the API calls: organization search, the global router
(plan plus), and the org-scoped router (opening a conversation), per language. Queries are
the two data sets' 911 requests (English, French, Arabic, Spanish). ``--model`` picks the
embedding stack (RAASEL_EMBEDDING_MODEL's values). Results go to docs/benchmarks.md
("Directory search and AI router").
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
from raasel.search.evaluation import DEFAULT_DATA, HELDOUT_DATA, load_dataset  # noqa: E402
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
    source = load_dataset(DEFAULT_DATA)[0] + load_dataset(HELDOUT_DATA)[0]
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
                    examples=tuple(group.get("examples", ())),
                )
            )
    return orgs, groups


def timed(
    label: str, queries: list[tuple[str, str]], run: Callable[[str], object]
) -> dict[str, object]:
    """p50/p95 per language (and all), one query at a time on one core: wall clock, and
    the thread's CPU time (what the query costs on an idle core; on a busy machine the
    wall clock also counts the wait for the core)."""
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for lang, text in queries:
        started, cpu_started = time.perf_counter(), time.thread_time()
        run(text)
        elapsed = (time.perf_counter() - started) * 1000
        spent = (time.thread_time() - cpu_started) * 1000
        for key in (lang, "all"):
            wall.setdefault(key, []).append(elapsed)
            cpu.setdefault(key, []).append(spent)
    result: dict[str, object] = {}
    cells = []
    for lang in sorted(wall):
        w = statistics.quantiles(wall[lang], n=100)
        c = statistics.quantiles(cpu[lang], n=100)
        row = {"p50_ms": round(w[49], 2), "p95_ms": round(w[94], 2)}
        row |= {"cpu_p50_ms": round(c[49], 2), "cpu_p95_ms": round(c[94], 2)}
        result[lang] = row | {"n": len(wall[lang])}
        cells.append(f"{lang} {row['cpu_p50_ms']}/{row['cpu_p95_ms']} ({row['p95_ms']})")
    print(f"{label:<26} CPU p50/p95 (wall p95) ms: {'  '.join(cells)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--groups-per-org", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--model", default="multilingual", help="multilingual, use, wordllama")
    parser.add_argument(
        "--any-core",
        action="store_true",
        help="do not pin to the first core (it is still one thread; CPU times stay per query)",
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and not args.any_core:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    orgs, groups = synthetic(args.orgs, args.groups_per_org)
    labelled = load_dataset(DEFAULT_DATA)[1] + load_dataset(HELDOUT_DATA)[1]
    queries = [(q["lang"], q["text"]) for q in labelled]
    started = time.perf_counter()
    builder = IndexBuilder(load_embedder(args.model))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    index = builder.build(orgs, groups)
    first_build = time.perf_counter() - started
    started = time.perf_counter()
    index = builder.build(orgs, groups)  # what a refresh costs when nothing was re-embedded
    rebuild = time.perf_counter() - started
    print(
        f"{len(orgs)} orgs, {len(groups)} groups; model load {loaded:.2f} s, "
        f"first build {first_build:.2f} s, rebuild {rebuild:.2f} s",
        flush=True,
    )
    rng = random.Random(3)
    org_ids = [o.id for o in orgs]
    results = {
        "model": args.model,
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
