"""aiosqlite with statements run on the event loop's thread.

aiosqlite sends every call (cursor, execute, fetch, close) to a worker thread and back:
four thread round trips per statement, each waiting its turn in a busy event loop. That
was most of the cost of a send (docs/benchmarks.md, "send path"). SQLite statements on a
WAL database take microseconds and do not wait for locks once a transaction holds them,
so they run inline here; only what can block goes to the connection's thread: COMMIT
(the fsync) and BEGIN IMMEDIATE (waits for another process's write lock).

Used through SQLAlchemy's aiosqlite dialect via ``async_creator``; the sqlite3 connection
is opened with ``check_same_thread=False`` and is never used by two threads at once
(SQLAlchemy awaits each call before the next).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite


def _may_block(connection: sqlite3.Connection | None, fn: Any, args: tuple[Any, ...]) -> bool:
    if connection is not None and fn == connection.commit:
        return True
    return (
        bool(args)
        and isinstance(args[0], str)
        and args[0]
        .lstrip()
        .upper()
        .startswith(
            ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT", "PRAGMA JOURNAL_MODE", "VACUUM")
        )
    )


class InlineSqliteConnection(aiosqlite.Connection):
    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None or _may_block(self._connection, fn, args):
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        return fn(*args, **kwargs)


def inline_creator(path: Path | str) -> Callable[[], InlineSqliteConnection]:
    """An ``async_creator`` for ``create_async_engine`` opening ``path``."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)

    def create() -> InlineSqliteConnection:
        connection = InlineSqliteConnection(connector, 64)
        connection._thread.daemon = True
        return connection

    return create
