"""The server's send path without the network: how many sends/s one process can store.

Runs ``do_send_message`` in-process (real SQLite file, real group committer) for many
conversations at once, so it measures the actions + storage cost alone.

    .venv/bin/python -m bench.send_path --conversations 200 --messages 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import lifecycle, messages
from raasel.actions.context import Actor, Services
from raasel.app import build_services
from raasel.config import Settings
from raasel.domain import UserKind
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import people
from raasel.storage.migrate import upgrade
from raasel.storage.tenancy import CrossTenant

INSPECT = CrossTenant("the benchmark looks at the stored rows")


async def _customers(svc: Services, count: int) -> list[Actor]:
    async def work(conn: AsyncConnection) -> list[Actor]:
        actors = []
        for _ in range(count):
            user_id = new_str_id()
            await people.insert_user(
                conn,
                {
                    "id": user_id,
                    "email": None,
                    "password_hash": None,
                    "display_name": "C",
                    "kind": UserKind.PERSON,
                    "plan": "free",
                    "created_at": utcnow(),
                },
            )
            actors.append(Actor(user_id, UserKind.PERSON, "C", "s"))
        return actors

    return await svc.db.write(work)


async def run(
    conversations: int, per_conversation: int, window_ms: float, synchronous: str
) -> None:
    var = Path(tempfile.mkdtemp(prefix="raasel-send-bench-"))
    settings = Settings(
        var_dir=var,
        secret_key="b" * 40,
        send_rate="100000000/10",
        open_rate="100000000/60",
        group_commit_window_ms=window_ms,
        sqlite_synchronous=synchronous,
    )
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    svc = build_services(settings)
    from raasel.actions.demo import seed_demo

    await seed_demo(svc)
    async with svc.db.read(INSPECT) as conn:
        from raasel.storage.metadata import organizations

        org = await organizations.get_org_by_slug(conn, "acme")
    assert org is not None
    customers = await _customers(svc, conversations)
    ids = []
    for i, customer in enumerate(customers):
        opened = await lifecycle.do_open_conversation(
            svc,
            customer,
            org_id=org.id,
            group_id=None,
            text="hi",
            client_id=f"o{i}",
            subject="",
            client_ip=f"10.0.{i // 250}.{i % 250}",
        )
        ids.append(opened.result["conversation"]["id"])

    latencies: list[float] = []

    async def talk(customer: Actor, cid: str) -> None:
        for n in range(per_conversation):
            start = time.perf_counter()
            await messages.do_send_message(
                svc, customer, cid, client_id=f"m{n}", text="hello there"
            )
            latencies.append(time.perf_counter() - start)

    cpu0, wall0, batches0 = time.process_time(), time.perf_counter(), svc.db.batches
    await asyncio.gather(*(talk(c, cid) for c, cid in zip(customers, ids, strict=True)))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    total = conversations * per_conversation
    latencies.sort()
    p50 = statistics.median(latencies) * 1e3
    p99 = latencies[int(len(latencies) * 0.99)] * 1e3
    print(
        f"{total} sends by {conversations} concurrent senders: {total / wall:,.0f} sends/s, "
        f"{cpu / total * 1e3:.2f} ms CPU per send, latency p50 {p50:.1f} ms p99 {p99:.1f} ms, "
        f"{total / max(svc.db.batches - batches0, 1):.1f} sends per commit"
    )
    await svc.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--window-ms", type=float, default=2.0)
    parser.add_argument("--synchronous", default="FULL", help="SQLite synchronous mode")
    args = parser.parse_args()
    asyncio.run(run(args.conversations, args.messages, args.window_ms, args.synchronous))


if __name__ == "__main__":
    main()
