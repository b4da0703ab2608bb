"""Write and read throughput of each message-store back end, in-process.

    .venv/bin/python -m bench.message_stores
    .venv/bin/python -m bench.message_stores --backends sqlite,postgresql --writers 1,64

For each back end (SQL on an SQLite file, SQL on a fresh PostgreSQL database, Cassandra
1.2 started from tools/cassandra): appends with C concurrent writers spread over many
conversations, then history pages (newest and deep cursors) and resync ``after`` reads.
It calls the ``MessageStore`` interface (``write`` of one message at its position,
``history``, ``after``), so the figures include the group committer on SQL; the engine's
own path (units, outbox) is not in them. Each phase stops at its message count or its time limit,
whichever comes first. A back end that cannot run here is skipped with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procstat import cpu_model, cpu_seconds
from raasel.lib.ids import new_id, new_str_id
from raasel.storage.message_store import MessageStore, StoredMessage
from raasel.storage.tenancy import CrossTenant

INSPECT = CrossTenant("the benchmark looks at the stored rows")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get(
    "RAASEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BODY = "x" * 64
PAGE = 50


class Unavailable(RuntimeError):
    """The back end cannot run on this machine (the reason is printed, not hidden)."""


def percentile(sorted_us: list[int], q: float) -> float:
    if not sorted_us:
        return float("nan")
    return sorted_us[min(len(sorted_us) - 1, int(q * len(sorted_us)))] / 1000


def server_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each process still alive (pool connections come and go)."""
    seen: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            seen[pid] = cpu_seconds(pid)
    return seen


def cpu_since(before: dict[int, float], pids: list[int]) -> float:
    after = server_cpu(pids)
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


async def timed(
    label: str,
    concurrency: int,
    count: int,
    limit_s: float,
    op: Callable[[int], Awaitable[Any]],
    server_pids: Callable[[], Awaitable[list[int]]],
) -> dict[str, Any]:
    """Run ``op(i)`` for i in range(count) with ``concurrency`` workers, at most ``limit_s``."""
    latencies: list[int] = []
    errors: dict[str, int] = {}
    next_index = 0
    deadline = time.monotonic() + limit_s

    async def worker() -> None:
        nonlocal next_index
        while next_index < count and time.monotonic() < deadline:
            i = next_index
            next_index += 1
            began = time.perf_counter_ns()
            try:
                await op(i)
            except Exception as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            latencies.append((time.perf_counter_ns() - began) // 1000)

    pids = await server_pids()
    cpu0, srv0, t0 = cpu_seconds(os.getpid()), server_cpu(pids), time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), limit_s + 60)
    elapsed = time.monotonic() - t0
    latencies.sort()
    result = {
        "phase": label,
        "concurrency": concurrency,
        "done": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "bench_cpu_pct": 100 * (cpu_seconds(os.getpid()) - cpu0) / elapsed,
        "server_cpu_pct": 100 * cpu_since(srv0, pids) / elapsed if pids else None,
        "loadavg_1m": os.getloadavg()[0],
    }
    print(format_row(result), flush=True)
    return result


def format_row(r: dict[str, Any]) -> str:
    server = "-" if r["server_cpu_pct"] is None else f"{r['server_cpu_pct']:.0f}"
    return (
        f"  {r['phase']:14} C={r['concurrency']:<4} {r['done']:>6} ops {r['per_s']:>8.0f}/s "
        f"p50 {r['p50_ms']:>7.2f} ms p99 {r['p99_ms']:>8.2f} ms "
        f"bench CPU {r['bench_cpu_pct']:>3.0f}% server CPU {server:>3}% "
        f"errors {sum(r['errors'].values())} load {r['loadavg_1m']:.1f}"
    )


class Workload:
    """Conversations of one organization and the positions written to each."""

    def __init__(self, conversations: int) -> None:
        self.org_id = new_str_id()
        self.conversations = [new_str_id() for _ in range(conversations)]
        self.sender_id = new_str_id()
        self.ids: dict[str, list[int]] = {c: [] for c in self.conversations}
        self.last: dict[str, int] = dict.fromkeys(self.conversations, 0)

    def message(self, conversation_id: str) -> StoredMessage:
        message_id = new_id()
        self.last[conversation_id] += 1
        return StoredMessage(
            org_id=self.org_id,
            conversation_id=conversation_id,
            position=self.last[conversation_id],
            id=message_id,
            sender_id=self.sender_id,
            sender_side="customer",
            client_id=f"c{message_id}",
            kind="text",
            body=BODY,
            attachment_id=None,
            created_at=datetime.now(UTC),
        )


Prepare = Callable[[Workload], Awaitable[None]]


def space_seeder(db: Any) -> Prepare:
    """The workload's organization and conversations as rows of the metadata store: on
    PostgreSQL a message must name a conversation of its organization (migration 0018's
    tenant keys), so the SQL stores get them before the first append."""

    async def seed(work: Workload) -> None:
        from raasel.actions.orgs import create_org_with_owner
        from raasel.storage import schema
        from raasel.storage.metadata import organizations

        async def unit(conn: Any) -> None:
            now = datetime.now(UTC)
            await conn.execute(
                schema.users.insert().values(
                    id=work.sender_id,
                    email=f"{work.sender_id}@bench.example",
                    password_hash=None,
                    display_name="bench",
                    kind="person",
                    plan="free",
                    created_at=now,
                )
            )
            slug = f"b{work.sender_id}"
            work.org_id = await create_org_with_owner(
                conn, work.sender_id, {"slug": slug, "name": "bench"}
            )
            group = await organizations.default_group(conn, work.org_id)
            assert group is not None
            rows = [
                {
                    "id": cid,
                    "org_id": work.org_id,
                    "kind": "support",
                    "group_id": group.id,
                    "customer_id": work.sender_id,
                    "assignee_id": None,
                    "status": "active",
                    "priority": "normal",
                    "subject": "bench",
                    "tags": [],
                    "is_escalated": False,
                    "created_at": now,
                    "updated_at": now,
                    "queued_at": now,
                    "first_message_id": 0,
                    "last_position": 0,
                    "last_public_position": 0,
                    "last_position_id": 0,
                }
                for cid in work.conversations
            ]
            await conn.execute(schema.conversations.insert(), rows)

        await db.write(unit)

    return seed


async def measure(
    store: MessageStore,
    args: argparse.Namespace,
    server_pids: Callable[[], Awaitable[list[int]]],
    prepare: Prepare | None = None,
) -> list[dict[str, Any]]:
    work = Workload(args.conversations)
    if prepare is not None:
        await prepare(work)
    results: list[dict[str, Any]] = []

    async def append(_: int) -> None:
        conversation = random.choice(work.conversations)
        message = work.message(conversation)
        await store.write([message])
        work.ids[conversation].append(message.position)

    # Warm up connections, prepared statements and every conversation's first row.
    for conversation in work.conversations:
        first = work.message(conversation)
        await store.write([first])
        work.ids[conversation].append(first.position)
    for writers in args.writers:
        count = args.messages if writers > 1 else args.messages // 10
        results.append(await timed("append", writers, count, args.limit, append, server_pids))

    for conversation in work.conversations:
        work.ids[conversation].sort()
    deep = [c for c in work.conversations if len(work.ids[c]) > 2 * PAGE + 10]

    def pick() -> str:
        return random.choice(deep)

    async def newest(_: int) -> None:
        c = pick()
        page = await store.history(
            work.org_id,
            c,
            before=work.ids[c][-1] + 1,
            limit=PAGE,
            include_notes=True,
        )
        assert len(page) == PAGE

    async def deep_page(_: int) -> None:
        c = pick()
        cursor = work.ids[c][PAGE + 5]  # a page near the very first message
        page = await store.history(
            work.org_id,
            c,
            before=cursor,
            limit=PAGE,
            include_notes=True,
        )
        assert len(page) == PAGE

    async def resync(_: int) -> None:
        c = pick()
        ids = work.ids[c]
        page = await store.after(
            work.org_id,
            c,
            after=ids[len(ids) // 2],
            up_to=ids[-1],
            limit=PAGE,
            include_notes=True,
        )
        assert page

    if not deep:
        print("  (too few messages per conversation for page reads)", flush=True)
        return results
    for readers in args.readers:
        for label, op in (
            ("history newest", newest),
            ("history deep", deep_page),
            ("after", resync),
        ):
            results.append(await timed(label, readers, args.reads, args.limit, op, server_pids))
    return results


@contextlib.asynccontextmanager
async def sqlite_store(
    scratch: Path,
) -> AsyncIterator[tuple[MessageStore, Callable[[], Awaitable[list[int]]], Prepare | None]]:
    from raasel.storage.database import Database
    from raasel.storage.migrate import upgrade
    from raasel.storage.sql_message_store import SqlMessageStore

    url = f"sqlite+aiosqlite:///{scratch / 'messages.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)  # the node's defaults: synchronous=FULL, 2 ms group-commit window
    try:

        async def in_process() -> list[int]:
            return []

        yield SqlMessageStore(db), in_process, space_seeder(db)
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def postgres_store(
    _: Path,
) -> AsyncIterator[tuple[MessageStore, Callable[[], Awaitable[list[int]]], Prepare | None]]:
    import asyncpg

    from raasel.storage.database import Database
    from raasel.storage.migrate import upgrade
    from raasel.storage.sql_message_store import SqlMessageStore

    name = f"raasel_bench_{os.getpid()}_{int(time.time())}"
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=5)
    except Exception as exc:
        raise Unavailable(f"PostgreSQL at {PG_ADMIN}: {type(exc).__name__}: {exc}") from exc
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
        url = f"{url}/{name}"
        await asyncio.to_thread(upgrade, url)
        db = Database(url)

        async def backend_pids() -> list[int]:
            rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
            return [int(r["pid"]) for r in rows]

        store = SqlMessageStore(db)
        try:
            # Open the pool's connections first, so their backends can be watched.
            async def touch() -> None:
                async with db.read(INSPECT) as conn:
                    await conn.exec_driver_sql("SELECT pg_sleep(0.05)")

            await asyncio.gather(*(touch() for _ in range(20)))
            yield store, backend_pids, space_seeder(db)
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def cassandra_store(
    scratch: Path,
) -> AsyncIterator[tuple[MessageStore, Callable[[], Awaitable[list[int]]], Prepare | None]]:
    sys.path.insert(0, str(ROOT / "tools" / "cassandra"))
    try:
        from cassandra_server import CassandraError, CassandraServer

        from raasel.storage import cassandra_schema
        from raasel.storage.cassandra_message_store import CassandraMessageStore
        from raasel.storage.cassandra_session import CassandraOptions
    except ImportError as exc:
        raise Unavailable(f"Cassandra tooling: {exc}") from exc
    server = CassandraServer(scratch / "cassandra")
    try:
        host, port = await asyncio.to_thread(server.start)
    except CassandraError as exc:
        raise Unavailable(f"Cassandra 1.2 did not start: {exc}") from exc
    try:
        options = CassandraOptions(
            hosts=(host,),
            port=port,
            keyspace="raasel_bench",
            consistency="ONE",
            protocol_version=1,
        )
        await asyncio.to_thread(cassandra_schema.upgrade, options)
        store = CassandraMessageStore(options)

        async def jvm() -> list[int]:
            return [server.pid] if server.pid else []

        try:
            yield store, jvm, None
        finally:
            await store.close()
    finally:
        await asyncio.to_thread(server.stop)


BACKENDS = {"sqlite": sqlite_store, "postgresql": postgres_store, "cassandra": cassandra_store}


async def run_backend(name: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{name}:", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"raasel-store-bench-{name}-") as tmp:
        try:
            async with BACKENDS[name](Path(tmp)) as (store, pids, prepare):
                results = await asyncio.wait_for(
                    measure(store, args, pids, prepare), args.backend_limit
                )
        except Unavailable as exc:
            print(f"  SKIPPED {name}: {exc}", flush=True)
            return {"backend": name, "skipped": str(exc)}
    return {"backend": name, "phases": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql,cassandra")
    parser.add_argument("--writers", default="1,64,256", help="concurrent writers per run")
    parser.add_argument("--readers", default="1,64", help="concurrent readers per run")
    parser.add_argument("--messages", type=int, default=20000, help="appends per run (C=1: /10)")
    parser.add_argument("--reads", type=int, default=5000, help="reads per phase")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--limit", type=float, default=20.0, help="seconds per phase at most")
    parser.add_argument("--backend-limit", type=float, default=600.0)
    args = parser.parse_args()
    args.writers = [int(v) for v in args.writers.split(",")]
    args.readers = [int(v) for v in args.readers.split(",")]
    print(f"load average at start: {os.getloadavg()}", flush=True)
    out: list[dict[str, Any]] = []
    for name in args.backends.split(","):
        out.append(asyncio.run(run_backend(name, args)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"stores-{time.strftime('%Y%m%d-%H%M%S')}.json"
    summary = {
        "command": " ".join(sys.argv),
        "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()},
        "args": {k: v for k, v in vars(args).items()},
        "backends": out,
    }
    path.write_text(json.dumps(summary, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
