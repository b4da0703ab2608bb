"""Social channel webhooks on one node: signed ingestion throughput, and the time from a
webhook's POST to the message reaching an agent's console (issue 16).

    .venv/bin/python -m bench.channel_webhooks [--webhooks 2000] [--concurrency 16]
        [--contacts 200] [--latency-samples 50]

Starts a real node (``raasel serve`` over TLS, SQLite, tests/support/server.py) pointed at
the tests' fake Graph API, connects a WhatsApp channel, then:

1. **Ingestion**: ``--concurrency`` clients POST ``--webhooks`` signed WhatsApp message
   webhooks (each one text message, for ``--contacts`` contacts in turn) as fast as the
   node answers 200; reports acknowledged webhooks/s and the acks' p50/p95, then how
   long the worker took to drain the queue (messages appended/s, conversations opened
   included).
2. **Latency**: one webhook at a time, each from a new contact (the open path: contact,
   conversation, routing), times the POST until the supervisor's console socket gets the
   ``message:new``; p50/p95/max.

Results go to docs/benchmarks.md ("Social channel webhooks") with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.api.channel_setup import connect, digits, graph_env, post, text_payload
from tests.support.clients import World, unique
from tests.support.fake_graph import FakeGraph
from tests.support.server import RunningServer


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(webhooks: int, concurrency: int, contacts: int, samples: int) -> None:
    graph = FakeGraph()
    graph.start()
    node = RunningServer(
        Path(tempfile.mkdtemp(prefix="raasel-channel-bench-")),
        graph_env(graph) | {"RAASEL_CHANNEL_POLL_SECONDS": "1", "RAASEL_LOG_LEVEL": "error"},
    )
    node.start()
    world = World(node)
    try:
        tenant = await world.tenant(policy="manual", agents=1)
        channel = await connect(world, tenant, "whatsapp", group_id=tenant.groups["support"]["id"])
        people = [digits() for _ in range(contacts)]
        run_id = unique("")
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(webhooks):
            queue.put_nowait(n)
        acks: list[float] = []

        async def poster() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                contact = people[n % contacts]
                body = text_payload(channel, contact, f"wamid.B{run_id}.{n}", f"m{n} {run_id}")
                started = time.perf_counter()
                answer = await post(world, channel, body)
                acks.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text

        load_before = os.getloadavg()
        started = time.perf_counter()
        await asyncio.gather(*(poster() for _ in range(concurrency)))
        ingest = time.perf_counter() - started
        path = f"/api/v1/orgs/{tenant.org_id}/channels/{channel.id}"
        while True:
            counts = (await tenant.owner.api.get(path))["webhooks"]
            if not counts.get("pending"):
                break
            await asyncio.sleep(0.05)
        drained = time.perf_counter() - started
        print(
            f"ingestion: {webhooks} signed webhooks, {concurrency} clients: "
            f"{webhooks / ingest:.0f} acks/s (ack p50 {_pct(acks, 0.5) * 1000:.1f} ms, "
            f"p95 {_pct(acks, 0.95) * 1000:.1f} ms); queue drained after {drained:.1f} s "
            f"= {webhooks / drained:.0f} messages/s processed ({contacts} conversations); "
            f"counts {counts}; load before {load_before[0]:.2f}"
        )

        sock = await world.socket(tenant.supervisor)
        latencies: list[float] = []
        for n in range(samples):
            contact = digits()
            text = f"latency {n} {run_id}"
            body = text_payload(channel, contact, f"wamid.L{run_id}.{n}", text)
            started = time.perf_counter()
            answer = await post(world, channel, body)
            assert answer.status_code == 200, answer.text
            await sock.wait_for(
                "message:new", lambda d, t=text: d["message"]["text"] == t, within=60
            )
            latencies.append(time.perf_counter() - started)
        print(
            f"webhook -> console (new contact each, {samples} samples): "
            f"p50 {_pct(latencies, 0.5) * 1000:.0f} ms, p95 {_pct(latencies, 0.95) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms; "
            f"load after {os.getloadavg()[0]:.2f} (2 cores)"
        )
    finally:
        await world.close()
        node.stop()
        graph.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--latency-samples", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.webhooks, args.concurrency, args.contacts, args.latency_samples))


if __name__ == "__main__":
    main()
