"""Runs the benchmark: Raasel and a bare Node socket.io relay, same workload, same run.

    python -m bench.run --clients 2000 --duration 20 --repeat 3
    python -m bench.run --idle 10000

Everything listens on 127.0.0.1 and every wait is bounded. Results go to stdout and, as
JSON, to bench/results/. See docs/benchmarks.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import raise_fd_limit
from bench.procstat import Window, cpu_model, rss_bytes
from bench.world import build_world, cache_key, cached, store

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RELAY = ROOT / "bench" / "node-relay"
MB = 1024 * 1024

# The embedded default (SQLite, synchronous=FULL, group commit), with the per-user and
# per-IP limits raised: every client of the benchmark comes from 127.0.0.1.
RAASEL_ENV = {
    "RAASEL_LOGIN_RATE": "1000000/60",
    "RAASEL_SEND_RATE": "1000000/10",
    "RAASEL_OPEN_RATE": "1000000/60",
    "RAASEL_CONNECT_RATE": "1000000/60",
    "RAASEL_UPLOAD_RATE": "1000000/60",
    "RAASEL_SEED_DEMO": "false",
    "RAASEL_LOG_LEVEL": "warning",
    "RAASEL_HOST": "127.0.0.1",
    "RAASEL_HTTP_PORT": "0",
    # Fixed, so the tokens of a cached world stay valid for a month.
    "RAASEL_SECRET_KEY": "bench-secret-key-of-sufficient-length-0123456789abcdef",
    "RAASEL_ACCESS_TOKEN_TTL_SECONDS": str(30 * 24 * 3600),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Target:
    """A server under test, in its own process group."""

    name: str
    port: int
    cert: Path
    key: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def start(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            try:
                if self.cert.exists():
                    response = httpx.get(
                        f"https://localhost:{self.port}{path}", verify=self.ssl_context(), timeout=2
                    )
                    if response.status_code < 500:
                        return
            except (httpx.HTTPError, ssl.SSLError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:]
        return ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_raasel(var_dir: Path, logs: Path, switch_interval: float | None = None) -> Target:
    port = free_port()
    target = Target("raasel", port, var_dir / "tls" / "cert.pem", var_dir / "tls" / "key.pem")
    env = (
        os.environ.copy()
        | RAASEL_ENV
        | {
            "RAASEL_VAR_DIR": str(var_dir),
            "RAASEL_HTTPS_PORT": str(port),
        }
    )
    command = [sys.executable, "-m", "raasel.cli", "serve"]
    if switch_interval is not None:
        command = [sys.executable, "-m", "bench.raasel_tuned", str(switch_interval), "serve"]
    target.start(command, env, logs / "raasel.log")
    target.wait_ready("/readyz", timeout=120)
    return target


def start_node(cert: Path, key: Path, logs: Path) -> Target:
    if not (RELAY / "node_modules" / "socket.io").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=RELAY,
            check=True,
            timeout=300,
        )
    port = free_port()
    target = Target("node", port, cert, key)
    command = ["node", str(RELAY / "server.mjs"), "--cert", str(cert), "--key", str(key)]
    target.start([*command, "--port", str(port)], os.environ.copy(), logs / "node.log")
    target.wait_ready("/socket.io/?EIO=4&transport=polling", timeout=30)
    return target


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
                *("-m", "bench.loadgen", "--url", target.url, "--ca", str(target.cert)),
                *("--world", str(world_file), "--target", target.name, "--mode", mode),
                *("--first", str(bounds[i]), "--last", str(bounds[i + 1])),
                *("--rate", str(args.rate), "--warmup", str(args.warmup)),
                *("--duration", str(args.duration), "--out", str(out)),
                *extra,
            ]
            self.processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    *command,
                    cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
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
    for report in reports:
        for key, value in report.items():
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
    # Every message sent in the window must be acknowledged and delivered by the end of
    # the drain; a connect that failed counts once.
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


async def run_pairs(
    target: Target, world_file: Path, clients: int, args: Any, profile_to: Path | None
) -> dict[str, Any]:
    baseline = rss_bytes(target.pid)
    gens = Loadgens()
    try:
        connected, failed = await gens.start(
            target, world_file, "pairs", clients // 2, args.procs, args
        )
        print(f"  {target.name}: {connected} connected, {failed} failed", flush=True)
        start = time.monotonic() + 1.0
        await gens.tell(f"go {start}")
        await asyncio.sleep(start + args.warmup - time.monotonic())
        pids = {"server": target.pid} | {f"loadgen{i}": p.pid for i, p in enumerate(gens.processes)}
        window = Window(pids)
        stop = asyncio.Event()
        sampler = asyncio.create_task(window.sample_until(stop))
        spy = _start_profile(target.pid, args.duration, profile_to) if profile_to else None
        await asyncio.sleep(args.duration)
        cpu = window.finish()
        stop.set()
        await sampler
        if spy is not None:
            spy.wait(timeout=60)
        reports = await gens.finish(within=120)
    finally:
        gens.kill()
    loadgen_cpu = sum(v for k, v in cpu.items() if k.startswith("loadgen"))
    cpu = {
        "server": cpu["server"],
        "loadgens": loadgen_cpu,
        "machine": cpu["machine"],
        "others": max(0.0, cpu["machine"] - cpu["server"] - loadgen_cpu),
    }
    rss = {"server_baseline": baseline, "server_max": window.rss_max.get("server", 0)}
    result = merge_pairs(reports, cpu, rss, args)
    result["target"] = target.name
    result["server_rss_kb_per_client"] = (rss["server_max"] - baseline) / 1024 / max(connected, 1)
    cpu_seconds = cpu["server"] / 100 * args.duration
    result["server_cpu_ms_per_1k_msgs"] = cpu_seconds * 1e6 / max(result["delivered_in_window"], 1)
    return result


def _start_profile(pid: int, duration: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        print("  (py-spy is not installed in the venv: no profile)", flush=True)
        return None
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(duration))]
    command += ["--format", "raw", "--rate", "100", "--gil", "--nonblocking", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def run_idle(target: Target, world_file: Path, count: int, args: Any) -> dict[str, Any]:
    baseline = rss_bytes(target.pid)
    gens = Loadgens()
    began = time.monotonic()
    try:
        connected, failed = await gens.start(target, world_file, "idle", count, args.procs, args)
        connect_s = time.monotonic() - began
        window = Window({"server": target.pid})
        for _ in range(int(args.settle * 2)):
            window.sample_rss()
            await asyncio.sleep(0.5)
        cpu = window.finish()
        now = rss_bytes(target.pid)
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
        "connect_s": connect_s,
        "server_rss_mb_baseline": baseline / MB,
        "server_rss_mb": now / MB,
        "server_rss_mb_max": window.rss_max.get("server", now) / MB,
        "server_rss_kb_per_connection": (now - baseline) / 1024 / max(connected, 1),
        "server_cpu_percent_idle": cpu["server"],
    }


def prepare_world(pairs: int, visitors: int, args: Any, scratch: Path) -> Path:
    """The cached world for these sizes, building it through the REST API if needed."""
    key = cache_key(pairs, visitors, args.pairs_per_org)
    directory = None if args.rebuild_world else cached(key)
    if directory is not None:
        return directory
    print(f"building world {key} (agents cost ~0.25 s each in argon2id)...", flush=True)
    var_dir = scratch / "setup-var"
    target = start_raasel(var_dir, scratch)
    began = time.monotonic()
    try:
        world = asyncio.run(
            build_world(
                f"https://localhost:{target.port}",
                target.ssl_context(),
                pairs,
                visitors,
                args.pairs_per_org,
            )
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


def print_pairs_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'target':7} {'run':>3} {'clients':>7} {'sent/s':>8} {'deliv/s':>8} "
        f"{'ack p50':>8} {'ack p99':>8} {'dlv p50':>8} {'dlv p99':>8} {'errors':>6} "
        f"{'srv CPU%':>8} {'lg CPU%':>7} {'other%':>6} {'RSS MB':>7} {'KB/cl':>6}"
    )
    print(header)
    for r in results:
        print(
            f"{r['target']:7} {r['run']:>3} {r['connected']:>7} {r['sent_per_s']:>8.0f} "
            f"{r['delivered_per_s']:>8.0f} {r['ack_p50_ms']:>8.1f} {r['ack_p99_ms']:>8.1f} "
            f"{r['delivery_p50_ms']:>8.1f} {r['delivery_p99_ms']:>8.1f} {r['errors']:>6} "
            f"{r['cpu_percent']['server']:>8.0f} {r['cpu_percent']['loadgens']:>7.0f} "
            f"{r['cpu_percent']['others']:>6.0f} {r['rss_mb']['server_max']:>7.0f} "
            f"{r['server_rss_kb_per_client']:>6.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=0, help="clients in pairs (even)")
    parser.add_argument("--idle", type=int, default=0, help="idle connections to hold")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2.5, help="messages/s per client")
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--targets", default="raasel,node")
    parser.add_argument("--pairs-per-org", type=int, default=50)
    parser.add_argument("--settle", type=float, default=5.0, help="idle: seconds held")
    parser.add_argument("--rebuild-world", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the Raasel node")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="diagnostics: run the Raasel node with this sys.setswitchinterval()",
    )
    args = parser.parse_args()
    if not args.clients and not args.idle:
        parser.error("give --clients and/or --idle")
    raise_fd_limit()  # inherited by the servers and the load generators
    stamp = time.strftime("%Y%m%d-%H%M%S")
    scratch = RESULTS / f"run-{stamp}"
    scratch.mkdir(parents=True)
    world_dir = prepare_world(args.clients // 2, args.idle, args, scratch)
    world_file = world_dir / "world.json"
    targets = args.targets.split(",")
    results: list[dict[str, Any]] = []
    idle_results: list[dict[str, Any]] = []
    try:
        for run in range(1, args.repeat + 1):
            for name in targets:
                var_dir = fresh_var(world_dir, scratch, name)
                if name == "raasel":
                    target = start_raasel(var_dir, scratch, args.switch_interval)
                else:
                    target = start_node(
                        var_dir / "tls" / "cert.pem", var_dir / "tls" / "key.pem", scratch
                    )
                try:
                    if args.clients:
                        profile = (
                            scratch / f"profile-{run}.txt"
                            if args.profile and name == "raasel"
                            else None
                        )
                        result = asyncio.run(
                            run_pairs(target, world_file, args.clients, args, profile)
                        )
                        result["run"] = run
                        results.append(result)
                        print_pairs_table([result])
                    if args.idle:
                        idle = asyncio.run(run_idle(target, world_file, args.idle, args))
                        idle["run"] = run
                        idle_results.append(idle)
                        print(json.dumps(idle), flush=True)
                finally:
                    target.stop()
                shutil.rmtree(var_dir, ignore_errors=True)
    finally:
        summary = {
            "command": " ".join(sys.argv),
            "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()},
            "args": vars(args),
            "pairs": results,
            "idle": idle_results,
        }
        out = RESULTS / f"bench-{stamp}.json"
        out.write_text(json.dumps(summary, indent=2))
    print()
    if results:
        print_pairs_table(results)
        _print_ratios(results)
    for idle in idle_results:
        print(
            f"idle {idle['target']:7} run {idle['run']}: {idle['connected']}/{idle['idle']} "
            f"connected in {idle['connect_s']:.0f} s, server RSS {idle['server_rss_mb']:.0f} MB "
            f"({idle['server_rss_kb_per_connection']:.1f} KB/connection)"
        )
    print(f"results: {out}")


def _print_ratios(results: list[dict[str, Any]]) -> None:
    by_run: dict[int, dict[str, dict[str, Any]]] = {}
    for r in results:
        by_run.setdefault(r["run"], {})[r["target"]] = r
    for run, pair in sorted(by_run.items()):
        if {"raasel", "node"} <= pair.keys():
            py, js = pair["raasel"], pair["node"]
            delivered = py["delivered_per_s"] / max(js["delivered_per_s"], 1e-9)
            line = f"run {run}: raasel/node delivered msgs/s {delivered:.2f}x"
            if py["delivered_in_window"] and js["delivered_in_window"]:
                cost = py["server_cpu_ms_per_1k_msgs"] / js["server_cpu_ms_per_1k_msgs"]
                line += f", server CPU per delivered message {cost:.1f}x"
            print(line)


if __name__ == "__main__":
    main()
