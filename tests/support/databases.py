"""Fresh databases for tests: an SQLite file, or a PostgreSQL database made for this run.

PostgreSQL (127.0.0.1:5432, trust auth, user ``postgres``; override with
``RAASEL_TEST_POSTGRES_URL``) gets one migrated template database per test session;
every test or node then copies it (``CREATE DATABASE ... TEMPLATE``, no migrations
to rerun). All databases are named ``raasel_t_<pid>_...`` and dropped when the
session ends; a later run drops those left by a process that no longer exists.

``RAASEL_TEST_DATABASE=postgresql`` makes every test node run on PostgreSQL
(``make test-postgresql``); the storage and action fixtures use both back ends always.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import os
import re
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from raasel.storage.database import Database
from raasel.storage.migrate import upgrade

T = TypeVar("T")

ADMIN_URL = os.environ.get(
    "RAASEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PREFIX = f"raasel_t_{os.getpid()}_"
_NAME = re.compile(r"^raasel_t_(\d+)_\w+$")
_counter = itertools.count()
_created: list[str] = []
_lock = threading.Lock()


def nodes_use_postgres() -> bool:
    """Whether test nodes (``raasel serve`` subprocesses) run on PostgreSQL."""
    return os.environ.get("RAASEL_TEST_DATABASE", "sqlite").lower() in {"postgresql", "postgres"}


def backends_required() -> bool:
    """CI sets this: a back end that cannot run fails the run instead of skipping."""
    return os.environ.get("RAASEL_TEST_REQUIRE_BACKENDS", "") not in {"", "0", "false"}


def _in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a thread of its own: callers may be inside a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a private loop in a thread."""

    async def main() -> T:
        return await make()

    return _in_thread(lambda: asyncio.run(main()))


async def _admin(*statements: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        rows: list[asyncpg.Record] = []
        for sql in statements:
            rows = await conn.fetch(sql)
        return rows
    finally:
        await conn.close()


def url_of(name: str) -> str:
    """The SQLAlchemy (asyncpg) URL of database ``name`` on the test server."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", "", ""))


@functools.cache
def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None when it can); checked once per session."""
    try:
        _run(lambda: _admin("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at {ADMIN_URL} is unavailable: {type(exc).__name__}: {exc}"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_stale() -> None:
    """Drop test databases left behind by test processes that have died."""
    rows = _run(lambda: _admin("SELECT datname FROM pg_database WHERE datname LIKE 'raasel_t_%'"))
    for (name,) in rows:
        match = _NAME.match(name)
        if match and not _pid_alive(int(match.group(1))):
            _run(lambda name=name: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@functools.cache
def _template() -> str:
    """A migrated database that fresh test databases copy."""
    name = f"{PREFIX}template"
    _run(
        lambda: _admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
        )
    )
    _created.append(name)
    _in_thread(
        lambda: upgrade(url_of(name))
    )  # alembic closes its engine: the template has no connections left
    return name


def create_postgres_database() -> str:
    """A new, migrated PostgreSQL database; returns its URL. Dropped at session end."""
    with _lock:
        template = _template()
        name = f"{PREFIX}{next(_counter)}"
        _created.append(name)
    _run(lambda: _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return url_of(name)


def create_empty_postgres_database() -> str:
    """A new PostgreSQL database without any table (a restore's target); its URL."""
    with _lock:
        name = f"{PREFIX}{next(_counter)}"
        _created.append(name)
    _run(lambda: _admin(f'CREATE DATABASE "{name}"'))
    return url_of(name)


def drop_created() -> None:
    """Drop every database this process created (connections are closed by force)."""
    while _created:
        name = _created.pop()
        _run(lambda name=name: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'store.sqlite3'}"


def unavailable(reason: str) -> None:
    """Skip, loudly, for a back end that cannot run here; under CI's flag, fail."""
    if backends_required():
        pytest.fail(f"{reason} (RAASEL_TEST_REQUIRE_BACKENDS is set)")
    pytest.skip(reason)


async def migrated_database(kind: str, tmp_path: Path) -> Database:
    """A fresh, migrated SQL database of ``kind`` (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        url = sqlite_url(tmp_path)
        await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
    else:
        reason = postgres_unavailable()
        if reason:
            unavailable(reason)
        url = await asyncio.to_thread(create_postgres_database)
    return Database(url, window_ms=1)


def node_database_env(var_dir: Path) -> dict[str, str]:
    """The database setting for a test node using ``var_dir``.

    On PostgreSQL the node gets its own database, remembered in ``var_dir`` so that a
    node restarted on the same directory (the crash test) finds its data again.
    """
    if not nodes_use_postgres():
        return {}
    marker = var_dir / "test-database-url"
    if marker.exists():
        return {"RAASEL_DATABASE_URL": marker.read_text().strip()}
    url = create_postgres_database()
    var_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(url)
    return {"RAASEL_DATABASE_URL": url}


def node_database_url(var_dir: Path) -> str:
    """The database a test node on ``var_dir`` uses."""
    marker = var_dir / "test-database-url"
    if marker.exists():
        return marker.read_text().strip()
    return f"sqlite+aiosqlite:///{var_dir / 'raasel.sqlite3'}"


def query_node(var_dir: Path, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows of ``sql`` (``:name`` parameters) read straight from a node's database."""

    async def main() -> list[tuple[object, ...]]:
        engine = create_async_engine(node_database_url(var_dir))
        try:
            async with engine.connect() as conn:
                return [tuple(row) for row in (await conn.execute(text(sql), params)).all()]
        finally:
            await engine.dispose()

    return _run(main)


def execute_node(var_dir: Path, sql: str, **params: object) -> int:
    """Run one writing statement on a node's database (e.g. to age a row); rows changed."""

    async def main() -> int:
        engine = create_async_engine(node_database_url(var_dir))
        try:
            async with engine.begin() as conn:
                return int((await conn.execute(text(sql), params)).rowcount)
        finally:
            await engine.dispose()

    return _run(main)
