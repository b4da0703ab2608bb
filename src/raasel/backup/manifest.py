"""The manifest at the end of every backup archive: what it holds and how to check it.

Pure: building, reading and checking manifests does no I/O (docs/backup.md, "The
archive").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FORMAT = "raasel-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DatabaseKind = Literal["sqlite", "postgresql"]
DATABASE_FILES: dict[str, str] = {"sqlite": "database.sqlite3", "postgresql": "metadata.pgdump"}
SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
ATTACHMENTS_PREFIX = "attachments/"
_SAFE_NAME = re.compile(r"^(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+$")


class BackupError(Exception):
    """A backup that cannot be made or an archive that cannot be restored: one line why."""


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass
class Manifest:
    created_at: str
    raasel_version: str
    database_kind: DatabaseKind
    schema_revision: str | None
    counts: dict[str, int]
    message_store: str
    attachments: int = 0
    attachment_bytes: int = 0
    missing_attachments: list[str] = field(default_factory=list)
    files: dict[str, FileEntry] = field(default_factory=dict)

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.database_kind]

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **body}

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Parse and check a manifest; ``BackupError`` says what is wrong with it."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("not a Raasel backup (its manifest names no raasel-backup format)")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise BackupError(
                f"backup format version {version!r}; this Raasel reads version {FORMAT_VERSION}"
            )
        try:
            files = {
                str(name): FileEntry(str(entry["sha256"]), int(entry["size"]))
                for name, entry in dict(data["files"]).items()
            }
            manifest = cls(
                created_at=str(data["created_at"]),
                raasel_version=str(data["raasel_version"]),
                database_kind=data["database_kind"],
                schema_revision=data["schema_revision"],
                counts={str(k): int(v) for k, v in dict(data["counts"]).items()},
                message_store=str(data["message_store"]),
                attachments=int(data["attachments"]),
                attachment_bytes=int(data["attachment_bytes"]),
                missing_attachments=[str(i) for i in data["missing_attachments"]],
                files=files,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"the manifest is malformed: {type(exc).__name__} {exc}") from None
        if manifest.database_kind not in DATABASE_FILES:
            raise BackupError(f"unknown database kind {manifest.database_kind!r}")
        if manifest.database_file not in files:
            raise BackupError(f"the manifest lists no {manifest.database_file}")
        for name in files:
            if not is_safe_name(name) or name == MANIFEST_NAME:
                raise BackupError(f"the manifest names an unsafe path: {name!r}")
        return manifest


def is_safe_name(name: str) -> bool:
    """A relative path of plain components: nothing absolute, no ``..``."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name.split("/")


def attachment_name(attachment_id: str) -> str:
    """The archive path of an attachment: the layout of ``LocalAttachmentFiles``."""
    return f"{ATTACHMENTS_PREFIX}{attachment_id[-2:]}/{attachment_id}"


def count_differences(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    """``table: expected N, found M`` for every table whose row count differs."""
    return [
        f"{table}: expected {count}, found {found.get(table)}"
        for table, count in sorted(expected.items())
        if found.get(table) != count
    ]
