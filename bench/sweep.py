"""The highest offered rate a server passes at one client count, found in bounded time.

Each trial is a fresh server and a full measurement (bench/run.py ``measure_pairs``). The
rate doubles from ``--sweep-start`` until a trial fails (or halves until one passes), then
bisects between the best pass and the lowest failure until they are within
``--sweep-precision`` of each other. It stops early when the next trial would overrun
``--sweep-budget`` seconds (the trials so far give the estimate), at ``--sweep-max``, or when
the load generator itself cannot offer the rate; the note says which.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report

MIN_RATE = 10.0  # msgs/s: below this a failing server is reported as passing nothing

Measure = Callable[[str, Path, Path, int, float, Any, int], dict[str, Any]]


def sweep(
    name: str, clients: int, args: Any, world_dir: Path, scratch: Path, measure: Measure
) -> dict[str, Any]:
    began = time.monotonic()
    passes_at: float | None = None
    fails_at: float | None = None
    best: dict[str, Any] | None = None
    trials: list[dict[str, Any]] = []
    rate = float(args.sweep_start)
    note = ""
    print(f"sweep {name} at {clients} clients:", flush=True)
    while True:
        elapsed = time.monotonic() - began
        if trials and elapsed + elapsed / len(trials) > args.sweep_budget:
            note = "time budget"
            break
        result = measure(name, world_dir, scratch, clients, rate, args, len(trials) + 1)
        trials.append(result)
        report.print_pairs([result], header=len(trials) == 1)
        outcome = result["verdict"]
        if outcome == "pass":
            passes_at, best = rate, result
        elif outcome == "LG-BOUND":
            note = f"the generator could not offer {rate:.0f}/s"
            break
        else:
            fails_at = rate
            if report.is_generator_busy(result, args.procs):
                note = f"generator busy at {rate:.0f}/s: the limit may be its own"
        if fails_at is None:
            if rate >= args.sweep_max:
                note = "reached --sweep-max"
                break
            rate = min(rate * 2, args.sweep_max)
        elif passes_at is None:
            if rate <= MIN_RATE:
                break
            rate = max(MIN_RATE, round(rate / 2))
        else:
            if fails_at / passes_at - 1 <= args.sweep_precision:
                break
            rate = float(round((passes_at + fails_at) / 2))
    busy = sum(1 for t in trials if report.is_machine_busy(t))
    if busy:
        shared = f"{busy} of {len(trials)} trials on a busy machine (others >= 25% of a core)"
        note = f"{note}; {shared}" if note else shared
    loads = [x for t in trials for x in t.get("load_1m", [])]
    return {
        "target": name,
        "load_1m": [min(loads), max(loads)] if loads else None,
        "clients": clients,
        "passes_at": passes_at,
        "fails_at": fails_at,
        "best": best,
        "trials": trials,
        "elapsed_s": time.monotonic() - began,
        "note": note,
    }
