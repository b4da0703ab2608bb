"""PostgreSQL: ``pg_dump --format=custom`` of the metadata, and ``pg_restore`` of it.

The dump, the counts and the attachment list come from one snapshot: a REPEATABLE READ
transaction exports it (``pg_export_snapshot``), reads the counts, and ``pg_dump
--snapshot`` dumps exactly that state while the nodes go on writing (the transaction stays
open until the dump is done). The password goes
to the tools in ``PGPASSWORD``, never on their command line (``ps`` shows that).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from raasel.backup.manifest import BackupError
from raasel.backup.snapshot import (
    ATTACHMENTS_QUERY,
    COUNTED_TABLES,
    AttachmentRef,
    Snapshot,
    count_query,
)
from raasel.storage import tenant_ddl

_SSL_MODES = {"true": "require", "false": "disable"}


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", password=None, query={})
    env: dict[str, str] = {}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    ssl = parsed.query.get("ssl") or parsed.query.get("sslmode")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = _SSL_MODES.get(ssl.lower(), ssl)
    return dsn.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"`{name}` is not installed (Debian: postgresql-client, of the server's major "
            "version or newer)"
        )
    return found


async def _run(args: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *args,
        env=os.environ | env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise BackupError(
            f"{Path(args[0]).name} failed: {' '.join(lines[-3:]) or process.returncode}"
        )


@contextlib.asynccontextmanager
async def _snapshot(url: str) -> AsyncIterator[AsyncConnection]:
    """One read-only REPEATABLE READ transaction: every statement in it sees one snapshot."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
    except (OSError, SQLAlchemyError) as exc:
        shown = make_url(url).render_as_string()
        raise BackupError(f"{shown}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    finally:
        await engine.dispose()


async def _scalar(conn: AsyncConnection, sql: str) -> Any:
    return (await conn.exec_driver_sql(sql)).scalar()


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    )
    present = {r[0] for r in rows}
    missing = [t for t in COUNTED_TABLES if t not in present]
    if missing:
        raise BackupError(f"the database lacks tables {', '.join(missing)}: run `raasel migrate`")
    return {t: int(await _scalar(conn, count_query(t))) for t in COUNTED_TABLES}


async def take(url: str, target: Path) -> Snapshot:
    """Dump the live database at ``url`` to ``target``."""
    pg_dump = _tool("pg_dump")
    dsn, env = libpq_target(url)
    async with _snapshot(url) as conn:
        snapshot_id = await _scalar(conn, "SELECT pg_export_snapshot()")
        counts = await _counts(conn)
        revision = await _scalar(conn, "SELECT version_num FROM alembic_version")
        rows = (await conn.exec_driver_sql(ATTACHMENTS_QUERY)).all()
        attachments = [AttachmentRef(str(r.id), str(r.sha256), int(r.size)) for r in rows]
        await _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot_id}",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                f"--dbname={dsn}",
            ],
            env,
        )
    return Snapshot(target, revision, counts, attachments)


async def is_empty(url: str) -> bool:
    async with _snapshot(url) as conn:
        tables = await _scalar(
            conn, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        )
    return int(tables) == 0


async def _grant_reader(url: str) -> None:
    """The dump leaves privileges out (``--no-privileges``): give the row-level security
    reader role its grants again (storage/tenant_ddl.py), or request reads are refused."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for statement in tenant_ddl.role_statements():
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def restore(dump: Path, url: str) -> tuple[str | None, dict[str, int]]:
    """Load ``dump`` into the empty database at ``url`` in one transaction; return the
    revision and counts found there afterwards."""
    pg_restore = _tool("pg_restore")
    if not await is_empty(url):
        raise BackupError(
            f"{make_url(url).render_as_string()} already has tables: restore into a new, "
            "empty database (createdb), never over a live one"
        )
    dsn, env = libpq_target(url)
    await _run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={dsn}",
            str(dump),
        ],
        env,
    )
    await _grant_reader(url)
    async with _snapshot(url) as conn:
        revision = await _scalar(conn, "SELECT version_num FROM alembic_version")
        return revision, await _counts(conn)
