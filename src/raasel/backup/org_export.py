"""One organization's data as JSON lines: ``raasel export-org`` (and org_import.py).

The format (docs/backup.md, "Organization export"): one JSON object per line,

    {"type": "header", "format": "raasel-org-export", "version": 1, "org_id": ..., ...}
    {"type": "row", "table": "organizations", "row": {...}}    tables in TABLES order
    {"type": "message", "row": {...}}                          oldest first, per conversation
    {"type": "end", "counts": {"organizations": 1, ..., "messages": N}}

Times are ISO 8601 with their UTC offset. The export reads the metadata in one snapshot
and each conversation's messages up to the position that snapshot records, from whichever
message store the node uses (SQL or Cassandra), so it is consistent while the node serves.
Members' password hashes are included (they log in on the new deployment): the file is
as secret as the database, and written readable by its owner only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, MetaData, String, Table, func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Services
from raasel.backup.manifest import BackupError
from raasel.backup.org_format import FORMAT, TABLES, VERSION, message_json, row_json
from raasel.lib.clock import utcnow
from raasel.storage import schema as s
from raasel.storage.team_room_schema import team_room_members, team_rooms
from raasel.storage.tenancy import TenantScope

PAGE = 500

# ----- export --------------------------------------------------------------------------


def _selects(org_id: str, sender_ids: set[str]) -> dict[str, Any]:
    """The organization's rows of each table (users: its members, customers, visitors,
    uploaders, contacts, canned responses' owners and message senders)."""
    c = s.conversations.c
    people = union(
        select(s.memberships.c.user_id).where(s.memberships.c.org_id == org_id),
        select(s.group_members.c.user_id).where(s.group_members.c.org_id == org_id),
        select(c.customer_id).where(c.org_id == org_id, c.customer_id.is_not(None)),
        select(c.assignee_id).where(c.org_id == org_id, c.assignee_id.is_not(None)),
        select(s.users.c.id).where(s.users.c.visitor_org_id == org_id),
        select(s.attachments.c.uploader_id).where(s.attachments.c.org_id == org_id),
        select(s.org_contacts.c.user_id).where(s.org_contacts.c.org_id == org_id),
        select(team_room_members.c.user_id).where(team_room_members.c.org_id == org_id),
        select(s.canned_responses.c.owner_id).where(
            s.canned_responses.c.org_id == org_id, s.canned_responses.c.owner_id.is_not(None)
        ),
    )
    in_org = select(c.id).where(c.org_id == org_id)
    return {
        "organizations": select(s.organizations).where(s.organizations.c.id == org_id),
        "users": select(s.users)
        .where(s.users.c.id.in_(people) | s.users.c.id.in_(sorted(sender_ids)))
        .order_by(s.users.c.id),
        "conversation_sides": select(s.conversation_sides)
        .where(s.conversation_sides.c.conversation_id.in_(in_org))
        .order_by(s.conversation_sides.c.conversation_id, s.conversation_sides.c.side),
        **{
            t.name: select(t).where(t.c.org_id == org_id).order_by(*t.primary_key.columns)
            for t in TABLES
            if t.name not in {"organizations", "users", "conversation_sides"}
        },
    }


async def _spool_messages(
    svc: Services, org_id: str, conversations: list[Any], spool: IO[str]
) -> tuple[int, set[str]]:
    """Every message of the conversations (and team rooms) up to the snapshot's
    positions, to ``spool``."""
    count, senders = 0, set()
    for conversation in conversations:
        after = 0
        while after < conversation.last_position:
            page = await svc.message_log.after(
                org_id,
                conversation.id,
                after=after,
                up_to=conversation.last_position,
                limit=PAGE,
                include_notes=True,
                scope=TenantScope(org_id=org_id),  # the operator's export of one organization
            )
            if not page:
                raise BackupError(
                    f"conversation {conversation.id}: messages after position {after} are "
                    "missing from the message store"
                )
            for message in page:
                spool.write(json.dumps({"type": "message", "row": message_json(message)}) + "\n")
                senders.add(message.sender_id)
            count += len(page)
            after = page[-1].position
    return count, senders


async def _snapshot_connection(svc: Services) -> AsyncConnection:
    conn = await svc.db.reader.connect()
    if not svc.db.is_sqlite:  # one snapshot for every statement (SQLite's read is one)
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


async def export_org(svc: Services, slug: str, output: Path) -> dict[str, int]:
    """Write organization ``slug``'s data to ``output`` (which must not exist)."""
    if await asyncio.to_thread(output.exists):
        raise BackupError(f"{output} exists: choose another file")
    counts: dict[str, int] = {}
    conn = await _snapshot_connection(svc)
    try:
        async with conn.begin():
            org = (
                await conn.execute(select(s.organizations).where(s.organizations.c.slug == slug))
            ).first()
            if org is None:
                raise BackupError(f"no organization {slug}")
            conversations = (
                await conn.execute(
                    select(s.conversations.c.id, s.conversations.c.last_position)
                    .where(s.conversations.c.org_id == org.id)
                    .order_by(s.conversations.c.id)
                )
            ).all()
            rooms = (
                await conn.execute(
                    select(team_rooms.c.id, team_rooms.c.last_position)
                    .where(team_rooms.c.org_id == org.id)
                    .order_by(team_rooms.c.id)
                )
            ).all()
            revision = (await conn.execute(select(func.max(_alembic().c.version_num)))).scalar()
            peers = await _peers(conn, org.id)
            with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
                holders = [*conversations, *rooms]
                messages, senders = await _spool_messages(svc, org.id, holders, spool)
                output.parent.mkdir(parents=True, exist_ok=True)
                partial = output.with_name(output.name + ".partial")
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with _removed_on_error(partial), os.fdopen(fd, "w", encoding="utf-8") as out:
                    header = {
                        "type": "header",
                        "format": FORMAT,
                        "version": VERSION,
                        "org_id": org.id,
                        "org_slug": org.slug,
                        "exported_at": utcnow().isoformat(),
                        "schema_revision": revision,
                        "message_store": svc.settings.message_store,
                        "peers": peers,
                    }
                    out.write(json.dumps(header) + "\n")
                    selects = _selects(org.id, senders)
                    for table in TABLES:
                        rows = (await conn.execute(selects[table.name])).all()
                        for row in rows:
                            item = {"type": "row", "table": table.name, "row": row_json(table, row)}
                            out.write(json.dumps(item) + "\n")
                        counts[table.name] = len(rows)
                    spool.seek(0)
                    for spooled in spool:
                        out.write(spooled)
                    counts["messages"] = messages
                    out.write(json.dumps({"type": "end", "counts": counts}) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                    partial.replace(output)
    finally:
        await conn.close()
    return counts


async def _peers(conn: AsyncConnection, org_id: str) -> dict[str, str]:
    """The slug of each organization the b2b conversations talk to (their id alone could
    name another organization on the deployment the export goes to: org_import.py)."""
    c, o = s.conversations.c, s.organizations.c
    rows = await conn.execute(
        select(o.id, o.slug)
        .where(o.id.in_(select(c.peer_org_id).where(c.org_id == org_id, c.kind == "b2b")))
        .order_by(o.id)
    )
    return {row.id: row.slug for row in rows}


@contextlib.contextmanager
def _removed_on_error(path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _alembic() -> Table:
    return Table("alembic_version", MetaData(), Column("version_num", String(32)))
