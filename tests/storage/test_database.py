"""The group committer: shared commits, isolated failures, nothing answered before commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.lib.clock import utcnow
from raasel.storage.database import Database
from raasel.storage.schema import audit_log, organizations


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
    async with db.read() as conn:
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
    async with database.read() as conn:
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
