"""Engines for the metadata store, and the committer every write goes through.

Group commit: concurrent units of work are handed to one task that runs a batch of
them in a single transaction and commits once. Durability costs one fsync per batch
instead of one per message; nobody is answered before the commit succeeds, and no
event is published before it (docs/architecture.md, "The engine").
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import structlog
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from raasel.observability import (
    COMMIT_BATCH_UNITS,
    COMMIT_FAILURES,
    COMMIT_SECONDS,
    COMMITTER_QUEUE,
    MESSAGES_STORED,
    PUBLISH_QUEUE,
    PUBLISH_SECONDS,
)
from raasel.storage.message_store import StoredMessage
from raasel.storage.sqlite_inline import InlineSqliteConnection, inline_creator
from raasel.storage.tenancy import CrossTenant, ReadScope, enter
from raasel.storage.unit_batch import ClientRef, UnitBatch, forget_copied

log = structlog.get_logger(__name__)

T = TypeVar("T")
READER_CACHE_KIB = 512


def _sqlite_tuning(engine: Engine, *, synchronous: str, immediate: bool) -> None:
    """WAL journal, a busy timeout, and explicit BEGINs (pysqlite's own are broken)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if immediate:  # the writer sets WAL (persistent in the file); readers need not
            cursor.execute("PRAGMA journal_mode=WAL")
        else:
            # Each reader keeps its own copy of the pages it read: 16 readers at SQLite's
            # 2 MB default held 14 MB after 2,000 socket logins and up to 32 MB in all;
            # the file's pages stay in the OS's cache (docs/benchmarks.md, "Idle memory").
            cursor.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        driver = conn.connection.driver_connection
        if immediate and isinstance(driver, InlineSqliteConnection) and driver.in_transaction:
            return  # the committer began it itself (``Database._writing``)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class _Pending:
    work: Callable[[UnitBatch], Awaitable[Any]]
    keys: tuple[str, ...] = ()
    client_refs: tuple[ClientRef, ...] = ()
    fresh: bool = True
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


Publisher = Callable[[list[Any]], Awaitable[None]]
AfterCommit = Callable[[list[StoredMessage]], Awaitable[None]]

_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
_MAX_BATCH = 512
_CACHE_LIMIT = 50_000


async def _nothing(_: AsyncConnection) -> None:
    """A unit that only lets its batch do the committer's own housekeeping."""


def _is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in _RETRYABLE_SQLSTATES


class Database:
    """A reader engine, a writer engine (the same one except on SQLite), and the committer.

    On SQLite all writes go through one connection with ``BEGIN IMMEDIATE`` (SQLite
    has one writer anyway; taking the lock up front avoids upgrade deadlocks), while
    reads use a pool of WAL readers.

    The committer (docs/architecture.md, "The engine") runs units of work in batches:
    one transaction, one fsync, many units; the units keyed on one conversation run one
    after another in arrival order, and a unit's events are published after COMMIT, in
    commit order, by one publisher task.
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
        # (events, messages written, when the batch committed: time.perf_counter())
        self._published: asyncio.Queue[tuple[list[Any], list[StoredMessage], float]] = (
            asyncio.Queue()
        )
        self._publisher_task: asyncio.Task[None] | None = None
        self._held: AsyncConnection | None = None  # the committer's connection, between
        self._held_sqlite: sqlite3.Connection | None = None  # SQLite: the sqlite3 one under it
        self._held_driver: InlineSqliteConnection | None = None  # and the driver's
        self._held_pg: asyncpg.Connection | None = None  # PostgreSQL: the asyncpg one
        self.publisher: Publisher | None = None
        self.after_commit: AfterCommit | None = None
        self.shares_messages = True
        # Outbox rows copied to a separate message store, deleted by the next batch.
        self._copied: list[tuple[str, int]] = []
        # SQLite: the conversations' records as the last batch committed them, valid while
        # no other connection has committed since (``PRAGMA data_version`` unchanged).
        self._cache: dict[str, Any] = {}
        self._data_version: int | None = None
        self.batches = 0  # committed batches, for tests and metrics
        self.statements = 0  # statements the committer's batches ran (budget tests)
        self.raw_statements = 0  # of those, on sqlite3 directly (SQLAlchemy's events miss them)
        self.raw_commits = 0  # batches begun and committed without SQLAlchemy
        # Read when Prometheus scrapes, nothing on the hot path (the newest Database wins).
        COMMITTER_QUEUE.set_function(self._queue.qsize)
        PUBLISH_QUEUE.set_function(self._published.qsize)

    @contextlib.asynccontextmanager
    async def read(self, scope: ReadScope) -> AsyncIterator[AsyncConnection]:
        """A connection for reads inside one (snapshot) transaction, held to ``scope``.

        On PostgreSQL a ``TenantScope`` runs the transaction as the reader role under
        row-level security (storage/tenancy.py), one statement more; ``CrossTenant``
        runs it as the owner. SQLite has no row-level security: the WHERE clause is
        its only wall."""
        async with self.reader.connect() as conn, conn.begin():
            if not self.is_sqlite:
                await enter(conn, scope)
            yield conn

    async def ping(self) -> None:
        """Raise unless the database answers (readiness)."""
        async with self.read(CrossTenant("readiness")) as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction shared with concurrent writers; return after commit.

        Not keyed on a conversation: for accounts, organizations and the like."""

        async def unit(batch: UnitBatch) -> T:
            return await work(batch.conn)

        return await self.run(unit)

    async def run(
        self,
        work: Callable[[UnitBatch], Awaitable[T]],
        *,
        keys: Sequence[str] = (),
        client_refs: Sequence[ClientRef] = (),
        fresh: bool = True,
    ) -> T:
        """Run one unit of work keyed on conversations ``keys``; return after COMMIT.

        ``fresh=False`` (sends, receipts): the unit reads and changes only what the batch
        holds in memory, so it needs no savepoint and no flush before it.
        """
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="committer")
        pending = _Pending(work, tuple(keys), tuple(client_refs), fresh)
        await self._queue.put(pending)
        result: T = await pending.future
        return result

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._window > 0:
                await asyncio.sleep(self._window)
            while not self._queue.empty() and len(batch) < _MAX_BATCH:
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, items: list[_Pending]) -> None:
        for attempt in range(5):
            started = time.perf_counter()
            try:
                outcomes, events, written, statements = await self._transaction(items)
            except Exception as exc:
                COMMIT_FAILURES.inc()
                self._cache.clear()
                if _is_retryable(exc) and attempt < 4:
                    await asyncio.sleep(0.002 * (attempt + 1))
                    continue
                if len(items) > 1:  # one bad unit must not fail the others: each alone
                    for item in items:
                        await self._commit([item])
                    return
                if not items[0].future.done():
                    items[0].future.set_exception(exc)
                return
            break
        committed = time.perf_counter()
        COMMIT_SECONDS.observe(committed - started)
        COMMIT_BATCH_UNITS.observe(len(items))
        if written:
            for kind, count in Counter(m.kind for m in written).items():
                MESSAGES_STORED.labels(kind).inc(count)
        self.batches += 1
        self.statements += statements
        for item, (ok, value) in zip(items, outcomes, strict=True):
            if item.future.done():
                continue
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)
        if events or (written and self.after_commit is not None):
            self._publish(events, written, committed)

    async def _transaction(
        self, items: list[_Pending]
    ) -> tuple[list[tuple[bool, Any]], list[Any], list[StoredMessage], int]:
        outcomes: list[tuple[bool, Any]] = []
        written: list[StoredMessage] = []
        async with self._writing() as conn:
            batch = UnitBatch(
                conn,
                shares_messages=self.shares_messages,
                sqlite=self._held_sqlite,
                pg=self._held_pg,
            )
            copied, self._copied = self._copied, []
            try:
                await forget_copied(conn, copied, self._held_pg)
            except BaseException:
                self._copied = copied + self._copied
                raise
            if self.is_sqlite:
                await self._seed_from_cache(batch, {k for item in items for k in item.keys})
            await batch.load(
                (k for item in items for k in item.keys),
                [r for item in items for r in item.client_refs],
            )
            reload = False  # a fresh unit dropped the batch's records: load the rest's at once
            for index, item in enumerate(items):
                if reload and not item.fresh:
                    reload = False
                    rest = items[index:]
                    await batch.load(
                        (k for later in rest for k in later.keys),
                        [r for later in rest for r in later.client_refs],
                    )
                if item.fresh:
                    written += await batch.flush()
                    before = len(batch.events)
                    try:
                        async with conn.begin_nested():
                            value = await item.work(batch)
                            written += await batch.flush()
                        outcomes.append((True, value))
                    except Exception as exc:
                        del batch.events[before:]
                        outcomes.append((False, exc))
                    batch.forget()
                    reload = True
                else:
                    snapshot = batch.snapshot(item.keys)
                    try:
                        outcomes.append((True, await item.work(batch)))
                    except Exception as exc:
                        batch.restore(snapshot)
                        outcomes.append((False, exc))
            written += await batch.flush()
            held = batch.held() if self.is_sqlite and not batch.forgot else None
            self.raw_statements += batch.raw_statements
        self._remember(held)
        return outcomes, batch.events, written, batch.statements

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """The committer's transaction, on a connection it keeps checked out between
        batches (the pool's checkout, reset and checkin were a third of a small batch's
        CPU, docs/benchmarks.md), begun and committed on the driver itself: SQLAlchemy's
        begin and commit (greenlets, events, the pool's bookkeeping) cost more CPU than a
        batch's own statements. A batch that fails drops the connection."""
        if not self.is_sqlite:
            async with self._writing_postgresql() as conn:
                yield conn
            return
        if self._held is None or self._held_driver is None:
            self._held = await self.writer.connect()
            driver = (await self._held.get_raw_connection()).driver_connection
            assert isinstance(driver, InlineSqliteConnection)  # the writer's inline_creator
            self._held_driver, self._held_sqlite = driver, driver.sqlite3_connection()
        conn, driver = self._held, self._held_driver
        # A unit that runs SQL through SQLAlchemy makes it autobegin inside this
        # transaction (``on_begin`` adds no BEGIN); then SQLAlchemy commits, so its view
        # of the connection stays true.
        try:
            await driver.begin_immediate()
            self.raw_statements += 1  # the statement counts include BEGIN, as before
            yield conn
            if conn.in_transaction():
                await conn.commit()
            else:
                await driver.commit_transaction()
                self.raw_commits += 1
        except BaseException:
            await self._drop_held()
            raise

    @contextlib.asynccontextmanager
    async def _writing_postgresql(self) -> AsyncIterator[AsyncConnection]:
        """PostgreSQL: BEGIN and COMMIT as an asyncpg transaction on the held connection.
        A unit that runs SQL through SQLAlchemy makes its asyncpg adapter start a
        transaction of its own, which asyncpg nests as a SAVEPOINT inside this one;
        SQLAlchemy's commit releases it before this COMMIT."""
        if self._held is None or self._held_pg is None:
            self._held = await self.writer.connect()
            driver = (await self._held.get_raw_connection()).driver_connection
            assert isinstance(driver, asyncpg.Connection)  # the asyncpg dialect's
            # A plan per execution: asyncpg prepares each statement once, and PostgreSQL's
            # generic plan for ``= ANY($1)`` and ``unnest`` joins, costed while the tables
            # were small, scanned them whole as they grew (docs/decisions.md).
            await driver.execute("SET plan_cache_mode = force_custom_plan")
            self._held_pg = driver
        conn, driver = self._held, self._held_pg
        try:
            transaction = driver.transaction()  # raises at once if the connection closed
            await transaction.start()
            yield conn
            if conn.in_transaction():
                await conn.commit()
            await transaction.commit()
            self.raw_commits += 1
        except BaseException:
            await self._drop_held()
            raise

    async def _drop_held(self) -> None:
        """Invalidating closes the driver's connection (which rolls back what was open)
        and tells the pool, whichever of SQLAlchemy or the committer began."""
        conn = self._held
        self._held, self._held_sqlite, self._held_driver, self._held_pg = None, None, None, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()

    def outbox_copied(self, keys: Sequence[tuple[str, int]]) -> None:
        """These outbox rows are in the message store now: the next batch deletes them
        (inside its own transaction: no unit of their own, no cache dropped)."""
        self._copied.extend(keys)

    async def _seed_from_cache(self, batch: UnitBatch, keys: set[str]) -> None:
        if batch.sqlite is not None:
            version = batch.sqlite.execute("PRAGMA data_version").fetchone()[0]
            batch.raw_statements += 1
        else:
            version = (await batch.conn.exec_driver_sql("PRAGMA data_version")).scalar()
        batch.statements += 1
        if version != self._data_version:  # another connection committed: start afresh
            self._cache.clear()
            self._data_version = int(version) if version is not None else None
            return
        batch.seed({k: self._cache[k] for k in keys if k in self._cache})

    def _remember(self, held: dict[str, Any] | None) -> None:
        """After COMMIT: keep what the batch holds, or forget everything if a unit ran
        SQL that may have changed any conversation."""
        if held is None or len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        if held is not None:
            self._cache.update(held)

    def _publish(self, events: list[Any], written: list[StoredMessage], committed: float) -> None:
        """Hand a committed batch to the after-commit task: its events are published, then
        its messages copied from the outbox to a separate message store, batch by batch
        in commit order. The acks do not wait for either."""
        if self._publisher_task is None or self._publisher_task.done():
            self._publisher_task = asyncio.create_task(self._run_publisher(), name="publisher")
        self._published.put_nowait((events, written, committed))

    async def _run_publisher(self) -> None:
        while True:
            events, written, committed = await self._published.get()
            if events and self.publisher is not None:
                await self._safe(self.publisher, events)
                PUBLISH_SECONDS.observe(time.perf_counter() - committed)
            if written and self.after_commit is not None:
                await self._safe(self.after_commit, written)
            self._published.task_done()

    async def drain_published(self) -> None:
        """Wait until every committed batch went through the after-commit task (and the
        outbox rows it copied are deleted)."""
        await self._published.join()
        if self._copied:
            await self.write(_nothing)

    @staticmethod
    async def _safe(fn: Callable[[Any], Awaitable[None]], value: Any) -> None:
        try:
            await fn(value)
        except Exception:  # the write committed; a failed fan-out must not undo it
            log.exception("after-commit step failed")

    async def close(self) -> None:
        for task in (self._task, self._publisher_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._held is not None:
            held, self._held = self._held, None
            await held.close()
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()
