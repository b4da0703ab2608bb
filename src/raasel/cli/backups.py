"""Backups: ``raasel backup|restore`` of a node, ``raasel export-org|import-org`` of one
organization (the logic is in raasel.backup; procedures in docs/backup.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from raasel.cli.base import app, example, private_files, with_services
from raasel.config import Settings


def backup_failed(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@app.command(
    epilog=example(
        "raasel backup                                  # var/backups/raasel-<time>.tar.gz",
        "raasel backup --output /mnt/backups/raasel-$(date -u +%F).tar.gz",
    ),
)
def backup(
    output: Annotated[
        Path | None,
        typer.Option(help="The archive to write (must not exist); default var/backups/"),
    ] = None,
) -> None:
    """Back up the database and the attachments into one archive while the node serves.

    SQLite: a consistent copy through SQLite's online backup API; PostgreSQL: pg_dump of
    one snapshot (custom format). With a manifest of row counts and checksums that
    `raasel restore` verifies. Messages in Cassandra are not in it: docs/backup.md.
    """
    from raasel.backup.manifest import BackupError
    from raasel.backup.node_backup import create_backup

    settings = Settings()
    private_files(settings)
    try:
        path, manifest = asyncio.run(create_backup(settings, output))
    except BackupError as exc:
        raise backup_failed(exc) from None
    rows = sum(manifest.counts.values())
    typer.echo(
        f"backup written: {path} ({manifest.database_kind} at {manifest.schema_revision}, "
        f"{rows} rows, {manifest.counts.get('messages', 0)} messages, "
        f"{manifest.attachments} attachments)"
    )
    if manifest.missing_attachments:
        typer.echo(
            f"note: {len(manifest.missing_attachments)} attachments were deleted while the "
            "backup ran (unattached uploads past retention)",
            err=True,
        )
    if manifest.message_store == "cassandra":
        typer.echo("note: messages live in Cassandra: snapshot it too (docs/backup.md)", err=True)


@app.command(
    epilog=example(
        "RAASEL_VAR_DIR=/srv/raasel/var raasel restore raasel-20260101T030000Z.tar.gz",
        "RAASEL_DATABASE_URL=postgresql+asyncpg://raasel@db/raasel_new raasel restore b.tar.gz",
    ),
)
def restore(
    archive: Annotated[Path, typer.Argument(help="An archive `raasel backup` wrote")],
) -> None:
    """Restore a backup into a fresh node: an absent SQLite file (a new RAASEL_VAR_DIR) or
    an empty PostgreSQL database. Every file is checked against the manifest first, row
    counts after. Start the node with `raasel serve` afterwards (it migrates if needed)."""
    from raasel.backup.manifest import BackupError
    from raasel.backup.node_backup import restore_backup

    settings = Settings()
    private_files(settings)
    try:
        manifest = asyncio.run(restore_backup(settings, archive))
    except (BackupError, OSError) as exc:
        raise backup_failed(exc) from None
    typer.echo(
        f"restored {archive} (made {manifest.created_at}): "
        f"{manifest.counts.get('messages', 0)} messages, "
        f"{manifest.counts.get('conversations', 0)} conversations, "
        f"{manifest.attachments} attachments"
    )


@app.command(
    "export-org",
    epilog=example("raasel export-org acme --output acme.jsonl"),
)
def export_org(
    slug: Annotated[str, typer.Argument(help="The organization's slug")],
    output: Annotated[Path, typer.Option(help="The JSON-lines file to write (must not exist)")],
) -> None:
    """Export one organization (members, groups, conversations, messages...) as JSON lines,
    from any message store (SQL or Cassandra), while the node serves. The file holds
    password hashes: keep it as safe as the database. Format: docs/backup.md."""
    from raasel.backup.manifest import BackupError
    from raasel.backup.org_export import export_org as export

    try:
        counts = with_services(lambda svc: export(svc, slug, output))
    except BackupError as exc:
        raise backup_failed(exc) from None
    typer.echo(
        f"{slug} exported to {output}: {counts['conversations']} conversations, "
        f"{counts['messages']} messages, {counts['users']} people"
    )


@app.command(
    "import-org",
    epilog=example("RAASEL_MESSAGE_STORE=cassandra raasel import-org acme.jsonl"),
)
def import_org(
    source: Annotated[Path, typer.Argument(help="A file `raasel export-org` wrote")],
) -> None:
    """Import an organization export, all or nothing: refused if the organization (or one
    of its people's addresses under another account) exists here already."""
    from raasel.backup.manifest import BackupError
    from raasel.backup.org_import import import_org as load

    try:
        slug, counts = with_services(lambda svc: load(svc, source))
    except (BackupError, OSError) as exc:
        raise backup_failed(exc) from None
    typer.echo(
        f"{slug} imported: {counts.get('conversations', 0)} conversations, "
        f"{counts.get('messages', 0)} messages"
    )
