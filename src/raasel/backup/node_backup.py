"""``raasel backup`` and ``raasel restore``: the metadata database and the attachments of
a node in one archive, with a manifest (docs/backup.md).

Backup, while the node serves: (1) a snapshot of the database (sqlite_snapshot or
postgres_dump); (2) the attachment files that snapshot refers to, each checked against
the sha256 its row records (files are written before their row and deleted after it, so
every file a snapshot refers to exists unless the retention sweep removed it since: those
are listed as missing); (3) the manifest, last. The archive is written beside its final
name and renamed when complete, readable by its owner only.

Restore, into a fresh ``var/`` (or an empty PostgreSQL database): every file is checked
against the manifest before anything is put in place, the database's integrity and row
counts after.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from raasel import __version__
from raasel.backup import postgres_dump, sqlite_snapshot
from raasel.backup.manifest import (
    ATTACHMENTS_PREFIX,
    MANIFEST_NAME,
    SECRET_KEY_FILE,
    BackupError,
    DatabaseKind,
    FileEntry,
    Manifest,
    attachment_name,
    count_differences,
)
from raasel.backup.snapshot import Snapshot
from raasel.config import Settings
from raasel.lib.clock import utcnow

CHUNK = 1 << 20


def default_destination(settings: Settings) -> Path:
    return settings.var_dir / "backups" / f"raasel-{utcnow():%Y%m%dT%H%M%SZ}.tar.gz"


def _sha256_of(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return FileEntry(digest.hexdigest(), size)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(data))


async def _snapshot(settings: Settings, workdir: Path) -> Snapshot:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        source = sqlite_snapshot.database_path(url)
        return await asyncio.to_thread(sqlite_snapshot.take, source, workdir / "db")
    if url.startswith("postgresql"):
        return await postgres_dump.take(url, workdir / "db")
    raise BackupError(f"no backup method for {url.split(':', 1)[0]} databases")


def _write_archive(settings: Settings, snapshot: Snapshot, destination: Path) -> Manifest:
    kind: DatabaseKind = (
        "sqlite" if settings.resolved_database_url.startswith("sqlite") else "postgresql"
    )
    manifest = Manifest(
        created_at=utcnow().isoformat(),
        raasel_version=__version__,
        database_kind=kind,
        schema_revision=snapshot.schema_revision,
        counts=snapshot.counts,
        message_store=settings.message_store,
    )
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            manifest.files[manifest.database_file] = _sha256_of(snapshot.file)
            tar.add(snapshot.file, arcname=manifest.database_file, recursive=False)
            _add_attachments(settings, snapshot, manifest, tar)
            key = settings.var_dir / SECRET_KEY_FILE
            if not settings.secret_key and key.is_file():
                data = key.read_bytes()
                manifest.files[SECRET_KEY_FILE] = FileEntry(
                    hashlib.sha256(data).hexdigest(), len(data)
                )
                _add_bytes(tar, SECRET_KEY_FILE, data)
            _add_bytes(tar, MANIFEST_NAME, json.dumps(manifest.as_json(), indent=2).encode())
            raw.flush()
            os.fsync(raw.fileno())
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _add_attachments(
    settings: Settings, snapshot: Snapshot, manifest: Manifest, tar: tarfile.TarFile
) -> None:
    root = settings.resolved_attachments_dir
    for ref in snapshot.attachments:
        path = root / ref.id[-2:] / ref.id
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            manifest.missing_attachments.append(ref.id)
            continue
        entry = FileEntry(hashlib.sha256(data).hexdigest(), len(data))
        if entry.sha256 != ref.sha256:
            raise BackupError(f"attachment {ref.id}: the file does not match its recorded sha256")
        name = attachment_name(ref.id)
        manifest.files[name] = entry
        manifest.attachments += 1
        manifest.attachment_bytes += entry.size
        _add_bytes(tar, name, data)


async def create_backup(
    settings: Settings, destination: Path | None = None
) -> tuple[Path, Manifest]:
    """Back up the node configured by ``settings`` to ``destination`` (or var/backups/)."""
    target = destination or default_destination(settings)
    if target.exists():
        raise BackupError(f"{target} exists: choose another file")
    with tempfile.TemporaryDirectory(prefix="raasel-backup-") as work:
        snapshot = await _snapshot(settings, Path(work))
        manifest = await asyncio.to_thread(_write_archive, settings, snapshot, target)
    return target, manifest


# ----- restore -------------------------------------------------------------------------


def read_manifest(archive: Path) -> Manifest:
    with tarfile.open(archive, mode="r:*") as tar:
        try:
            member = tar.getmember(MANIFEST_NAME)
        except KeyError:
            raise BackupError(
                f"{archive}: no {MANIFEST_NAME} (incomplete or not a backup)"
            ) from None
        handle = tar.extractfile(member)
        if handle is None:
            raise BackupError(f"{archive}: {MANIFEST_NAME} is not a file")
        try:
            data = json.load(handle)
        except ValueError as exc:
            raise BackupError(f"{archive}: {MANIFEST_NAME} is not JSON: {exc}") from None
    return Manifest.from_json(data)


def _members(tar: tarfile.TarFile, manifest: Manifest) -> Iterator[tuple[str, IO[bytes]]]:
    seen: set[str] = set()
    for member in tar:
        if member.name == MANIFEST_NAME:
            continue
        if member.name not in manifest.files or not member.isfile():
            raise BackupError(
                f"the archive holds {member.name!r}, which its manifest does not list"
            )
        handle = tar.extractfile(member)
        assert handle is not None
        seen.add(member.name)
        yield member.name, handle
    absent = sorted(set(manifest.files) - seen)
    if absent:
        raise BackupError(f"the archive lacks {len(absent)} listed files, e.g. {absent[0]}")


def _extract_verified(archive: Path, manifest: Manifest, staging: Path) -> None:
    """Every listed file into ``staging``, each checked against its size and sha256."""
    with tarfile.open(archive, mode="r:*") as tar:
        for name, handle in _members(tar, manifest):
            path = staging / name
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                while block := handle.read(CHUNK):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            expected = manifest.files[name]
            if digest.hexdigest() != expected.sha256 or size != expected.size:
                raise BackupError(f"{name}: checksum mismatch (the archive is damaged)")


def _check_revision(revision: str | None) -> None:
    from alembic.script import ScriptDirectory

    from raasel.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {r.revision for r in script.walk_revisions()}
    if revision is not None and revision not in known:
        raise BackupError(
            f"the backup's schema revision {revision} is newer than this Raasel knows: "
            "restore with the version that made it"
        )


def _place_files(settings: Settings, staging: Path) -> None:
    attachments = staging / ATTACHMENTS_PREFIX.rstrip("/")
    if attachments.is_dir():
        target = settings.resolved_attachments_dir
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in attachments.iterdir():
            (target / folder.name).mkdir(mode=0o700, exist_ok=True)
            for file in folder.iterdir():
                shutil.move(file, target / folder.name / file.name)
    key = staging / SECRET_KEY_FILE
    if key.is_file() and not settings.secret_key:
        shutil.move(key, settings.var_dir / SECRET_KEY_FILE)


def _refuse_occupied(settings: Settings, manifest: Manifest) -> None:
    url = settings.resolved_database_url
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if kind != manifest.database_kind:
        raise BackupError(
            f"the archive holds a {manifest.database_kind} database; this node is configured "
            f"for {kind} (RAASEL_DATABASE_URL)"
        )
    if kind == "sqlite" and sqlite_snapshot.database_path(url).exists():
        raise BackupError(
            f"{sqlite_snapshot.database_path(url)} exists: restore into a fresh RAASEL_VAR_DIR "
            "(or move the old one away first)"
        )
    attachments = settings.resolved_attachments_dir
    if attachments.is_dir() and any(attachments.iterdir()):
        raise BackupError(f"{attachments} is not empty: restore into a fresh directory")


async def restore_backup(settings: Settings, archive: Path) -> Manifest:
    """Restore ``archive`` into the (fresh) node configured by ``settings``."""
    manifest = await asyncio.to_thread(read_manifest, archive)
    _check_revision(manifest.schema_revision)
    _refuse_occupied(settings, manifest)
    if manifest.database_kind == "postgresql" and not await postgres_dump.is_empty(
        settings.resolved_database_url
    ):
        raise BackupError("the target database already has tables: restore into an empty one")
    settings.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.var_dir))
    try:
        await asyncio.to_thread(_extract_verified, archive, manifest, staging)
        database = staging / manifest.database_file
        if manifest.database_kind == "sqlite":
            revision, counts = await asyncio.to_thread(sqlite_snapshot.check, database)
        else:
            revision, counts = await postgres_dump.restore(database, settings.resolved_database_url)
        problems = count_differences(manifest.counts, counts)
        if revision != manifest.schema_revision:
            problems.append(
                f"schema revision: expected {manifest.schema_revision}, found {revision}"
            )
        if problems:
            raise BackupError(
                "the restored database differs from the manifest: " + "; ".join(problems)
            )
        if manifest.database_kind == "sqlite":
            target = sqlite_snapshot.database_path(settings.resolved_database_url)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.move(database, target)
        await asyncio.to_thread(_place_files, settings, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
