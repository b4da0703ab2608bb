"""Store fixtures: every message-store back end, each on a fresh, migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from raasel.storage.database import Database
from raasel.storage.message_store import MessageStore
from raasel.storage.migrate import upgrade
from raasel.storage.sql_message_store import SqlMessageStore


async def migrated_sqlite(tmp_path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
    return Database(url, window_ms=1)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await migrated_sqlite(tmp_path)
    yield db
    await db.close()


@pytest.fixture(params=["sql-sqlite"])
async def message_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MessageStore]:
    """One contract, every back end (Litestar's pattern; Cassandra joins in issue 4)."""
    db = await migrated_sqlite(tmp_path)
    store = SqlMessageStore(db)
    yield store
    await store.close()
    await db.close()
