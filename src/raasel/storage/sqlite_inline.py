"""aiosqlite with statements run on the event loop's thread.

aiosqlite sends every call (cursor, execute, fetch, close) to a worker thread and back:
four thread round trips per statement, each waiting its turn in a busy event loop. That
was most of the cost of a send (docs/benchmarks.md, "send path"). SQLite statements on a
WAL database take microseconds and do not wait for locks once a transaction holds them,
so they run inline here; only what can block goes to the connection's thread: COMMIT
(the fsync) and BEGIN IMMEDIATE when it would wait for another connection's write lock
(it is tried inline first, without waiting); the COMMIT of a transaction that changed no
row (every reader's) runs inline too.

Used through SQLAlchemy's aiosqlite dialect via ``async_creator``; the sqlite3 connection
is opened with ``check_same_thread=False`` and is never used by two threads at once. The
caller awaiting each call before the next is not enough: a task cancelled while its COMMIT
runs on the worker stops waiting, but the COMMIT goes on, and SQLAlchemy then rolls back
and closes the connection (the committer's shutdown, a request whose client went away).
Run inline, that rollback met the running COMMIT inside sqlite3 and crashed the process
(a segmentation fault in CI). So while any call is on the worker thread, every further call
goes to the worker as well, behind it in its queue (tests/storage/test_sqlite_inline.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite


def _statement(args: tuple[Any, ...]) -> str:
    return args[0].lstrip()[:24].upper() if args and isinstance(args[0], str) else ""


_MAY_BLOCK = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT", "PRAGMA JOURNAL_MODE", "VACUUM")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


class InlineSqliteConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        # Calls handed to the worker thread and not yet finished there (whether or not
        # anybody still awaits them); only read and written on the loop's thread.
        self._on_worker = 0
        self._busy_ms: int | None = None  # the connection's own busy timeout, read once
        # After a deferred BEGIN: the connection's change count then. A COMMIT that finds it
        # unchanged ends a transaction that wrote nothing (the readers' every transaction):
        # nothing to fsync, so it runs inline instead of a thread round trip.
        self._read_since: int | None = None

    def sqlite3_connection(self) -> sqlite3.Connection:
        """The underlying connection, for the committer's bulk writes inside its
        transaction (storage/sqlite_bulk.py); only ever used on the loop's thread,
        never while a call runs on the worker."""
        assert self._connection is not None
        assert self._on_worker == 0, "sqlite3 connection used while the worker runs a call"
        return self._connection

    async def begin_immediate(self) -> None:
        """The committer's ``BEGIN IMMEDIATE`` without SQLAlchemy (storage/database.py)."""
        assert self._connection is not None
        await self._execute(self._connection.execute, "BEGIN IMMEDIATE")

    async def commit_transaction(self) -> None:
        """COMMIT on the worker thread (it waits for the fsync)."""
        assert self._connection is not None
        await self._execute(self._connection.commit)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if self._on_worker:
            return await self._on_worker_thread(fn, *args, **kwargs)
        connection = self._connection
        if fn == connection.commit:
            if self._read_since == connection.total_changes:
                self._read_since = None  # a read transaction: COMMIT only drops the read lock
                return fn(*args, **kwargs)
            return await self._on_worker_thread(fn, *args, **kwargs)
        statement = _statement(args)  # once per call: this runs for every statement
        if statement.startswith(_MAY_BLOCK):
            if statement.startswith("BEGIN IMMEDIATE"):
                self._read_since = None
                took, result = self._lock_inline(fn, args, kwargs)
                if took:
                    return result
            return await self._on_worker_thread(fn, *args, **kwargs)
        if statement == "BEGIN":
            self._read_since = connection.total_changes
        return fn(*args, **kwargs)

    def _lock_inline(self, fn: Callable[..., Any], args: Any, kwargs: Any) -> tuple[bool, Any]:
        """``BEGIN IMMEDIATE`` without waiting: it only waits when another connection
        holds the write lock (a backup, the CLI), and then it goes to the worker thread
        like COMMIT. The committer is the only writer otherwise, so this saves a thread
        round trip per batch (docs/benchmarks.md)."""
        connection = self._connection
        assert connection is not None
        if self._busy_ms is None:
            self._busy_ms = int(connection.execute("PRAGMA busy_timeout").fetchone()[0])
        connection.execute("PRAGMA busy_timeout=0")
        try:
            return True, fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            return False, None
        finally:
            connection.execute(f"PRAGMA busy_timeout={self._busy_ms}")

    async def _on_worker_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()

        def finished() -> None:
            self._on_worker -= 1

        def call() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:  # counted down on the loop's thread, after the call left sqlite3
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    loop.call_soon_threadsafe(finished)

        self._on_worker += 1  # queued at once below: no await between the check and here
        return await super()._execute(call)  # type: ignore[no-untyped-call]


def inline_creator(path: Path | str) -> Callable[[], InlineSqliteConnection]:
    """An ``async_creator`` for ``create_async_engine`` opening ``path``."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)

    def create() -> InlineSqliteConnection:
        connection = InlineSqliteConnection(connector, 64)
        connection._thread.daemon = True
        return connection

    return create
