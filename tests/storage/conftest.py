"""Store fixtures: every back end, each on a fresh, migrated database or keyspace.

SQL runs on SQLite and on PostgreSQL; the message store also on Cassandra (a real
Cassandra 1.2 server started once per session, or ``RAASEL_CASSANDRA_HOSTS``). A back
end that cannot run here is skipped with the reason, loudly in the summary; with
``RAASEL_TEST_REQUIRE_BACKENDS=1`` (CI) it fails instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from raasel.storage.cassandra_message_store import CassandraMessageStore
from raasel.storage.cassandra_session import CassandraOptions, connect
from raasel.storage.database import Database
from raasel.storage.message_store import MessageStore
from raasel.storage.sql_message_store import SqlMessageStore
from tests.support.databases import migrated_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    db = await migrated_database(request.param, tmp_path)
    yield db
    await db.close()


async def truncate_messages(options: CassandraOptions) -> None:
    def work() -> None:
        cluster, session = connect(options)
        try:
            for table in ("messages", "message_client_ids"):
                session.execute(f"TRUNCATE {options.keyspace}.{table}")
        finally:
            cluster.shutdown()

    await asyncio.to_thread(work)


@pytest.fixture(params=["sql-sqlite", "sql-postgresql", "cassandra"])
async def message_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MessageStore]:
    """One contract, every back end (Litestar's pattern)."""
    if request.param == "cassandra":
        options: CassandraOptions = request.getfixturevalue("cassandra")
        await truncate_messages(options)
        store: MessageStore = CassandraMessageStore(options)
        yield store
        await store.close()
        return
    db = await migrated_database(request.param.removeprefix("sql-"), tmp_path)
    store = SqlMessageStore(db)
    yield store
    await store.close()
    await db.close()
