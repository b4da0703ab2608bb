"""What a database snapshot yields for the archive, the same on SQLite and PostgreSQL:
the file, the schema revision, row counts and the attachments it refers to, all read in
the one snapshot the file was made from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from raasel.storage import schema

#: The tables counted in the manifest (and checked after a restore): the schema's own,
#: and Alembic's record of the revision.
COUNTED_TABLES: tuple[str, ...] = (*sorted(schema.metadata.tables), "alembic_version")
ATTACHMENTS_QUERY = "SELECT id, sha256, size FROM attachments ORDER BY id"


@dataclass(frozen=True)
class AttachmentRef:
    id: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Snapshot:
    file: Path
    schema_revision: str | None
    counts: dict[str, int]
    attachments: list[AttachmentRef]


def count_query(table: str) -> str:
    """``SELECT count(*)`` of one of ``COUNTED_TABLES`` (names from the code, never input)."""
    if table not in COUNTED_TABLES:
        raise ValueError(f"not a counted table: {table}")
    return f"SELECT count(*) FROM {table}"  # noqa: S608 - a table name from the schema
