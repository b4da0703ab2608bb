"""Appends/s through the engine: Database.run units (the send path's ``append``) from W
writers, each on its own conversation, on a node's stores as build_services wires them.

    .venv/bin/python -m bench.engine_appends \
        --wirings sqlite,postgresql,sqlite+cassandra,postgresql+cassandra --writers 64

Reports acked appends/s (the unit's COMMIT; what a client's ack waits for) and, for
Cassandra, the time until the outbox copies are done (``drain_published``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from tests.support import databases  # noqa: E402
from tests.support.cassandra import cassandra_cluster  # noqa: E402

from raasel.actions.context import Services  # noqa: E402
from raasel.actions.conversation_units import append  # noqa: E402
from raasel.app import build_services  # noqa: E402
from raasel.config import Settings  # noqa: E402
from raasel.lib.clock import utcnow  # noqa: E402
from raasel.lib.ids import new_str_id  # noqa: E402
from raasel.storage import cassandra_schema, schema  # noqa: E402
from raasel.storage.cassandra_session import CassandraOptions  # noqa: E402
from raasel.storage.metadata import conversations, organizations  # noqa: E402
from raasel.storage.migrate import upgrade  # noqa: E402
from raasel.storage.tenancy import CrossTenant  # noqa: E402
from raasel.storage.unit_batch import UnitBatch  # noqa: E402

INSPECT = CrossTenant("the benchmark looks at the stored rows")


def cpu() -> float:
    t = os.times()
    return t.user + t.system


@contextlib.contextmanager
def maybe_cassandra(needed: bool, workdir: Path) -> Iterator[CassandraOptions | None]:
    if not needed:
        yield None
        return
    with cassandra_cluster(workdir) as options:
        cassandra_schema.upgrade(options)
        yield options


@contextlib.asynccontextmanager
async def node_services(
    wiring: str, tmp: Path, cassandra: CassandraOptions | None
) -> AsyncIterator[Services]:
    metadata, _, messages = wiring.partition("+")
    no_copy = messages.endswith("-nocopy")
    messages = messages.removesuffix("-nocopy")
    if metadata == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        await asyncio.to_thread(upgrade, url)
    else:
        url = await asyncio.to_thread(databases.create_postgres_database)
    extra: dict[str, Any] = {}
    if messages == "cassandra":
        assert cassandra is not None
        extra = {
            "message_store": "cassandra",
            "cassandra_hosts": f"{cassandra.hosts[0]}:{cassandra.port}",
            "cassandra_keyspace": cassandra.keyspace,
            "cassandra_consistency": cassandra.consistency,
            "cassandra_protocol_version": cassandra.protocol_version,
        }
    svc = build_services(Settings(var_dir=tmp, database_url=url, secret_key="x" * 40, **extra))
    if no_copy:  # the outbox path alone: messages stay in message_outbox
        svc.db.after_commit = None
    try:
        yield svc
    finally:
        await svc.db.close()
        await svc.messages.close()


async def seed(svc: Services, count: int) -> list[str]:
    org_id = new_str_id()
    ids = [new_str_id() for _ in range(count)]

    async def work(conn: Any) -> None:
        now = utcnow()
        await organizations.insert_org(
            conn, {"id": org_id, "slug": f"o{org_id}", "name": "Org", "created_at": now}
        )
        for cid in ids:
            await conversations.insert_conversation(
                conn,
                {
                    "id": cid,
                    "org_id": org_id,
                    "kind": "support",
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                    "first_message_id": 0,
                    "last_position": 0,
                    "last_public_position": 0,
                    "last_position_id": 0,
                },
                ["customer", "org"],
            )

    await svc.db.write(work)
    return ids


def append_unit(cid: str) -> Callable[[UnitBatch], Awaitable[None]]:
    """The send path's unit of work for one customer message into ``cid``."""

    async def unit(batch: UnitBatch) -> None:
        conversation = await batch.conversation(cid)
        assert conversation is not None
        await append(
            batch,
            conversation,
            sender_id="u1",
            sender_side="customer",
            kind="text",
            body="x" * 64,
        )

    return unit


async def measure(svc: Services, writers: int, seconds: float) -> dict[str, float]:
    cids = await seed(svc, writers)
    done = 0
    stop = time.monotonic() + seconds

    async def writer(cid: str, until: float) -> int:
        n = 0
        unit = append_unit(cid)
        while time.monotonic() < until:
            await svc.db.run(unit, keys=[cid], fresh=False)
            n += 1
        return n

    await asyncio.gather(*(writer(c, time.monotonic() + 1.0) for c in cids))  # warm-up
    await svc.db.drain_published()
    batches0 = svc.db.batches
    c0, t0 = cpu(), time.monotonic()
    stop = t0 + seconds
    done = sum(await asyncio.gather(*(writer(c, stop) for c in cids)))
    acked = time.monotonic() - t0
    await svc.db.drain_published()
    drained = time.monotonic() - t0
    used = cpu() - c0
    async with svc.db.read(INSPECT) as conn:
        left = await conn.scalar(select(func.count()).select_from(schema.message_outbox))
    return {
        "appends": done,
        "acked_per_s": done / acked,
        "copied_per_s": done / drained,
        "drain_s": drained - acked,
        "batches": svc.db.batches - batches0,
        "cpu_us_per_append": 1e6 * used / max(done, 1),
        "outbox_left": float(left or 0),
    }


async def run(wiring: str, args: argparse.Namespace, cassandra: CassandraOptions | None) -> None:
    with tempfile.TemporaryDirectory(prefix="raasel-engine-bench-") as tmp:
        async with node_services(wiring, Path(tmp), cassandra) as svc:
            r = await measure(svc, args.writers, args.seconds)
    print(
        f"{wiring:22} W={args.writers} {r['appends']:>7.0f} appends "
        f"{r['acked_per_s']:>7.0f}/s acked, {r['copied_per_s']:>7.0f}/s stored "
        f"(drain {r['drain_s']:.2f} s), {r['batches']:.0f} commits, "
        f"{r['cpu_us_per_append']:.0f} us CPU/append (this process), "
        f"outbox left {r['outbox_left']:.0f}, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--wirings", default="sqlite,postgresql,sqlite+cassandra,postgresql+cassandra"
    )
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    wirings = args.wirings.split(",")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    try:
        wants_cassandra = any("cassandra" in w for w in wirings)
        with (
            tempfile.TemporaryDirectory(prefix="raasel-engine-cass-") as cdir,
            maybe_cassandra(wants_cassandra, Path(cdir)) as opts,
        ):
            for _ in range(args.repeat):
                for wiring in wirings:
                    asyncio.run(run(wiring, args, opts))
    finally:
        databases.drop_created()


if __name__ == "__main__":
    main()
