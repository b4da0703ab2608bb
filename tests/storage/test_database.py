"""The group committer: shared commits, isolated failures, nothing answered before commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Event
from raasel.lib.clock import utcnow
from raasel.storage.database import Database
from raasel.storage.message_store import StoredMessage
from raasel.storage.schema import audit_log, messages, organizations
from raasel.storage.tenancy import CrossTenant
from raasel.storage.unit_batch import UnitBatch

INSPECT = CrossTenant("a test looks at the stored rows")


def insert_entry(entry_id: str):  # type: ignore[no-untyped-def]
    async def work(conn: AsyncConnection) -> str:
        await conn.execute(
            audit_log.insert().values(
                id=entry_id,
                org_id="1",
                actor_id="1",
                action="t",
                target="",
                details={},
                created_at=utcnow(),
            )
        )
        return entry_id

    return work


async def seed_org(db: Database) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.execute(
            organizations.insert().values(
                id="1", slug="o", name="O", is_listed=True, plan="free", created_at=utcnow()
            )
        )

    await db.write(work)


async def count_entries(db: Database) -> int:
    async with db.read(INSPECT) as conn:
        return len((await conn.execute(select(audit_log.c.id))).all())


async def test_concurrent_writes_share_commits(database: Database) -> None:
    await seed_org(database)
    before = database.batches
    results = await asyncio.gather(*(database.write(insert_entry(str(i))) for i in range(200)))
    assert sorted(results) == sorted(str(i) for i in range(200))
    assert await count_entries(database) == 200
    assert database.batches - before < 50, "200 concurrent writes should need far fewer commits"


async def test_a_failing_write_spoils_nothing_else(database: Database) -> None:
    await seed_org(database)

    async def broken(conn: AsyncConnection) -> None:
        await insert_entry("x")(conn)
        raise ValueError("rule broken")

    outcomes = await asyncio.gather(
        database.write(insert_entry("a")),
        database.write(broken),
        database.write(insert_entry("b")),
        return_exceptions=True,
    )
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], ValueError)
    async with database.read(INSPECT) as conn:
        ids = {row.id for row in (await conn.execute(select(audit_log.c.id))).all()}
    assert ids == {"a", "b"}, "the failed write's insert was rolled back with its savepoint"


async def test_constraint_violation_is_reported_and_stores_nothing(database: Database) -> None:
    async def violates_foreign_key(conn: AsyncConnection) -> None:
        # org 999 does not exist: the foreign key fails at statement time in a savepoint.
        await conn.execute(
            audit_log.insert().values(
                id="fk",
                org_id="999",
                actor_id="1",
                action="t",
                target="",
                details={},
                created_at=utcnow(),
            )
        )

    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await database.write(violates_foreign_key)
    assert await count_entries(database) == 0


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_the_engine_metrics_count_batches_and_read_queue_depths_at_scrape(
    database: Database,
) -> None:
    """Queue depths are read when Prometheus scrapes (a callback, nothing on the hot
    path); batch size and latency are observed once per committed batch."""
    await seed_org(database)
    entered, gate = asyncio.Event(), asyncio.Event()

    async def holds_the_committer(conn: AsyncConnection) -> None:
        entered.set()
        await gate.wait()

    batches = metric("raasel_commit_batch_units_count")
    units = metric("raasel_commit_batch_units_sum")
    first = asyncio.create_task(database.write(holds_the_committer))
    await entered.wait()
    waiting = [asyncio.create_task(database.write(insert_entry(f"q{i}"))) for i in range(5)]
    await asyncio.sleep(0)  # each task puts its unit in the queue at its first step
    assert metric("raasel_committer_queue_depth") == 5
    gate.set()
    await asyncio.gather(first, *waiting)
    assert metric("raasel_committer_queue_depth") == 0
    assert metric("raasel_commit_batch_units_count") - batches >= 2
    assert metric("raasel_commit_batch_units_sum") - units == 6
    assert metric("raasel_commit_seconds_count") >= metric("raasel_commit_batch_units_count")

    released = asyncio.Event()

    async def slow_publisher(events: list[Any]) -> None:
        await released.wait()

    def emitting(name: str) -> Callable[[UnitBatch], Awaitable[None]]:
        async def unit(batch: UnitBatch) -> None:
            batch.emit(Event(name, {}, ("room",)))

        return unit

    database.publisher = slow_publisher
    published = metric("raasel_publish_seconds_count")
    for i in range(3):  # three batches: the first is being published, two wait
        await database.run(emitting(f"e{i}"))
    assert metric("raasel_publish_queue_depth") >= 2
    released.set()
    await database.drain_published()
    assert metric("raasel_publish_queue_depth") == 0
    assert metric("raasel_publish_seconds_count") - published == 3


async def test_a_batch_that_fails_to_commit_drops_the_held_connection(database: Database) -> None:
    """The committer keeps its connection between batches; one that broke is not reused:
    the failed batch's writers get the error, the next batch opens a new connection."""
    await seed_org(database)
    await database.write(insert_entry("before"))
    held: Any = database._held_sqlite if database.is_sqlite else database._held_pg
    assert held is not None
    # The connection dies under the committer (a disk gone, a server restarted).
    if database.is_sqlite:
        held.close()
    else:
        held.terminate()
    with pytest.raises(Exception, match="closed"):
        await asyncio.wait_for(database.write(insert_entry("lost")), 30)
    assert database._held is None
    assert await asyncio.wait_for(database.write(insert_entry("after")), 30) == "after"
    assert (database._held_sqlite if database.is_sqlite else database._held_pg) is not held
    assert await count_entries(database) == 2


async def test_a_hot_batch_commits_on_the_driver_with_what_units_ran_through_sqlalchemy(
    database: Database,
) -> None:
    """Hot units (``fresh=False``) share a transaction begun on the driver itself; a unit
    that runs SQL through SQLAlchemy inside it (a send with an attachment, say) commits
    with the batch, and one that fails after its SQL leaves the others' work stored."""
    await seed_org(database)
    release = asyncio.Event()

    async def holding(_: UnitBatch) -> None:  # keeps the committer busy: the rest batch up
        await release.wait()

    def via_sqlalchemy(entry_id: str, fail: bool = False) -> Callable[[UnitBatch], Awaitable[str]]:
        async def unit(batch: UnitBatch) -> str:
            await insert_entry(entry_id)(batch.conn)
            if fail:
                raise ValueError("refused after its SQL")
            return entry_id

        return unit

    commits, batches = database.raw_commits, database.batches
    first = asyncio.create_task(database.run(holding, fresh=False))
    await asyncio.sleep(0.05)
    units = [
        asyncio.create_task(database.run(via_sqlalchemy(f"hot{i}"), fresh=False)) for i in range(3)
    ]
    refused = asyncio.create_task(database.run(via_sqlalchemy("no", fail=True), fresh=False))
    await asyncio.sleep(0.05)
    release.set()
    await first
    assert [await u for u in units] == ["hot0", "hot1", "hot2"]
    with pytest.raises(ValueError, match="refused"):
        await refused
    assert database.batches - batches == 2  # the holding one; the three and the refused one
    if not database.is_sqlite:  # SQLite: SQLAlchemy autobegan, so it committed
        assert database.raw_commits - commits == 2
    async with database.read(INSPECT) as conn:
        ids = {r.id for r in (await conn.execute(select(audit_log.c.id))).all()}
    # The refused unit's row was written in the batch's transaction and is not undone by
    # its in-memory restore: a unit that fails after SQL must raise before it writes.
    assert {"hot0", "hot1", "hot2"} <= ids


async def test_the_postgresql_committer_plans_each_batch_for_its_own_keys(
    database: Database,
) -> None:
    """asyncpg prepares the batch's statements once; their plans must still use the
    indexes (a generic plan of ``= ANY($1)`` scanned whole tables)."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL's plan cache")
    await seed_org(database)
    await database.write(insert_entry("e"))
    assert database._held_pg is not None
    assert await database._held_pg.fetchval("SHOW plan_cache_mode") == "force_custom_plan"


async def test_a_driver_error_in_the_batchs_own_statements_is_sqlalchemys(
    database: Database,
) -> None:
    """The batch's inserts run on the driver (sqlite_bulk.py, pg_bulk.py); a constraint
    they break (here the unique client id; on PostgreSQL also the conversation's foreign
    key) reaches the writer as SQLAlchemy's ``IntegrityError``, and nothing is stored."""
    await seed_org(database)

    async def twice(batch: UnitBatch) -> None:  # one client id at two positions
        for position in (1, 2):
            batch.add_message(
                StoredMessage(
                    org_id="1",
                    conversation_id="c",
                    position=position,
                    id=position,
                    sender_id="1",
                    sender_side="customer",
                    client_id="same",
                    kind="text",
                    body="x",
                    attachment_id=None,
                    created_at=utcnow(),
                )
            )

    with pytest.raises(IntegrityError) as raised:
        await database.run(twice, fresh=False)
    assert raised.value.orig is not None
    async with database.read(INSPECT) as conn:
        assert (await conn.execute(select(messages.c.id))).all() == []
    assert await database.write(insert_entry("after")) == "after"  # the committer goes on
