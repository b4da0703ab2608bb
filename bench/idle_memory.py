"""Where an idle connection's memory goes: one Raasel node, N idle widget visitors.

    python -m bench.idle_memory --idle 2000                    # RSS, smaps, object census
    python -m bench.idle_memory --idle 2000 --trace 16         # + tracemalloc by line
    python -m bench.idle_memory --idle 2000 --env RAASEL_WS_PER_MESSAGE_DEFLATE=true

The node (bench/idle_memory_node.py, pinned to ``--server-cpus``) writes a report before
the first connection and another after ``--settle`` seconds with every visitor connected
(the socket.io-client generator of bench/run.py, TLS, the cached world of bench/world.py).
Printed per connection: RSS, the growth of each kind of mapping ([heap] is glibc malloc:
OpenSSL, uvloop's buffers, Python objects over 512 bytes; [anon] holds pymalloc's
arenas), the objects the GC tracks, and with ``--trace`` the Python lines that allocated.
The first figures and what they led to: docs/benchmarks.md, "Idle memory".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import signal
import sys
import time
import tracemalloc
from pathlib import Path

from bench.loadgen import raise_fd_limit
from bench.run import Loadgens, cpu_set, fresh_var, prepare_world
from bench.targets import RAASEL_ENV, RESULTS, Target, free_port, raasel_source

KB = 1024
MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$")


def mapping_rss(path: Path) -> collections.Counter[str]:
    """Resident KiB by kind of mapping: [heap], [anon], [stack], or the mapped file."""
    kinds: collections.Counter[str] = collections.Counter()
    kind = ""
    for line in path.read_text().splitlines():
        found = MAPPING.match(line)
        if found:
            name = found.group(1).strip()
            kind = name if name.startswith("[") or not name else Path(name).name
            kind = kind or "[anon]"
        elif line.startswith("Rss:"):
            kinds[kind] += int(line.split()[1])
    return kinds


def census(path: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines()[2:]:
        number, name = line.split(" ", 1)
        counts[name] = int(number)
    return counts


def start_node(var_dir: Path, reports: Path, args: argparse.Namespace) -> Target:
    port = free_port()
    target = Target("raasel", "raasel", port, var_dir / "tls" / "cert.pem")
    env = os.environ | args.source.env() | RAASEL_ENV
    env |= {"RAASEL_VAR_DIR": str(var_dir), "RAASEL_HTTPS_PORT": str(port)}
    env |= {"IDLE_MEMORY_DIR": str(reports), "IDLE_MEMORY_TRACE": str(args.trace)}
    env |= dict(kv.split("=", 1) for kv in args.env)
    command = [sys.executable, "-m", "bench.idle_memory_node"]
    target.spawn("raasel", command, env, reports / "node.log", args.server_cpu_set)
    target.wait_ready_https("/readyz", timeout=600 if args.trace else 120)
    return target


def take_report(target: Target, reports: Path, number: int) -> None:
    os.kill(target.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 600
    while not (reports / f"report{number}.done").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the node wrote no report")
        time.sleep(0.2)


async def hold(target: Target, world: Path, args: argparse.Namespace, reports: Path) -> int:
    gens = Loadgens()
    try:
        connected, failed = await gens.start(target, world, "idle", args.idle, args.procs, args)
        print(f"connected {connected}, failed {failed}", flush=True)
        await asyncio.sleep(args.settle)
        take_report(target, reports, 2)
        await gens.tell("stop")
        await gens.finish(within=120)
    finally:
        gens.kill()
    return connected


def print_differences(reports: Path, connections: int) -> None:
    before, after = (reports / "report1", reports / "report2")
    rss = [int((p.with_suffix(".census")).read_text().split()[1]) for p in (before, after)]
    per = (rss[1] - rss[0]) / KB / connections
    print(f"RSS {rss[0] / KB / KB:.1f} MB -> {rss[1] / KB / KB:.1f} MB: {per:.1f} KB a connection")
    maps = [mapping_rss(p.with_suffix(".smaps")) for p in (before, after)]
    for kind in sorted(maps[1], key=lambda k: maps[0][k] - maps[1][k]):
        grown = (maps[1][kind] - maps[0][kind]) / connections
        if abs(grown) >= 0.1:
            print(f"  {kind:<28} {grown:7.2f} KB a connection")
    objects = [census(p.with_suffix(".census")) for p in (before, after)]
    print("objects the GC tracks, a connection:")
    for name in sorted(objects[1], key=lambda n: objects[0][n] - objects[1][n])[:25]:
        print(f"  {(objects[1][name] - objects[0][name]) / connections:6.2f} {name}")
    traced = [p.with_suffix(".tracemalloc") for p in (before, after)]
    if all(p.exists() for p in traced):
        first, second = (tracemalloc.Snapshot.load(str(p)) for p in traced)
        stats = second.compare_to(first, "lineno")
        total = sum(s.size_diff for s in stats)
        print(f"tracemalloc: {total / KB / connections:.1f} KB a connection; the top lines:")
        for stat in stats[:25]:
            print(f"  {stat.size_diff / connections:8.0f} B {stat.traceback[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle", type=int, default=2000, help="idle visitors to connect")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds held before")
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames (0: off)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the node")
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--loadgen-cpus", default="1")
    parser.add_argument("--pairs-per-org", type=int, default=50)
    args = parser.parse_args()
    args.source = raasel_source("")
    args.server_cpu_set = cpu_set(args.server_cpus)
    args.loadgen_cpu_set = cpu_set(args.loadgen_cpus)
    args.rebuild_world = False
    args.rate, args.warmup, args.duration = 0.0, 0.0, 0.0
    args.generator, args.features = "node", "message_unread"
    raise_fd_limit()
    scratch = RESULTS / f"idle-memory-{time.strftime('%Y%m%d-%H%M%S')}"
    scratch.mkdir(parents=True)
    world_dir = prepare_world(args.source, 0, args.idle, args, scratch)
    var_dir = fresh_var(world_dir, scratch, "raasel")
    reports = scratch / "reports"
    reports.mkdir()
    target = start_node(var_dir, reports, args)
    try:
        time.sleep(2)
        take_report(target, reports, 1)
        connected = asyncio.run(hold(target, world_dir / "world.json", args, reports))
    finally:
        target.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
    print_differences(reports, max(connected, 1))
    print(f"reports: {reports}")


if __name__ == "__main__":
    main()
