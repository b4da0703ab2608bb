"""Instructions of the whole node per delivered message, counted by valgrind: the socket
path end to end (TLS, Engine.IO, Socket.IO, dispatch, the engine's unit, COMMIT, the
fan-out and the ack), in a figure that does not depend on what else the machine is doing.

    .venv/bin/python -m bench.node_instructions [--pairs 1,16] [--messages 96]
        [--features message_unread] [--raasel-commit REV] [--target python]
        [--database postgresql] [--redis]
        [--database postgresql]

The node runs under ``valgrind --tool=callgrind`` on a copy of bench.run's cached world
(built first if missing), with the heartbeat at 300 s so no ping falls in a window and the
router's models off (start-up only). python-socketio clients outside valgrind connect
``pairs`` customer/agent pairs, warm up, then for each window: ``callgrind_control -z``
zeroes the node's counters, the pairs exchange ``messages`` messages in all (each pair
one at a time: the customer writes, the agent's console gets it, the agent answers), and
``callgrind_control -d`` dumps them. An idle window of the same length is counted too and
subtracted (timers, sweeps). Result: (window - idle) / delivered messages. ``--pairs 1``
is a lightly loaded node (every batch one unit); more pairs share batches. ``--features
''`` connects as a client that declares no features (docs/protocol.md). ``--database
postgresql`` runs the node on a fresh copy of bench.scale_out's PostgreSQL world;
``--redis`` gives it a private redis-server (the scale-out configuration's rate limits,
presence and fan-out). PostgreSQL and Redis run outside valgrind and are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from bench.targets import RAASEL_ENV, Target, free_port, raasel_source
from bench.world import World

ROOT = Path(__file__).resolve().parents[1]
PROFILE_TO: Path | None = None  # --profile: cProfile stats of the first window go here
# The dump's closing ``totals:`` line: the sum of its cost lines. Its ``summary:`` header
# (what callgrind_annotate prints as PROGRAM TOTALS) read about 18% lower on the one dump
# compared; every figure in docs/benchmarks.md reads ``totals:``, so they compare.
TOTALS = re.compile(r"^totals: (\d+)", re.MULTILINE)


@dataclass
class Client:
    """One socket of the exchange: its python-socketio client, the ``message:new`` it got."""

    sio: socketio.AsyncClient
    http: aiohttp.ClientSession
    inbox: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    async def close(self) -> None:
        await self.sio.disconnect()
        await self.http.close()


@dataclass
class Pair:
    conversation_id: str
    customer: Client
    agent: Client
    seq: int = 0


async def _client(
    url: str, auth: dict[str, Any], ctx: ssl.SSLContext, features: list[str]
) -> Client:
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx))
    sio = socketio.AsyncClient(reconnection=False)
    sio.eio.http = http
    client = Client(sio, http)
    sio.on("message:new", client.inbox.put)
    if features:
        auth = {**auth, "features": features}
    await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=120)
    return client


async def _one(sender: Client, receiver: Client, cid: str, client_id: str) -> None:
    ack = await sender.sio.call(
        "message:send",
        {"conversation_id": cid, "client_id": client_id, "text": f"m {client_id}"},
        timeout=120,
    )
    if not ack.get("ok"):
        raise RuntimeError(f"send refused: {ack}")
    while True:
        got = await asyncio.wait_for(receiver.inbox.get(), timeout=120)
        if got["message"]["client_id"] == client_id:
            return


async def _exchange(pairs: list[Pair], messages: int, tag: str) -> None:
    per_pair = messages // len(pairs)

    async def run(pair: Pair) -> None:
        for n in range(per_pair):
            pair.seq += 1
            client_id = f"{tag}.{pair.conversation_id}.{pair.seq}"
            if n % 2 == 0:
                await _one(pair.customer, pair.agent, pair.conversation_id, client_id)
            else:
                await _one(pair.agent, pair.customer, pair.conversation_id, client_id)

    await asyncio.gather(*(run(p) for p in pairs))


def _control(flag: str, pid: int) -> None:
    if PROFILE_TO is not None:  # cProfile instead of valgrind (bench/raasel_profiled.py)
        os.kill(pid, signal.SIGUSR1 if flag == "-z" else signal.SIGUSR2)
        return
    subprocess.run(["callgrind_control", flag, str(pid)], check=True, capture_output=True)


def _dumped(out_dir: Path, pid: int, before: set[Path]) -> int:
    if PROFILE_TO is not None:
        return 0
    new = sorted(set(out_dir.glob(f"callgrind.{pid}.*")) - before)
    if not new:
        raise RuntimeError("callgrind wrote no dump")
    found = TOTALS.findall(new[-1].read_text(errors="replace"))
    return max(int(n) for n in found)


async def _window(pid: int, out_dir: Path, work: Any) -> tuple[int, float]:
    """Instructions of the node while ``work`` runs, and its wall time."""
    before = await asyncio.to_thread(lambda: set(out_dir.glob(f"callgrind.{pid}.*")))
    await asyncio.to_thread(_control, "-z", pid)
    began = time.monotonic()
    await work()
    elapsed = time.monotonic() - began
    await asyncio.to_thread(_control, "-d", pid)
    return await asyncio.to_thread(_dumped, out_dir, pid, before), elapsed


async def measure(
    target: Target, world: World, pairs: int, messages: int, features: list[str], out: Path
) -> dict[str, Any]:
    ctx = target.ssl_context()
    url = f"https://localhost:{target.port}"
    made: list[Pair] = []
    for n, p in enumerate(world.pairs[:pairs]):
        if target.kind == "python":  # the relay's wire: any token, the pair and side named
            auth = {"pair": f"p{n}", "token": "relay"}
            customer = await _client(url, {**auth, "side": "customer"}, ctx, features)
            agent = await _client(url, {**auth, "side": "agent"}, ctx, features)
            made.append(Pair(f"p{n}", customer, agent))
            continue
        customer = await _client(url, {"token": p.customer_token}, ctx, features)
        agent = await _client(url, {"token": p.agent_token}, ctx, features)
        made.append(Pair(p.conversation_id, customer, agent))
    try:
        nonce = uuid.uuid4().hex[:8]  # client ids are never reused (a reuse is a retry)
        await _exchange(made, 4 * len(made), f"warm-{nonce}")
        busy, elapsed = await _window(
            target.pid, out, lambda: _exchange(made, messages, f"w-{nonce}")
        )
        if PROFILE_TO is not None:
            return {"pairs": pairs, "profile": str(PROFILE_TO)}
        idle, _ = await _window(target.pid, out, lambda: asyncio.sleep(elapsed))
    finally:
        for pair in made:
            await pair.customer.close()
            await pair.agent.close()
    delivered = (messages // pairs) * pairs
    return {
        "pairs": pairs,
        "delivered": delivered,
        "window_s": round(elapsed, 1),
        "instructions_window": busy,
        "instructions_idle": idle,
        "per_message": (busy - idle) // delivered,
    }


def start_relay(var_dir: Path, out_dir: Path) -> Target:
    """The bare python-socketio + SQLite group-commit relay (bench/python_relay.py), under
    valgrind like the node: the stack's own floor."""
    port = free_port()
    cert, key = var_dir / "tls" / "cert.pem", var_dir / "tls" / "key.pem"
    target = Target("python", "python", port, cert)
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_dir}/callgrind.%p",
        sys.executable,
        "-m",
        "bench.python_relay",
        *("--cert", str(cert), "--key", str(key)),
        *("--db", str(out_dir / "relay.sqlite3"), "--port", str(port)),
    ]
    target.spawn("python", command, dict(os.environ), out_dir / "relay.log", None)
    target.wait_ready_https("/socket.io/?EIO=4&transport=polling", timeout=600)
    return target


def start_node(var_dir: Path, out_dir: Path, env_extra: dict[str, str]) -> Target:
    port = free_port()
    target = Target("raasel", "raasel", port, var_dir / "tls" / "cert.pem")
    env = os.environ | env_extra | RAASEL_ENV
    env |= {
        "RAASEL_VAR_DIR": str(var_dir),
        "RAASEL_HTTPS_PORT": str(port),
        "RAASEL_HEARTBEAT_INTERVAL_SECONDS": "300",
        "RAASEL_HEARTBEAT_TIMEOUT_SECONDS": "300",
        "RAASEL_EMBEDDING_MODEL": "none",
    }
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_dir}/callgrind.%p",
        sys.executable,
        "-m",
        "raasel.cli",
        "serve",
    ]
    if PROFILE_TO is not None:
        command = [sys.executable, "-m", "bench.raasel_profiled", str(PROFILE_TO), "serve"]
    target.spawn("raasel", command, env, out_dir / "node.log", None)
    target.wait_ready_https("/readyz", timeout=900)
    return target


def main() -> None:
    from bench.run import RESULTS, fresh_var, prepare_world, raise_fd_limit
    from bench.scale_out import Redis, pg, pg_url, prepare_pg_world

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", default="1,16", help="pairs writing at once, per window")
    parser.add_argument("--messages", type=int, default=96, help="messages per window")
    parser.add_argument("--features", default="message_unread")
    parser.add_argument(
        "--target", choices=["raasel", "python"], default="raasel", help="python: the relay"
    )
    parser.add_argument("--raasel-commit", default="", help="run this commit's src/")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--redis", action="store_true", help="a private redis-server too")
    parser.add_argument("--pairs-per-org", type=int, default=50)
    parser.add_argument("--rebuild-world", action="store_true")
    parser.add_argument(
        "--profile", default="", help="diagnostics: cProfile the first window into this file"
    )
    args = parser.parse_args()
    global PROFILE_TO
    PROFILE_TO = Path(args.profile).resolve() if args.profile else None
    raise_fd_limit()
    source = raasel_source(args.raasel_commit)
    counts = [int(p) for p in args.pairs.split(",") if p]
    features = [f for f in args.features.split(",") if f]
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="node-instr-", dir=RESULTS))
    database = ""
    if args.database == "postgresql":
        world_dir, template = prepare_pg_world(max(counts), args, scratch)
        database = f"raasel_bench_instr_{os.getpid()}"
        asyncio.run(pg(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
    else:
        world_dir = prepare_world(source, max(counts), 0, args, scratch)
    world = World.load(world_dir / "world.json")
    var_dir = fresh_var(world_dir, scratch, "raasel")
    redis = Redis(scratch) if args.redis else None
    if args.target == "python":
        target = start_relay(var_dir, scratch)
    else:
        extra = source.env() | ({"RAASEL_DATABASE_URL": pg_url(database)} if database else {})
        if redis is not None:
            extra["RAASEL_REDIS_URL"] = redis.url
        target = start_node(var_dir, scratch, extra)
    rows = []
    try:
        for pairs in counts:
            rows.append(
                asyncio.run(measure(target, world, pairs, args.messages, features, scratch))
            )
    finally:
        target.stop()
        if redis is not None:
            redis.stop()
        if database:
            asyncio.run(pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    label = "the python relay" if args.target == "python" else args.raasel_commit or "working tree"
    also = " + Redis" if args.redis else ""
    print(f"Raasel {label} on {args.database}{also}; features {features or 'none'}")
    print(f"{'pairs':>5} {'delivered':>9} {'window s':>8} {'instructions/message':>21}")
    for row in rows:
        if "profile" in row:
            print(f"{row['pairs']:>5} profile: {row['profile']}")
            continue
        print(
            f"{row['pairs']:>5} {row['delivered']:>9} {row['window_s']:>8} "
            f"{row['per_message']:>21,}"
        )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
