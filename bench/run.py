"""Runs the benchmark: Raasel and the two bare references, same generator, same run.

    python -m bench.run --clients 200 --offered 500,1000,2000 --duration 20
    python -m bench.run --clients 200,2000 --sweep --duration 15 --sweep-budget 600
    python -m bench.run --idle 10000
    python -m bench.run --clients 2000 --offered 1000 --targets raasel,raasel-nginx

Targets (bench/targets.py): raasel, raasel-nginx, raasel-nginx-plain, python, node. Each
server is pinned to ``--server-cpus`` and the load generator to ``--loadgen-cpus``. A
measurement passes when delivery p99 < ``--target-p99-ms`` with nothing lost (every
message of the window acknowledged ok and delivered, no failed connect, no disconnect,
no skipped send). Everything listens on 127.0.0.1 and every wait is bounded. Results go
to stdout and, as JSON, to bench/results/. See docs/benchmarks.md for what they mean.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.loadgen import raise_fd_limit
from bench.procstat import Window, cpu_model, rss_bytes
from bench.targets import (
    RAASEL_ENV,
    RESULTS,
    ROOT,
    TARGETS,
    RaaselSource,
    Target,
    free_port,
    pinned,
    raasel_source,
    start_node,
    start_python,
    start_raasel,
    start_raasel_behind_nginx,
)
from bench.world import build_world, cache_key, cached, make_accounts, plan_world, store

__all__ = ["RAASEL_ENV", "RESULTS", "Loadgens", "Target", "free_port", "merge_pairs"]
MB = 1024 * 1024
NODE_LOADGEN = ROOT / "bench" / "node-loadgen"


@dataclass
class Loadgens:
    """The load generator processes of one run, and their stdin/stdout protocol."""

    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    async def start(
        self,
        target: Target,
        world_file: Path,
        mode: str,
        count: int,
        procs: int,
        args: Any,
        extra: tuple[str, ...] = (),
    ) -> tuple[int, int]:
        out_dir = RESULTS / "tmp"
        out_dir.mkdir(parents=True, exist_ok=True)
        bounds = [count * i // procs for i in range(procs + 1)]
        for i in range(procs):
            out = out_dir / f"loadgen-{os.getpid()}-{i}.json"
            self.outputs.append(out)
            command = [
                *generator_command(getattr(args, "generator", "python")),
                *("--url", target.url, "--ca", str(target.cert)),
                *("--world", str(world_file), "--target", target.kind, "--mode", mode),
                *("--first", str(bounds[i]), "--last", str(bounds[i + 1])),
                *("--rate", str(args.rate), "--warmup", str(args.warmup)),
                *("--duration", str(args.duration), "--out", str(out)),
                *("--features", getattr(args, "features", "message_unread")),
                *extra,
            ]
            self.processes.append(
                await asyncio.create_subprocess_exec(
                    *command,
                    cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    preexec_fn=pinned(getattr(args, "loadgen_cpu_set", None)),
                )
            )
        connected = failed = 0
        for line in await asyncio.wait_for(
            asyncio.gather(*(self._line(p) for p in self.processes)), timeout=600
        ):
            _, ok, bad = line.split()
            connected += int(ok)
            failed += int(bad)
        return connected, failed

    @staticmethod
    async def _line(process: asyncio.subprocess.Process) -> str:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode().strip()
        if not line:
            raise RuntimeError(f"a load generator exited early ({await process.wait()})")
        return line

    async def tell(self, command: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(f"{command}\n".encode())
            await process.stdin.drain()

    async def finish(self, within: float) -> list[dict[str, Any]]:
        async with asyncio.timeout(within):
            await asyncio.gather(*(self._line(p) for p in self.processes))
            await asyncio.gather(*(p.wait() for p in self.processes))
        reports = [json.loads(path.read_text()) for path in self.outputs]
        for path in self.outputs:
            path.unlink(missing_ok=True)
        return reports

    def kill(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()


def generator_command(generator: str) -> list[str]:
    """The load generator's command line: bench/loadgen.py, or its socket.io-client twin."""
    if generator == "python":
        return [sys.executable, "-m", "bench.loadgen"]
    if not (NODE_LOADGEN / "node_modules" / "socket.io-client").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_LOADGEN,
            check=True,
            timeout=300,
        )
    return ["node", str(NODE_LOADGEN / "loadgen.mjs")]


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[index] / 1000  # us -> ms


def merge_pairs(
    reports: list[dict[str, Any]], cpu: dict[str, float], rss: dict[str, int], args: Any
) -> dict[str, Any]:
    total: dict[str, Any] = {"ack_errors": {}, "other_events": {}, "connect_errors": {}}
    samples: dict[str, list[int]] = {"ack_us": [], "delivery_us": [], "send_lag_us": []}
    for part in reports:
        for key, value in part.items():
            if key in samples:
                samples[key] += value
            elif isinstance(value, dict):
                for k, v in value.items():
                    total[key][k] = total[key].get(k, 0) + v
            elif isinstance(value, int):
                total[key] = total.get(key, 0) + value
    window = args.duration
    for key in samples:
        samples[key].sort()
    undelivered = max(0, total["sent"] - total["delivered"])
    errors = (
        sum(total["ack_errors"].values())
        + total["ack_missing"]
        + undelivered
        + total["connect_failed"]
    )
    total["undelivered"] = undelivered
    return {
        **{k: v for k, v in total.items() if k not in {"mode"}},
        "offered_per_s": total["clients"] * args.rate,
        "sent_per_s": total["sent"] / window,
        "delivered_per_s": total["delivered_in_window"] / window,
        "ack_p50_ms": percentile(samples["ack_us"], 0.50),
        "ack_p99_ms": percentile(samples["ack_us"], 0.99),
        "delivery_p50_ms": percentile(samples["delivery_us"], 0.50),
        "delivery_p99_ms": percentile(samples["delivery_us"], 0.99),
        "delivery_max_ms": samples["delivery_us"][-1] / 1000 if samples["delivery_us"] else None,
        "send_lag_p99_ms": percentile(samples["send_lag_us"], 0.99),
        "errors": errors,
        "cpu_percent": cpu,
        "rss_mb": {k: v / MB for k, v in rss.items()},
    }


def server_rss(pids: dict[str, int]) -> int:
    total = 0
    for pid in pids.values():
        with contextlib.suppress(OSError):
            total += rss_bytes(pid)
    return total


async def run_pairs(
    target: Target, world_file: Path, clients: int, args: Any, profile_to: Path | None
) -> dict[str, Any]:
    servers = target.server_pids()
    baseline = server_rss(servers)
    gens = Loadgens()
    try:
        connected, failed = await gens.start(
            target, world_file, "pairs", clients // 2, args.procs, args
        )
        print(f"  {target.name}: {connected} connected, {failed} failed", flush=True)
        start = time.monotonic() + 1.0
        await gens.tell(f"go {start}")
        await asyncio.sleep(start + args.warmup - time.monotonic())
        pids = servers | {f"loadgen{i}": p.pid for i, p in enumerate(gens.processes)}
        load_before = os.getloadavg()[0]
        window = Window(pids)
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_total_rss(window, servers, stop))
        main_pid = None if target.kind == "node" else target.pid  # py-spy reads Python only
        spy = _start_profile(main_pid, args.duration, profile_to) if profile_to else None
        await asyncio.sleep(args.duration)
        cpu = window.finish()
        stop.set()
        rss_max = await sampler
        if spy is not None:
            spy.wait(timeout=60)
        reports = await gens.finish(within=120)
    finally:
        gens.kill()
    server_cpu = sum(v for k, v in cpu.items() if k.startswith("server:"))
    loadgen_cpu = sum(v for k, v in cpu.items() if k.startswith("loadgen"))
    summary = {
        "server": server_cpu,
        **{k: v for k, v in cpu.items() if k.startswith("server:")},
        "loadgens": loadgen_cpu,
        "machine": cpu["machine"],
        "others": max(0.0, cpu["machine"] - server_cpu - loadgen_cpu),
    }
    result = merge_pairs(
        reports, summary, {"server_baseline": baseline, "server_max": rss_max}, args
    )
    result["target"] = target.name
    # 1-minute load average at the window's start and end (the run's own server and
    # generator count in it: up to ~1.5 at saturation; ``others`` is the neighbours' CPU).
    result["load_1m"] = [load_before, os.getloadavg()[0]]
    result["server_rss_kb_per_client"] = (rss_max - baseline) / 1024 / max(connected, 1)
    cpu_seconds = server_cpu / 100 * args.duration
    result["server_cpu_us_per_msg"] = cpu_seconds * 1e6 / max(result["delivered_in_window"], 1)
    return result


async def sample_total_rss(window: Window, servers: dict[str, int], stop: asyncio.Event) -> int:
    """Max of the summed RSS of the server's processes (node + nginx), every 0.5 s."""
    peak = 0
    while not stop.is_set():
        peak = max(peak, server_rss(servers))
        window.sample_rss()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return peak


def _start_profile(pid: int | None, duration: float, out: Path) -> Any:
    spy = Path(sys.executable).parent / "py-spy"
    if pid is None or not spy.exists():
        print(
            "  (not a Python server, or py-spy not installed in the venv: no profile)", flush=True
        )
        return None
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(duration))]
    command += ["--format", "raw", "--rate", "100", "--gil", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def run_idle(target: Target, world_file: Path, count: int, args: Any) -> dict[str, Any]:
    servers = target.server_pids()
    baseline = server_rss(servers)
    gens = Loadgens()
    began = time.monotonic()
    try:
        connected, failed = await gens.start(target, world_file, "idle", count, args.procs, args)
        connect_s = time.monotonic() - began
        window = Window(servers)
        peak = 0
        for _ in range(int(args.settle * 2)):
            peak = max(peak, server_rss(servers))
            await asyncio.sleep(0.5)
        cpu = window.finish()
        now = server_rss(servers)
        await gens.tell("stop")
        reports = await gens.finish(within=120)
    finally:
        gens.kill()
    return {
        "target": target.name,
        "idle": count,
        "connected": connected,
        "connect_failed": failed,
        "disconnects": sum(r["disconnects"] for r in reports),
        "connect_errors": {k: v for r in reports for k, v in r["connect_errors"].items()},
        "connect_s": connect_s,
        "server_rss_mb_baseline": baseline / MB,
        "server_rss_mb": now / MB,
        "server_rss_mb_max": max(peak, now) / MB,
        "server_rss_kb_per_connection": (now - baseline) / 1024 / max(connected, 1),
        "server_cpu_percent_idle": sum(v for k, v in cpu.items() if k.startswith("server:")),
        "load_1m": os.getloadavg()[0],
    }


def prepare_world(
    source: RaaselSource, pairs: int, visitors: int, args: Any, scratch: Path
) -> Path:
    """The cached world for these sizes, building it if needed (bench/world.py): accounts
    in-process before the node serves, the rest through the node's API."""
    key = cache_key(pairs, visitors, args.pairs_per_org, source.migrations)
    directory = None if args.rebuild_world else cached(key)
    if directory is not None:
        return directory
    print(f"building world {key} (agents cost one argon2id login each)...", flush=True)
    var_dir = scratch / "setup-var"
    var_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    plans = plan_world(pairs, visitors, args.pairs_per_org)
    env = os.environ | source.env() | RAASEL_ENV | {"RAASEL_VAR_DIR": str(var_dir)}
    accounts = make_accounts(plans, env, scratch)
    print(f"  accounts made in {time.monotonic() - began:.0f} s", flush=True)
    target = start_raasel(source, var_dir, scratch)
    try:
        world = asyncio.run(
            build_world(f"https://localhost:{target.port}", target.ssl_context(), plans, accounts)
        )
    finally:
        target.stop()
    print(f"  built in {time.monotonic() - began:.0f} s", flush=True)
    return store(key, var_dir, world)


def fresh_var(world_dir: Path, scratch: Path, label: str) -> Path:
    var_dir = scratch / f"var-{label}"
    if var_dir.exists():
        shutil.rmtree(var_dir)
    shutil.copytree(world_dir / "var", var_dir)
    return var_dir


def start_target(name: str, var_dir: Path, scratch: Path, args: Any, connections: int) -> Target:
    cpus = args.server_cpu_set
    cert, key = var_dir / "tls" / "cert.pem", var_dir / "tls" / "key.pem"
    if name == "raasel":
        return start_raasel(args.source, var_dir, scratch, cpus, args.switch_interval)
    if name in {"raasel-nginx", "raasel-nginx-plain"}:
        scheme = "https" if name == "raasel-nginx" else "http"
        return start_raasel_behind_nginx(args.source, var_dir, scratch, cpus, scheme, connections)
    if name == "python":
        return start_python(cert, key, var_dir / "python-relay.sqlite3", scratch, cpus)
    return start_node(cert, key, scratch, cpus)


def measure_pairs(
    name: str, world_dir: Path, scratch: Path, clients: int, offered: float, args: Any, run: int
) -> dict[str, Any]:
    """One measurement on a fresh server: ``clients`` in pairs offering ``offered`` msgs/s."""
    trial = argparse.Namespace(**vars(args))
    trial.rate = offered / clients
    var_dir = fresh_var(world_dir, scratch, name)
    target = start_target(name, var_dir, scratch, trial, clients)
    try:
        profile = scratch / f"profile-{name}-{run}.txt" if args.profile else None
        result = asyncio.run(run_pairs(target, world_dir / "world.json", clients, trial, profile))
    finally:
        target.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
    result["run"] = run
    result["offered_per_s"] = offered
    result["verdict"] = report.verdict(result, args.target_p99_ms)
    return result


def measure_idle(
    name: str, world_dir: Path, scratch: Path, count: int, args: Any, run: int
) -> dict[str, Any]:
    var_dir = fresh_var(world_dir, scratch, name)
    target = start_target(name, var_dir, scratch, args, count)
    try:
        idle = asyncio.run(run_idle(target, world_dir / "world.json", count, args))
    finally:
        target.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
    idle["run"] = run
    return idle


def cpu_set(text: str) -> set[int] | None:
    if not text or (os.cpu_count() or 1) < 2:
        return None
    return {int(c) for c in text.split(",")}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", default="", help="clients in pairs, e.g. 200 or 200,2000")
    parser.add_argument("--idle", type=int, default=0, help="idle connections to hold")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2.5, help="messages/s per client")
    parser.add_argument(
        "--offered", default="", help="total msgs/s, e.g. 200,500 (overrides --rate)"
    )
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--generator",
        choices=["node", "python"],
        default="node",
        help="node: socket.io-client (bench/node-loadgen/); python: bench/loadgen.py",
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--features",
        default="message_unread",
        help="client features the generator declares at connect ('' for none: an older client)",
    )
    parser.add_argument("--targets", default="raasel,python,node", help=", ".join(TARGETS))
    parser.add_argument("--raasel-commit", default="", help="run this commit's src/ (git archive)")
    parser.add_argument("--server-cpus", default="0", help="CPUs of the server ('' : no pinning)")
    parser.add_argument("--loadgen-cpus", default="1", help="CPUs of the load generators")
    parser.add_argument("--target-p99-ms", type=float, default=100.0, help="pass: delivery p99")
    parser.add_argument("--sweep", action="store_true", help="highest passing offered rate")
    parser.add_argument("--sweep-start", type=float, default=100.0, help="first msgs/s tried")
    parser.add_argument("--sweep-max", type=float, default=20000.0, help="highest msgs/s tried")
    parser.add_argument("--sweep-precision", type=float, default=0.1, help="stop at hi/lo-1")
    parser.add_argument("--sweep-budget", type=float, default=600.0, help="s per server and size")
    parser.add_argument("--pairs-per-org", type=int, default=50)
    parser.add_argument("--settle", type=float, default=5.0, help="idle: seconds held")
    parser.add_argument("--rebuild-world", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the Python servers")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="diagnostics: run the Raasel node with this sys.setswitchinterval()",
    )
    args = parser.parse_args()
    args.client_counts = [int(c) for c in args.clients.split(",") if c]
    if not args.client_counts and not args.idle:
        parser.error("give --clients and/or --idle")
    if any(c % 2 or c <= 0 for c in args.client_counts):
        parser.error("--clients must be even (pairs)")
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    args.offered_rates = [float(r) for r in args.offered.split(",") if r]
    args.server_cpu_set = cpu_set(args.server_cpus)
    args.loadgen_cpu_set = cpu_set(args.loadgen_cpus)
    return args


def main() -> None:
    from bench.sweep import sweep

    args = parse_args()
    raise_fd_limit()  # inherited by the servers and the load generators
    args.source = raasel_source(args.raasel_commit)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    scratch = RESULTS / f"run-{stamp}"
    scratch.mkdir(parents=True)
    pairs_needed = max(args.client_counts, default=0) // 2
    world_dir = prepare_world(args.source, pairs_needed, args.idle, args, scratch)
    results: list[dict[str, Any]] = []
    idle_results: list[dict[str, Any]] = []
    sweeps: list[dict[str, Any]] = []
    began = time.monotonic()
    try:
        for clients in args.client_counts:
            if args.sweep:
                for name in args.targets:
                    found = sweep(name, clients, args, world_dir, scratch, measure_pairs)
                    sweeps.append(found)
                    results += found["trials"]
                continue
            rates = args.offered_rates or [args.rate * clients]
            for run in range(1, args.repeat + 1):
                for offered in rates:
                    for name in args.targets:
                        result = measure_pairs(
                            name, world_dir, scratch, clients, offered, args, run
                        )
                        results.append(result)
                        report.print_pairs([result], header=not results[:-1])
        if args.idle:
            for run in range(1, args.repeat + 1):
                for name in args.targets:
                    idle = measure_idle(name, world_dir, scratch, args.idle, args, run)
                    idle_results.append(idle)
                    print(json.dumps(idle), flush=True)
    finally:
        summary = {
            "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
            "raasel": args.source.label,
            "machine": {"nproc": os.cpu_count(), "cpu": cpu_model(), "load": os.getloadavg()},
            "elapsed_s": time.monotonic() - began,
            "args": {k: v for k, v in vars(args).items() if k != "source"},
            "pairs": results,
            "sweeps": [{k: v for k, v in s.items() if k != "trials"} for s in sweeps],
            "idle": idle_results,
        }
        out = RESULTS / f"bench-{stamp}.json"
        out.write_text(json.dumps(summary, indent=2, default=str))
    print(f"\nRaasel: {args.source.label}; load average {os.getloadavg()[0]:.1f}")
    if results:
        report.print_pairs(results)
    if sweeps:
        report.print_sweeps(sweeps, args.target_p99_ms)
    if idle_results:
        report.print_idle(idle_results)
    print(f"results: {out}")


if __name__ == "__main__":
    main()
