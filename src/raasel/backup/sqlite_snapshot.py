"""SQLite: a consistent copy of the live database with sqlite3's online backup API.

One ``backup`` step copies every page inside one read transaction of the source: in WAL
mode the node's writer carries on meanwhile, and the copy is the database as of one
commit, never a torn file (a plain file copy of a database being written can be). The
counts, the revision and the attachment list are then read from the copy itself.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from raasel.backup.manifest import BackupError
from raasel.backup.snapshot import (
    ATTACHMENTS_QUERY,
    COUNTED_TABLES,
    AttachmentRef,
    Snapshot,
    count_query,
)

BUSY_TIMEOUT_MS = 30_000


def database_path(url: str) -> Path:
    """The file of a ``sqlite+aiosqlite:///...`` URL."""
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        raise BackupError(f"{url}: not a database file")
    return Path(path)


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        yield conn
    finally:
        conn.close()


def _read(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int], list[AttachmentRef]]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in COUNTED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"the database lacks tables {', '.join(missing)}: run `raasel migrate`")
    counts = {t: int(conn.execute(count_query(t)).fetchone()[0]) for t in COUNTED_TABLES}
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    attachments = [AttachmentRef(*r) for r in conn.execute(ATTACHMENTS_QUERY)]
    return (row[0] if row else None), counts, attachments


def take(source: Path, target: Path) -> Snapshot:
    """Copy the live database ``source`` to ``target`` (blocking: run it in a thread)."""
    if not source.exists():
        raise BackupError(f"{source}: no database (nothing to back up)")
    with _connect(source) as live, _connect(target) as copy:
        live.backup(copy)  # pages=-1: the whole database in one step, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        revision, counts, attachments = _read(copy)
    return Snapshot(target, revision, counts, attachments)


def check(copy: Path) -> tuple[str | None, dict[str, int]]:
    """The restored file's integrity, revision and counts (blocking)."""
    with _connect(copy) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"the database in the archive is damaged: {verdict}")
        revision, counts, _ = _read(conn)
    return revision, counts
