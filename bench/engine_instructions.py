"""Instructions per append through the engine, counted by valgrind: a figure that does not
depend on what else the machine is doing (CPU seconds on a loaded 2-core machine vary by
30% between runs; instruction counts repeat to a fraction of a percent).

    .venv/bin/python -m bench.engine_instructions [--writers 1] [--appends 100,300]
    .venv/bin/python -m bench.engine_instructions --raasel-src /path/to/other/src

Runs bench.engine_appends' unit (the send path's ``append`` on the embedded SQLite
wiring) under ``valgrind --tool=callgrind`` twice, with the two append counts given, and
reports (instructions of the longer run - of the shorter) / (difference in appends): the
start-up, imports and warm-up cancel out. ``--writers 1`` makes every batch one unit (the
small batches of a lightly loaded node); more writers share batches. Both threads count
(the loop's and aiosqlite's worker); the fsync's wait does not (the kernel's is not user
code). ``--raasel-src`` runs another checkout's ``src`` (A/B in one run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def _appends(writers: int, appends: int) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.engine_appends import append_unit, node_services, seed

    with tempfile.TemporaryDirectory(prefix="raasel-instr-") as tmp:
        async with node_services("sqlite", Path(tmp), None) as svc:
            cids = await seed(svc, writers)

            async def writer(cid: str, count: int) -> None:
                unit = append_unit(cid)
                for _ in range(count):
                    await svc.db.run(unit, keys=[cid], fresh=False)

            await asyncio.gather(*(writer(c, 20) for c in cids))  # warm caches, statements
            await asyncio.gather(*(writer(c, appends // writers) for c in cids))
            await svc.db.drain_published()


def _count(writers: int, appends: int, src: Path | None) -> int:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = f"{src}:{env.get('PYTHONPATH', '')}"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.engine_instructions",
        "--child",
        str(writers),
        str(appends),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(done.stderr[-2000:])
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=1)
    parser.add_argument("--appends", default="100,300")
    parser.add_argument("--raasel-src", type=Path, default=None)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_appends(*args.child))
        return
    low, high = (int(n) for n in args.appends.split(","))
    small = _count(args.writers, low, args.raasel_src)
    large = _count(args.writers, high, args.raasel_src)
    per = (large - small) / (high - low)
    which = args.raasel_src or "working tree"
    print(f"{which}: W={args.writers}: {per:,.0f} instructions per append ({low} vs {high})")


if __name__ == "__main__":
    main()
