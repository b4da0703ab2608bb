"""The database check: it answers, its schema is the newest, and on PostgreSQL its
row-level security stands (storage/tenancy_audit.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raasel.config import Settings
from raasel.doctor.findings import SERVICE_TIMEOUT_SECONDS, Finding, error_text, redacted


async def check_database(settings: Settings) -> Finding:
    """The database answers, and its schema is Alembic's head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import create_async_engine

    from raasel.storage.migrate import alembic_config
    from raasel.storage.tenancy_audit import row_level_security_problems

    url = settings.resolved_database_url
    shown = redacted(url)
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1])
        if not await asyncio.to_thread(path.exists):
            return Finding(
                "database", "warn", f"{shown}: no database yet (`raasel migrate` makes it)"
            )
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()

    def revision(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    connect_args = {"timeout": SERVICE_TIMEOUT_SECONDS} if "asyncpg" in url else {}
    engine = create_async_engine(url, connect_args=connect_args)
    walls: list[str] = []
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await conn.run_sync(revision)
            if current == head and engine.dialect.name == "postgresql":
                walls = await row_level_security_problems(conn)
    except Exception as exc:
        return Finding("database", "fail", f"{shown}: {error_text(exc)}")
    finally:
        await engine.dispose()
    if current != head:
        return Finding(
            "database",
            "fail",
            f"{shown} answers, schema at {current or 'nothing'}, code expects {head}: "
            "run `raasel migrate`",
        )
    if walls:
        return Finding(
            "database", "fail", f"{shown}: row-level security is not in place: {'; '.join(walls)}"
        )
    rls = ", row-level security in place" if engine.dialect.name == "postgresql" else ""
    return Finding("database", "ok", f"{shown} answers, schema at {head} (head){rls}")
