"""The load generator: one process driving many lean Socket.IO clients (bench/eio.py).

Started by bench/run.py, which talks to it on stdin/stdout:

    loadgen -> "ready <connected> <failed>"   every client has tried to connect
    run     -> "go <monotonic start>"         (pairs) send from then on, report, exit
    run     -> "stop"                         (idle) disconnect, report, exit

In ``pairs`` mode both sides of every pair send ``message:send`` at ``--rate`` per second
(random phase). The text carries the sender's ``time.monotonic_ns()`` (one clock for every
process of the machine), so the peer measures delivery latency from the ``message:new``
it receives; ack latency is send -> acknowledgement. Only messages sent inside the
measured window (after the warm-up) count for the latency percentiles, and a message
of the window that was not acknowledged with ``ok``, or not delivered to the peer, by the
end of the drain is ``lost`` (tracked per client id: both sides of a pair live in the
same process).

``--target`` names the wire flavour, not the server: ``raasel`` sends into the pair's real
conversation; ``python`` and ``node`` (the reference relays) take the pair id instead.

No ``receipt:*`` is emitted: this generator is not the web client (whose receipts per
delivered message the browser tests count), so it cannot measure them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import random
import resource
import ssl
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.eio import ConnectRefused, LeanSocket
from bench.world import World

MAX_IN_FLIGHT = 64  # per client: beyond this the client skips its turn (and says so)
PADDING = "x" * 40  # ~64-character messages, typical for chat


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Stats:
    window_start: int = 0  # monotonic ns
    window_end: int = 0
    connected: int = 0
    connect_failed: int = 0
    connect_errors: Counter[str] = field(default_factory=Counter)
    disconnects: int = 0
    sent: int = 0  # in the window
    skipped: int = 0  # turns skipped for too many messages in flight
    acked: int = 0
    ack_errors: Counter[str] = field(default_factory=Counter)
    delivered: int = 0  # of messages sent in the window
    delivered_in_window: int = 0  # received inside the window, whenever sent
    # Messages of the window not yet both acked ok (bit 1) and delivered (bit 2).
    outstanding: dict[str, int] = field(default_factory=dict)
    refused: int = 0  # messages of the window answered with an error
    echoes: int = 0
    other_events: Counter[str] = field(default_factory=Counter)
    ack_us: list[int] = field(default_factory=list)
    delivery_us: list[int] = field(default_factory=list)
    send_lag_us: list[int] = field(default_factory=list)

    def in_window(self, t: int) -> bool:
        return self.window_start <= t < self.window_end

    def settle(self, client_id: str, bit: int) -> None:
        state = self.outstanding.get(client_id)
        if state is None:
            return
        if state | bit == 3:
            del self.outstanding[client_id]
        else:
            self.outstanding[client_id] = state | bit


class Client:
    """One side of a pair (or an idle visitor)."""

    __slots__ = ("conversation_id", "in_flight", "seq", "side", "sock", "stats", "tag")

    def __init__(self, stats: Stats, tag: str, side: str, conversation_id: str) -> None:
        self.stats = stats
        self.tag = tag
        self.side = side
        self.conversation_id = conversation_id
        self.in_flight: dict[int, tuple[int, str]] = {}  # ack id -> (sent at, client id)
        self.seq = 0
        self.sock = LeanSocket(self.on_event, self.on_ack, self.on_close)

    def on_close(self) -> None:
        self.stats.disconnects += 1

    def on_ack(self, ack_id: int, data: Any) -> None:
        sent = self.in_flight.pop(ack_id, None)
        if sent is None:
            return
        sent_at, client_id = sent
        stats = self.stats
        if not stats.in_window(sent_at):
            return
        if isinstance(data, dict) and data.get("ok") is True:
            stats.acked += 1
            stats.ack_us.append((time.monotonic_ns() - sent_at) // 1000)
            stats.settle(client_id, 1)
        else:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            stats.ack_errors[str(error.get("code", "malformed"))] += 1
            if stats.outstanding.pop(client_id, None) is not None:
                stats.refused += 1  # lost: the drain need not wait for it

    def on_event(self, name: str, data: Any) -> None:
        stats = self.stats
        if name != "message:new":
            stats.other_events[name] += 1
            return
        now = time.monotonic_ns()
        message = data["message"]
        text: str = message["text"]
        if not text.startswith("t"):
            stats.other_events["message:new(other)"] += 1
            return
        if message["client_id"].split(".")[2] == self.side:
            stats.echoes += 1
            return
        sent_at = int(text[1 : text.index(" ")])
        if stats.in_window(now):
            stats.delivered_in_window += 1
        if stats.in_window(sent_at):
            stats.delivered += 1
            stats.delivery_us.append((now - sent_at) // 1000)
            stats.settle(message["client_id"], 2)

    async def send(self, nonce: str) -> None:
        sent_at = time.monotonic_ns()
        self.seq += 1
        client_id = f"{nonce}.{self.tag}.{self.side}.{self.seq}"
        payload = {
            "conversation_id": self.conversation_id,
            "client_id": client_id,
            "text": f"t{sent_at} {PADDING}",
        }
        if self.stats.in_window(sent_at):
            self.stats.sent += 1
            self.stats.outstanding[client_id] = 0
        ack_id = await self.sock.emit("message:send", payload)
        assert ack_id is not None
        self.in_flight[ack_id] = (sent_at, client_id)


def make_clients(world: World, mode: str, target: str, first: int, last: int) -> list[Client]:
    stats = Stats()
    clients: list[Client] = []
    if mode == "idle":
        for n, token in enumerate(world.visitors[first:last], start=first):
            client = Client(stats, f"v{n}", "customer", "")
            client.conversation_id = token  # kept here: idle clients never send
            clients.append(client)
        return clients
    for n, pair in enumerate(world.pairs[first:last], start=first):
        conversation = pair.conversation_id if target == "raasel" else f"p{n}"
        clients.append(Client(stats, f"p{n}", "customer", conversation))
        clients.append(Client(stats, f"p{n}", "agent", conversation))
    return clients


def auth_of(
    client: Client, world: World, mode: str, features: list[str] | None = None
) -> dict[str, Any]:
    """What a client sends at connect; ``features`` as the web app declares them
    (docs/protocol.md, "Client features"; the relays ignore them)."""
    if mode == "idle":
        return {"token": client.conversation_id, "pair": client.tag, "side": "customer"}
    pair = world.pairs[int(client.tag[1:])]
    token = pair.customer_token if client.side == "customer" else pair.agent_token
    auth: dict[str, Any] = {"token": token, "pair": client.tag, "side": client.side}
    if features:
        auth["features"] = features
    return auth


async def connect_all(
    clients: list[Client],
    world: World,
    mode: str,
    url: str,
    ctx: ssl.SSLContext,
    parallel: int,
    agent_server: tuple[str, ssl.SSLContext] | None = None,
    features: list[str] | None = None,
) -> None:
    """Connect every client; agents go to ``agent_server`` when given (two-node runs)."""
    limit = asyncio.Semaphore(parallel)
    stats = clients[0].stats

    async def one(client: Client) -> None:
        where, context = (url, ctx)
        if agent_server is not None and client.side == "agent":
            where, context = agent_server
        async with limit:
            try:
                await client.sock.connect(where, auth_of(client, world, mode, features), context)
                stats.connected += 1
            except (OSError, TimeoutError, ConnectionError, ConnectRefused) as exc:
                stats.connect_failed += 1
                stats.connect_errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            except Exception as exc:  # websockets' handshake errors and the like
                stats.connect_failed += 1
                stats.connect_errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1

    await asyncio.gather(*(one(c) for c in clients))


async def drive(clients: list[Client], rate: float, start: float, end: float, nonce: str) -> None:
    """Every client sends at ``rate``/s from ``start`` to ``end`` (monotonic seconds)."""
    stats = clients[0].stats
    interval = 1 / rate
    heap = [(start + random.random() * interval, n) for n in range(len(clients))]
    heapq.heapify(heap)
    while heap:
        due, n = heap[0]
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
            continue
        if due + interval < end:
            heapq.heapreplace(heap, (due + interval, n))
        else:
            heapq.heappop(heap)
        client = clients[n]
        if not client.sock.is_connected:
            continue
        if len(client.in_flight) >= MAX_IN_FLIGHT:
            stats.skipped += 1
            continue
        if due * 1e9 >= stats.window_start:
            stats.send_lag_us.append(int((now - due) * 1e6))
        try:
            await client.send(nonce)
        except Exception:
            stats.ack_errors["send_failed"] += 1


async def drain(clients: list[Client], deadline: float) -> None:
    """Wait until every message of the window is acknowledged and delivered, or deadline."""
    stats = clients[0].stats
    while time.monotonic() < deadline:
        if not stats.outstanding:
            return
        await asyncio.sleep(0.1)


def report(clients: list[Client], mode: str) -> dict[str, Any]:
    stats = clients[0].stats if clients else Stats()
    lost_acks = sum(1 for c in clients for t, _ in c.in_flight.values() if stats.in_window(t))
    out: dict[str, Any] = {
        "mode": mode,
        "clients": len(clients),
        "connected": stats.connected,
        "connect_failed": stats.connect_failed,
        "connect_errors": dict(stats.connect_errors.most_common(5)),
        "disconnects": stats.disconnects,
    }
    if mode == "pairs":
        out |= {
            "window_s": (stats.window_end - stats.window_start) / 1e9,
            "sent": stats.sent,
            "skipped": stats.skipped,
            "acked": stats.acked,
            "ack_errors": dict(stats.ack_errors),
            "ack_missing": lost_acks,
            "delivered": stats.delivered,
            "delivered_in_window": stats.delivered_in_window,
            "lost": len(stats.outstanding) + stats.refused,
            "echoes": stats.echoes,
            "other_events": dict(stats.other_events),
            "ack_us": stats.ack_us,
            "delivery_us": stats.delivery_us,
            "send_lag_us": stats.send_lag_us,
        }
    return out


async def main_async(args: argparse.Namespace) -> None:
    world = World.load(Path(args.world))
    clients = make_clients(world, args.mode, args.target, args.first, args.last)
    ctx = ssl.create_default_context(cafile=args.ca)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    agent_server = None
    if args.agent_url:
        agent_server = (args.agent_url, ssl.create_default_context(cafile=args.agent_ca or args.ca))
    features = [f for f in args.features.split(",") if f]
    await connect_all(
        clients, world, args.mode, args.url, ctx, args.parallel, agent_server, features
    )
    stats = clients[0].stats
    print(f"ready {stats.connected} {stats.connect_failed}", flush=True)
    command = (await reader.readline()).decode().split()
    if args.mode == "pairs" and command and command[0] == "go":
        start = float(command[1])
        stats.window_start = int((start + args.warmup) * 1e9)
        stats.window_end = int((start + args.warmup + args.duration) * 1e9)
        end = start + args.warmup + args.duration
        nonce = f"{int(time.time())}{random.randrange(1000)}"
        await drive(clients, args.rate, start, end, nonce)
        await drain(clients, end + args.drain)
    elif args.mode == "idle":
        while command and command[0] != "stop":
            command = (await reader.readline()).decode().split()
    await asyncio.to_thread(Path(args.out).write_text, json.dumps(report(clients, args.mode)))
    for client in clients:
        client.sock.on_close = lambda: None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(*(c.sock.close() for c in clients), return_exceptions=True)
    print("done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="wss://127.0.0.1:PORT/socket.io/?...")
    parser.add_argument("--ca", required=True, help="the server's certificate (PEM)")
    parser.add_argument("--agent-url", default="", help="agents connect here (two nodes)")
    parser.add_argument("--agent-ca", default="", help="that server's certificate")
    parser.add_argument("--world", required=True)
    parser.add_argument("--target", choices=["raasel", "python", "node"], required=True)
    parser.add_argument("--mode", choices=["pairs", "idle"], default="pairs")
    parser.add_argument("--first", type=int, default=0, help="first pair/visitor of the slice")
    parser.add_argument("--last", type=int, required=True, help="end of the slice (excluded)")
    parser.add_argument("--rate", type=float, default=2.5, help="messages/s per client")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--drain", type=float, default=5.0)
    parser.add_argument("--parallel", type=int, default=64, help="connects in flight")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--features", default="message_unread", help="client features declared at connect"
    )
    args = parser.parse_args()
    raise_fd_limit()
    try:
        import uvloop

        uvloop.run(main_async(args))
    except ImportError:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
