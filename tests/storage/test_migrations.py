"""The Alembic migrations create exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from raasel.storage.database import Database
from raasel.storage.inbox_ddl import DERIVED_TABLES
from raasel.storage.schema import metadata


def _declared(name: str | None, type_: str, parent_names: object) -> bool:
    """The search indexes are the database's own (storage/inbox_ddl.py), not schema.py's;
    so are PostgreSQL's composite tenant keys (``tenant_*``, storage/tenant_ddl.py)."""
    if type_ == "table" and name in DERIVED_TABLES:
        return False
    return not (name or "").startswith("tenant_")


async def test_migrations_match_declared_schema(database: Database) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _declared}
        )
        return list(compare_metadata(context, metadata))

    async with database.reader.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
