"""Engines for the metadata store, and the group committer every write goes through.

Group commit: concurrent writers hand their work to one task that runs a batch of
them in a single transaction (each in its own savepoint, so one failure spoils
nothing else) and commits once. Durability costs one fsync per batch instead of
one per message; nobody is answered before the commit succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from raasel.storage.sqlite_inline import inline_creator

T = TypeVar("T")
Work = Callable[[AsyncConnection], Awaitable[Any]]


def _sqlite_tuning(engine: Engine, *, synchronous: str, immediate: bool) -> None:
    """WAL journal, a busy timeout, and explicit BEGINs (pysqlite's own are broken)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if immediate:  # the writer sets WAL (persistent in the file); readers need not
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class _Pending:
    work: Work
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Database:
    """A reader engine and a writer engine (the same one except on SQLite).

    On SQLite all writes go through one connection with ``BEGIN IMMEDIATE`` (SQLite
    has one writer anyway; taking the lock up front avoids upgrade deadlocks), while
    reads use a pool of WAL readers.
    """

    def __init__(self, url: str, *, synchronous: str = "FULL", window_ms: float = 2.0) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            synchronous = synchronous.upper()
            if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
                raise ValueError(f"bad sqlite synchronous mode {synchronous!r}")
            # A fixed pool: overflow connections would be opened and closed under load,
            # each a new thread and file handle (measured: most of the time went there).
            creator = inline_creator(url.split("///", 1)[-1])
            self.reader = create_async_engine(
                url, pool_size=16, max_overflow=0, pool_timeout=60, async_creator=creator
            )
            self.writer = create_async_engine(
                url, pool_size=1, max_overflow=0, async_creator=creator
            )
            _sqlite_tuning(self.reader.sync_engine, synchronous=synchronous, immediate=False)
            _sqlite_tuning(self.writer.sync_engine, synchronous=synchronous, immediate=True)
        else:
            self.reader = self.writer = create_async_engine(url, pool_size=10, max_overflow=10)
        self._window = window_ms / 1000
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed batches, for tests and metrics

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads inside one (snapshot) transaction."""
        async with self.reader.connect() as conn, conn.begin():
            yield conn

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction shared with concurrent writers; return after commit."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="group-commit")
        pending = _Pending(work)
        await self._queue.put(pending)
        result: T = await pending.future
        return result

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._window > 0:
                await asyncio.sleep(self._window)
            while not self._queue.empty() and len(batch) < 512:
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with self.writer.begin() as conn:
                for item in batch:
                    try:
                        async with conn.begin_nested():
                            outcomes.append((True, await item.work(conn)))
                    except Exception as exc:
                        outcomes.append((False, exc))
        except Exception as exc:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        self.batches += 1
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            if item.future.done():
                continue
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()
