"""Redis bytes per delivered message with 1, 2 and 4 nodes (issue 8, "Fan-out across nodes").

    .venv/bin/python -m bench.fanout_nodes --nodes 1,2,4 --pairs 24 --messages 10
    .venv/bin/python -m bench.fanout_nodes --raasel-commit 9021d87   # python-socketio's
                                                                     # broadcast manager

N ``raasel serve`` nodes share an SQLite file and a private ``redis-server``. A world of
customer/agent pairs is built over REST (bench/world.py: every pair's conversation is
assigned to its agent, agents in no group, so each message has exactly one recipient).
With N > 1 the customer of pair i connects to node i mod N and its agent to the next
node, so every delivery crosses Redis. Both sides send ``--messages`` messages, paced
at ``--rate`` per second in all; a delivered message is a ``message:new`` a client got.

Redis ``INFO stats`` ``total_net_input_bytes`` and ``total_net_output_bytes`` are read
before and after: the bytes of the window, less the bytes of the INFO calls themselves,
divided by the messages delivered in it. Everything a node sends Redis in that window is
counted (fan-out, rate limits, presence, heartbeats); ``idle B/s`` is the same cluster
measured with nobody sending, for the part that does not come from messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from redis import asyncio as aioredis

from bench.scale_out import Redis
from bench.targets import RAASEL_ENV, RaaselSource, Target, free_port, raasel_source
from bench.world import Pair, build_world, make_accounts, plan_world


@dataclass
class Client:
    sio: socketio.AsyncClient
    http: aiohttp.ClientSession
    received: int = 0


def shared_database(scratch: Path) -> str:
    return f"sqlite+aiosqlite:///{scratch / 'shared.sqlite3'}"


def start_nodes(count: int, source: RaaselSource, scratch: Path, redis_url: str) -> list[Target]:
    database = shared_database(scratch)
    nodes: list[Target] = []
    for index in range(1, count + 1):
        var_dir = scratch / f"node{index}"
        port = free_port()
        node = Target(f"node{index}", "raasel", port, var_dir / "tls" / "cert.pem")
        env = os.environ | source.env() | RAASEL_ENV
        env |= {
            "RAASEL_VAR_DIR": str(var_dir),
            "RAASEL_HTTPS_PORT": str(port),
            "RAASEL_DATABASE_URL": database,
            "RAASEL_REDIS_URL": redis_url,
            "RAASEL_NODE_ID": str(index),
        }
        command = [sys.executable, "-m", "raasel.cli", "serve"]
        node.spawn(node.name, command, env, scratch / f"node{index}.log", None)
        node.wait_ready_https("/readyz", timeout=120)  # the first migrates the database
        nodes.append(node)
    return nodes


async def connect(node: Target, token: str) -> Client:
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=node.ssl_context()))
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    client = Client(sio, http)

    @sio.on("message:new")
    async def on_message(_: Any) -> None:
        client.received += 1

    await sio.connect(
        f"https://localhost:{node.port}",
        auth={"token": token},
        transports=["websocket"],
        wait_timeout=20,
    )
    return client


async def net_bytes(redis: aioredis.Redis) -> tuple[int, int]:
    stats = await redis.info("stats")
    return int(stats["total_net_input_bytes"]), int(stats["total_net_output_bytes"])


async def window(
    redis: aioredis.Redis, overhead: tuple[int, int], seconds: float
) -> tuple[int, int]:
    before = await net_bytes(redis)
    await asyncio.sleep(seconds)
    after = await net_bytes(redis)
    return after[0] - before[0] - overhead[0], after[1] - before[1] - overhead[1]


async def measure(
    nodes: list[Target], redis_url: str, pairs: list[Pair], args: Any
) -> dict[str, Any]:
    count = len(nodes)
    sides: list[tuple[Client, Client, str]] = []
    for i, pair in enumerate(pairs):
        customer = await connect(nodes[i % count], pair.customer_token)
        agent = await connect(nodes[(i + 1) % count], pair.agent_token)
        sides.append((customer, agent, pair.conversation_id))
    redis = aioredis.Redis.from_url(redis_url)
    try:
        # What two INFO calls cost by themselves, to take off every window.
        first, second = await net_bytes(redis), await net_bytes(redis)
        overhead = (second[0] - first[0], second[1] - first[1])
        await asyncio.sleep(2)  # connects and presence settle
        idle = await window(redis, overhead, args.idle)

        total = len(sides) * 2 * args.messages
        gap = 1 / args.rate
        before = await net_bytes(redis)
        began = time.monotonic()
        sent = attempts = 0
        for round_ in range(args.messages):
            for customer, agent, cid in sides:
                for client in (customer, agent):
                    payload = {
                        "conversation_id": cid,
                        "client_id": uuid.uuid4().hex,
                        "text": f"message {round_} of a benchmark about fan-out bytes",
                    }
                    ack = await client.sio.call("message:send", payload, timeout=30)
                    sent += bool(ack.get("ok"))
                    attempts += 1
                    await asyncio.sleep(max(0.0, began + attempts * gap - time.monotonic()))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sum(c.received + a.received for c, a, _ in sides) >= total:
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - began
        after = await net_bytes(redis)
    finally:
        await redis.aclose()
        for customer, agent, _ in sides:
            for client in (customer, agent):
                with contextlib.suppress(Exception):
                    await client.sio.disconnect()
                await client.http.close()
    delivered = sum(c.received + a.received for c, a, _ in sides)
    into = after[0] - before[0] - overhead[0]
    out = after[1] - before[1] - overhead[1]
    per = max(delivered, 1)
    idle_rate = (idle[0] + idle[1]) / args.idle
    return {
        "nodes": count,
        "sent": sent,
        "delivered": delivered,
        "seconds": elapsed,
        "in_per_message": into / per,
        "out_per_message": out / per,
        "total_per_message": (into + out) / per,
        "idle_bytes_per_s": idle_rate,
        "net_of_idle_per_message": (into + out - idle_rate * elapsed) / per,
    }


def one_run(count: int, source: RaaselSource, args: Any) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix=f"raasel-fanout-{count}-"))
    redis = Redis(scratch)
    nodes: list[Target] = []
    try:
        # Organizations, owners and agents in the shared database before any node serves
        # (as `raasel create-org` / `create-agent` make them); the rest through the API.
        plans = plan_world(args.pairs, 0, args.pairs_per_org)
        env = os.environ | source.env() | RAASEL_ENV
        env |= {
            "RAASEL_VAR_DIR": str(scratch / "node1"),
            "RAASEL_DATABASE_URL": shared_database(scratch),
        }
        accounts = make_accounts(plans, env, scratch)
        nodes = start_nodes(count, source, scratch, redis.url)
        first = nodes[0]
        world = asyncio.run(
            build_world(f"https://localhost:{first.port}", first.ssl_context(), plans, accounts)
        )
        return asyncio.run(measure(nodes, redis.url, world.pairs, args))
    finally:
        for node in nodes:
            node.stop()
        redis.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", default="1,2,4")
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--pairs-per-org", type=int, default=12)
    parser.add_argument("--messages", type=int, default=10, help="per client")
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s, all clients")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of the idle window")
    parser.add_argument("--raasel-commit", default="", help="run this commit's src/")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories")
    args = parser.parse_args()
    source = raasel_source(args.raasel_commit)
    print(f"raasel: {source.label}; {args.pairs} pairs, {args.messages} messages per client")
    print(
        f"{'nodes':>5} {'sent':>6} {'deliv':>6} {'in B/msg':>9} {'out B/msg':>9} "
        f"{'total B/msg':>11} {'net of idle':>11} {'idle B/s':>9}"
    )
    for count in (int(n) for n in args.nodes.split(",")):
        r = one_run(count, source, args)
        print(
            f"{r['nodes']:>5} {r['sent']:>6} {r['delivered']:>6} {r['in_per_message']:>9.0f} "
            f"{r['out_per_message']:>9.0f} {r['total_per_message']:>11.0f} "
            f"{r['net_of_idle_per_message']:>11.0f} {r['idle_bytes_per_s']:>9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
