"""The inline SQLite connection never lets two threads into one sqlite3 connection.

A COMMIT (or BEGIN IMMEDIATE) runs on aiosqlite's worker thread. When the task awaiting it
is cancelled, the call goes on there; the next call (SQLAlchemy's rollback on the way out,
the pool's close) must wait behind it instead of running inline at the same time. Here a
BEGIN IMMEDIATE waits for another connection's write lock, its task is cancelled, and the
next statement must not run until the lock is released and the BEGIN is through."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from raasel.storage.sqlite_inline import InlineSqliteConnection, inline_creator


async def test_a_call_after_a_cancelled_worker_call_waits_behind_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held by another connection

    conn: InlineSqliteConnection = await inline_creator(path)()
    try:
        await conn.execute("PRAGMA busy_timeout=20000")
        begin = asyncio.create_task(conn.execute("BEGIN IMMEDIATE"))
        await asyncio.sleep(0.2)  # it now waits inside sqlite3 on the worker thread
        assert not begin.done()
        begin.cancel()
        following = asyncio.create_task(conn.execute("SELECT count(*) FROM t"))
        await asyncio.sleep(0.3)
        # Inline, it would have run at once, beside the BEGIN still inside sqlite3.
        assert not following.done()
        holder.execute("COMMIT")  # the BEGIN gets the lock, then the SELECT runs after it
        cursor = await asyncio.wait_for(following, 20)
        assert await cursor.fetchone() == (0,)
        assert conn.in_transaction  # the cancelled BEGIN did happen, before the SELECT
        await conn.rollback()
        # Once the worker is idle again, statements run inline as before.
        assert conn._on_worker == 0
        cursor = await conn.execute("SELECT 1")
        assert await cursor.fetchone() == (1,)
    finally:
        await conn.close()
        holder.close()
