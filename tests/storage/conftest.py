"""Store fixtures: every back end, each on a fresh, migrated database or keyspace.

SQL runs on SQLite and on PostgreSQL; the message store also on Cassandra (a real
Cassandra 1.2 server started once per session, or ``RAASEL_CASSANDRA_HOSTS``). A back
end that cannot run here is skipped with the reason, loudly in the summary; with
``RAASEL_TEST_REQUIRE_BACKENDS=1`` (CI) it fails instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from raasel.actions.context import Services
from raasel.app import build_services
from raasel.config import Settings
from raasel.storage.cassandra_message_store import TABLE, CassandraMessageStore
from raasel.storage.cassandra_session import CassandraOptions, connect
from raasel.storage.database import Database
from raasel.storage.message_store import MessageStore
from raasel.storage.sql_message_store import SqlMessageStore
from raasel.storage.tenant_ddl import message_key_name
from tests.support.databases import migrated_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    db = await migrated_database(request.param, tmp_path)
    yield db
    await db.close()


MESSAGES_KEY = message_key_name("messages")


async def truncate_messages(options: CassandraOptions) -> None:
    def work() -> None:
        cluster, session = connect(options)
        try:
            session.execute(f"TRUNCATE {options.keyspace}.{TABLE}")
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
    if not db.is_sqlite:
        # The contract is the store's partitioning, on made-up ids (one conversation id
        # in two organizations even); the tenant key that refuses those rows on
        # PostgreSQL is tests/storage/test_tenancy.py's.
        async with db.writer.begin() as conn:
            await conn.execute(text(f"ALTER TABLE messages DISABLE TRIGGER {MESSAGES_KEY}"))
    store = SqlMessageStore(db)
    yield store
    await store.close()
    await db.close()


def cassandra_settings(options: CassandraOptions) -> dict[str, Any]:
    return {
        "message_store": "cassandra",
        "cassandra_hosts": ",".join(f"{host}:{options.port}" for host in options.hosts),
        "cassandra_keyspace": options.keyspace,
        "cassandra_consistency": options.consistency,
        "cassandra_protocol_version": options.protocol_version,
    }


@contextlib.asynccontextmanager
async def build_test_services(
    request: pytest.FixtureRequest, wiring: str, tmp_path: Path
) -> AsyncIterator[Services]:
    """The node's stores as ``build_services`` wires them, for ``wiring`` such as
    ``postgresql`` (messages in the metadata database) or ``sqlite+cassandra``."""
    metadata, _, messages = wiring.partition("+")
    extra: dict[str, Any] = {}
    if messages == "cassandra":
        options: CassandraOptions = request.getfixturevalue("cassandra")
        await truncate_messages(options)
        extra = cassandra_settings(options)
    db = await migrated_database(metadata, tmp_path)
    await db.close()
    settings = Settings(var_dir=tmp_path, database_url=db.url, secret_key="x" * 40, **extra)
    svc = build_services(settings)
    try:
        yield svc
    finally:
        await svc.db.close()
        await svc.messages.close()


@pytest.fixture(params=["sqlite", "postgresql", "sqlite+cassandra", "postgresql+cassandra"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """A metadata database and its message store: the same database, or Cassandra with
    the outbox in between."""
    async with build_test_services(request, request.param, tmp_path) as svc:
        yield svc
