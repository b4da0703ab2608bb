"""The Alembic migrations create exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from raasel.storage.database import Database
from raasel.storage.schema import metadata


async def test_migrations_match_declared_schema(database: Database) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with database.reader.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
