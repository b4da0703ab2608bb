"""The scale-out configuration: Raasel nodes on PostgreSQL + Redis, same workload as run.py.

    .venv/bin/python -m bench.scale_out --clients 600 --rate 0.5 --nodes 1,2

A private ``redis-server`` on a free port, a fresh PostgreSQL database per run (copied
from a cached, migrated world database), and one or two ``raasel serve`` nodes with
distinct ``RAASEL_NODE_ID`` and the same secret key. With two nodes every customer
connects to node 1 and every agent to node 2, so every delivery crosses Redis. The two
nodes, Redis, PostgreSQL and the load generators share the machine's cores, so the
delivered messages per second are also given per server core used (node CPU only, and
node + Redis + PostgreSQL backends).

The world (people, conversations, tokens) is built once over REST into a PostgreSQL
database ``raasel_bench_world_<key>`` that is kept as a template; its key (pairs,
pairs per organization, hashes of world.py and the migrations) and the tokens are kept
in ``bench/results/worlds/<key>-pg/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench.loadgen import raise_fd_limit
from bench.procstat import Window, cpu_model, rss_bytes
from bench.run import RAASEL_ENV, RESULTS, Loadgens, Target, free_port, merge_pairs
from bench.world import WORLDS, build_world, cache_key, make_accounts, plan_world, store

PG_ADMIN = os.environ.get(
    "RAASEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pg_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return f"{driver}://{PG_ADMIN.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"


async def pg(*statements: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        rows: list[asyncpg.Record] = []
        for sql in statements:
            rows = await conn.fetch(sql)
        return rows
    finally:
        await conn.close()


class Redis:
    """A private redis-server (no persistence) on a free port."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"),
            ],
            stdout=(logs / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn,
            ):
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


METRICS_PORTS: dict[str, int] = {}  # node name -> its loopback metrics port


def scrape(name: str) -> dict[str, float]:
    """The committer's histograms (sum and count) of one node, from its metrics port."""
    with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORTS[name]}/metrics", timeout=5) as r:
        text = r.read().decode()
    wanted = ("raasel_commit_seconds", "raasel_commit_batch_units", "raasel_publish_seconds")
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name in wanted:
            for sample in family.samples:
                if sample.name.endswith(("_sum", "_count")):
                    values[sample.name] = values.get(sample.name, 0.0) + sample.value
    return values


def committer_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Batches per second, units per batch and mean batch and publish times in a window."""

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    batches = max(delta("raasel_commit_seconds_count"), 1.0)
    return {
        "batches": batches,
        "units_per_batch": delta("raasel_commit_batch_units_sum") / batches,
        "commit_ms": 1000 * delta("raasel_commit_seconds_sum") / batches,
        "publish_ms": 1000
        * delta("raasel_publish_seconds_sum")
        / max(delta("raasel_publish_seconds_count"), 1.0),
    }


def start_node(
    var_dir: Path, logs: Path, name: str, node_id: int, database: str, redis_url: str
) -> Target:
    port = free_port()
    METRICS_PORTS[name] = free_port()
    target = Target(name, "raasel", port, var_dir / "tls" / "cert.pem")
    env = (
        os.environ.copy()
        | RAASEL_ENV
        | {
            "RAASEL_VAR_DIR": str(var_dir),
            "RAASEL_HTTPS_PORT": str(port),
            "RAASEL_DATABASE_URL": database,
            "RAASEL_NODE_ID": str(node_id),
            "RAASEL_METRICS_PORT": str(METRICS_PORTS[name]),
        }
    )
    if redis_url:
        env["RAASEL_REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "raasel.cli", "serve"]
    target.spawn(name, command, env, logs / f"{name}.log", None)
    target.wait_ready_https("/readyz", timeout=120)
    return target


def prepare_pg_world(pairs: int, args: Any, scratch: Path) -> tuple[Path, str]:
    """The world directory (tokens) and its template database, built if missing."""
    key = cache_key(pairs, 0, args.pairs_per_org) + "-pg"
    template = f"raasel_bench_world_{key.replace('-', '_')}"
    directory = WORLDS / key
    exists = asyncio.run(pg(f"SELECT 1 FROM pg_database WHERE datname = '{template}'"))
    if exists and (directory / "world.json").exists() and not args.rebuild_world:
        return directory, template
    print(f"building world {key} on PostgreSQL (agents cost ~0.25 s each)...", flush=True)
    asyncio.run(
        pg(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)', f'CREATE DATABASE "{template}"')
    )
    var_dir = scratch / "setup-var"
    var_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    # Organizations, owners and agents in the (not yet served) database, as `raasel
    # create-org` / `create-agent` make them; the rest through the node's API.
    plans = plan_world(pairs, 0, args.pairs_per_org)
    env = os.environ | RAASEL_ENV | {"RAASEL_VAR_DIR": str(var_dir)}
    accounts = make_accounts(plans, env | {"RAASEL_DATABASE_URL": pg_url(template)}, scratch)
    node = start_node(var_dir, scratch, "setup", 1, pg_url(template), "")
    try:
        world = asyncio.run(
            build_world(f"https://localhost:{node.port}", node.ssl_context(), plans, accounts)
        )
    finally:
        node.stop()
    print(f"  built in {time.monotonic() - began:.0f} s", flush=True)
    return store(key, var_dir, world), template


async def backend_pids(database: str) -> list[int]:
    rows = await pg(f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'")
    return [int(r["pid"]) for r in rows]


async def run_cluster(
    nodes: list[Target], redis: Redis, database: str, world_file: Path, args: Any
) -> dict[str, Any]:
    first = nodes[0]
    extra: tuple[str, ...] = ()
    if len(nodes) == 2:
        extra = ("--agent-url", nodes[1].url, "--agent-ca", str(nodes[1].cert))
    baselines = {n.name: rss_bytes(n.pid) for n in nodes}
    gens = Loadgens()
    committer: dict[str, dict[str, float]] = {}
    try:
        connected, failed = await gens.start(
            dataclasses.replace(first, name="raasel"),  # the load generator's Raasel mode
            world_file,
            "pairs",
            args.clients // 2,
            args.procs,
            args,
            extra,
        )
        print(f"  {len(nodes)} node(s): {connected} connected, {failed} failed", flush=True)
        start = time.monotonic() + 1.0
        await gens.tell(f"go {start}")
        await asyncio.sleep(start + args.warmup - time.monotonic())
        pids = {n.name: n.pid for n in nodes} | {"redis": redis.process.pid}
        pids |= {f"loadgen{i}": p.pid for i, p in enumerate(gens.processes)}
        pids |= {f"pg{pid}": pid for pid in await backend_pids(database)}
        window = Window(pids)
        scraped = {n.name: await asyncio.to_thread(scrape, n.name) for n in nodes}
        stop = asyncio.Event()
        sampler = asyncio.create_task(window.sample_until(stop))
        await asyncio.sleep(args.duration)
        cpu = window.finish()
        for n in nodes:
            figures = committer_figures(scraped[n.name], await asyncio.to_thread(scrape, n.name))
            committer[n.name] = figures
            print(
                f"  {n.name} committer: {figures['batches'] / args.duration:.0f} batches/s,"
                f" {figures['units_per_batch']:.1f} units each, BEGIN to COMMIT"
                f" {figures['commit_ms']:.1f} ms,"
                f" COMMIT to published {figures['publish_ms']:.1f} ms",
                flush=True,
            )
        stop.set()
        await sampler
        reports = await gens.finish(within=120)
    finally:
        gens.kill()
    node_cpu = sum(cpu.get(n.name, 0.0) for n in nodes)
    loadgen_cpu = sum(v for k, v in cpu.items() if k.startswith("loadgen"))
    pg_cpu = sum(v for k, v in cpu.items() if k.startswith("pg"))
    redis_cpu = cpu.get("redis", 0.0)
    summary = {
        "server": node_cpu,
        **{n.name: cpu.get(n.name, 0.0) for n in nodes},
        "redis": redis_cpu,
        "postgres": pg_cpu,
        "loadgens": loadgen_cpu,
        "machine": cpu["machine"],
        "others": max(0.0, cpu["machine"] - node_cpu - redis_cpu - pg_cpu - loadgen_cpu),
    }
    rss = {"server_baseline": sum(baselines.values())}
    rss["server_max"] = sum(window.rss_max.get(n.name, 0) for n in nodes)
    result = merge_pairs(reports, summary, rss, args)
    result["nodes"] = len(nodes)
    result["committer"] = committer
    result["target"] = f"{len(nodes)}-node"
    delivered = result["delivered_per_s"]
    result["delivered_per_node_core"] = delivered / max(node_cpu / 100, 1e-9)
    all_server = node_cpu + redis_cpu + pg_cpu
    result["delivered_per_server_core"] = delivered / max(all_server / 100, 1e-9)
    result["loadavg_1m"] = os.getloadavg()[0]
    return result


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'nodes':>5} {'run':>3} {'clients':>7} {'sent/s':>7} {'deliv/s':>7} {'ack p50':>8} "
        f"{'ack p99':>8} {'dlv p50':>8} {'dlv p99':>8} {'errors':>6} {'nodes%':>6} {'redis%':>6} "
        f"{'pg%':>5} {'lg%':>5} {'other%':>6} {'/nodecore':>9} {'/srvcore':>8} {'load':>5}"
    )
    for r in results:
        c = r["cpu_percent"]
        print(
            f"{r['nodes']:>5} {r['run']:>3} {r['connected']:>7} {r['sent_per_s']:>7.0f} "
            f"{r['delivered_per_s']:>7.0f} {r['ack_p50_ms']:>8.1f} {r['ack_p99_ms']:>8.1f} "
            f"{r['delivery_p50_ms']:>8.1f} {r['delivery_p99_ms']:>8.1f} {r['errors']:>6} "
            f"{c['server']:>6.0f} {c['redis']:>6.0f} {c['postgres']:>5.0f} {c['loadgens']:>5.0f} "
            f"{c['others']:>6.0f} {r['delivered_per_node_core']:>9.0f} "
            f"{r['delivered_per_server_core']:>8.0f} {r['loadavg_1m']:>5.1f}",
            flush=True,
        )


def one_run(
    count: int, run: int, template: str, world_file: Path, scratch: Path, args: Any
) -> dict[str, Any]:
    database = f"raasel_bench_run_{os.getpid()}_{count}_{run}"
    asyncio.run(pg(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
    redis = Redis(scratch)
    nodes: list[Target] = []
    try:
        for node_id in range(1, count + 1):
            var_dir = scratch / f"var-node{node_id}"
            shutil.rmtree(var_dir, ignore_errors=True)
            nodes.append(
                start_node(var_dir, scratch, f"node{node_id}", node_id, pg_url(database), redis.url)
            )
        result = asyncio.run(run_cluster(nodes, redis, database, world_file, args))
        result["run"] = run
        return result
    finally:
        for node in nodes:
            node.stop()
        redis.stop()
        asyncio.run(pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=600, help="clients in pairs (even)")
    parser.add_argument("--nodes", default="1,2", help="node counts to run, in order")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per client")
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pairs-per-org", type=int, default=50)
    parser.add_argument("--rebuild-world", action="store_true")
    args = parser.parse_args()
    raise_fd_limit()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    scratch = RESULTS / f"scale-{stamp}"
    scratch.mkdir(parents=True)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    world_dir, template = prepare_pg_world(args.clients // 2, args, scratch)
    results: list[dict[str, Any]] = []
    out = RESULTS / f"scale-{stamp}.json"
    try:
        for run in range(1, args.repeat + 1):
            for count in (int(n) for n in args.nodes.split(",") if n):
                result = one_run(count, run, template, world_dir / "world.json", scratch, args)
                results.append(result)
                print_table([result])
    finally:
        summary = {
            "command": " ".join(sys.argv),
            "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()},
            "args": vars(args),
            "world_template_database": template,
            "pairs": results,
        }
        out.write_text(json.dumps(summary, indent=2))
    print()
    print_table(results)
    print(f"results: {out}")


if __name__ == "__main__":
    main()
