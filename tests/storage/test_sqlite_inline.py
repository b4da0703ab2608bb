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


class _CountingConnection(InlineSqliteConnection):
    worker_calls = 0

    async def _on_worker_thread(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.worker_calls += 1
        return await super()._on_worker_thread(fn, *args, **kwargs)


async def test_begin_immediate_takes_a_free_lock_inline_and_waits_on_the_worker_otherwise(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    conn = _CountingConnection(lambda: sqlite3.connect(path, check_same_thread=False), 64)
    conn._thread.daemon = True
    await conn
    try:
        await conn.execute("PRAGMA busy_timeout=20000")
        await conn.execute("BEGIN IMMEDIATE")  # nobody else writes: no thread round trip
        assert conn.worker_calls == 0 and conn.in_transaction
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.commit()  # the fsync: on the worker
        assert conn.worker_calls == 1

        holder.execute("BEGIN IMMEDIATE")
        begin = asyncio.create_task(conn.execute("BEGIN IMMEDIATE"))
        ticks = 0
        while ticks < 5:  # the loop keeps running while the BEGIN waits for the lock
            await asyncio.sleep(0.02)
            ticks += 1
        assert not begin.done()
        holder.execute("COMMIT")
        await asyncio.wait_for(begin, 20)
        assert conn.worker_calls == 2 and conn.in_transaction
        await conn.rollback()
        cursor = await conn.execute("PRAGMA busy_timeout")  # the wait setting is back
        assert await cursor.fetchone() == (20000,)
    finally:
        await conn.close()
        holder.close()


async def test_a_transaction_that_wrote_nothing_commits_inline(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    conn = _CountingConnection(lambda: sqlite3.connect(path, check_same_thread=False), 64)
    conn._thread.daemon = True
    await conn
    try:
        await conn.execute("BEGIN")
        await conn.execute("SELECT count(*) FROM t")
        await conn.commit()  # a read: no fsync, no thread round trip
        assert conn.worker_calls == 0 and not conn.in_transaction
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.commit()  # it wrote: COMMIT on the worker
        assert conn.worker_calls == 1
        assert holder.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        await conn.close()
        holder.close()
