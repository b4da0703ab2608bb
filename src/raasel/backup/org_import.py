"""``raasel import-org``: an organization export into this deployment, all or nothing.

The import goes through the engine as one unit of work, and every row must belong to the
organization the header names (a crafted file cannot write into another tenant).
Messages are written as the engine writes them: into the ``messages`` table, or into the
outbox that the message log then copies to Cassandra. Derived rows (search indexes) are
rebuilt by the database's own triggers; reporting events are replaced by the exported
ones. Format: org_format.py, docs/backup.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Services
from raasel.backup.manifest import BackupError
from raasel.backup.org_format import BY_NAME, FORMAT, TABLES, VERSION, decode, message_of
from raasel.rules.conversations import PEER_DETACHED
from raasel.storage import schema as s
from raasel.storage.message_rows import insert_messages, message_row
from raasel.storage.message_store import StoredMessage

PAGE = 500


def _lines(source: Path) -> Iterator[dict[str, Any]]:
    with source.open(encoding="utf-8") as fh:
        for number, text in enumerate(fh, 1):
            try:
                line = json.loads(text)
            except ValueError:
                raise BackupError(f"line {number}: not JSON") from None
            if not isinstance(line, dict) or not isinstance(line.get("type"), str):
                raise BackupError(f"line {number}: not an object with a type")
            yield line


class _Importer:
    """Checks each line against the header's organization and inserts in pages."""

    def __init__(
        self,
        conn: AsyncConnection,
        org_id: str,
        *,
        shares_messages: bool,
        peers: dict[str, str] | None = None,
    ) -> None:
        self.conn = conn
        self.org_id = org_id
        self.peers = peers or {}  # b2b: the other organizations' slugs, by id
        self.shares_messages = shares_messages
        self.counts: dict[str, int] = {}
        self.conversations: set[str] = set()
        self.message_holders: set[str] = set()  # its conversations and team rooms
        self.order = -1
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.messages: list[StoredMessage] = []
        # Inserted last, in place of those the triggers made for the rows inserted here.
        self.report_events: list[dict[str, Any]] = []

    async def row(self, name: str, row: Any) -> None:
        table = BY_NAME.get(name)
        if table is None or not isinstance(row, dict):
            raise BackupError(f"unknown table {name!r}")
        position = TABLES.index(table)
        if position < self.order:
            raise BackupError(f"{name} rows after {TABLES[self.order].name} rows: out of order")
        if position > self.order:
            await self.flush()
            self.order = position
        values = decode(table, row)
        self._check_tenant(table, values)
        if name == "conversations":
            self.conversations.add(values["id"])
        if name in ("conversations", "team_rooms"):  # what messages may belong to
            self.message_holders.add(values["id"])
            if values.get("peer_org_id") is not None:
                values = await self._peer_side(values)
        self.counts[name] = self.counts.get(name, 0) + 1
        if table is s.report_events:
            self.report_events.append(values)
            return
        self.pending.setdefault(name, []).append(values)
        if len(self.pending[name]) >= PAGE:
            await self.flush()

    def _check_tenant(self, table: Table, values: dict[str, Any]) -> None:
        if table.name == "organizations":
            owner = values.get("id")
        elif table.name == "users":
            owner = values.get("visitor_org_id") or self.org_id
        elif table.name == "conversation_sides":
            owner = self.org_id if values.get("conversation_id") in self.conversations else None
        else:
            owner = values.get("org_id")
        if owner != self.org_id:
            raise BackupError(f"a {table.name} row of another organization: refused")

    async def _peer_side(self, values: dict[str, Any]) -> dict[str, Any]:
        """A b2b conversation keeps its other organization only when that organization
        is here, the same one (its id *and* the slug the export recorded); its group and
        assignee only where they are still that organization's. Otherwise the
        conversation is detached: readable history, no other side (``detached``)."""
        peer_id = values["peer_org_id"]
        o = s.organizations.c
        here = (await self.conn.execute(select(o.slug).where(o.id == peer_id))).first()
        if here is None or self.peers.get(peer_id) != here.slug:
            return values | {
                "peer_org_id": None,
                "peer_group_id": None,
                "peer_assignee_id": None,
                "peer_status": PEER_DETACHED,
            }
        g, m = s.dispatch_groups.c, s.memberships.c
        if values.get("peer_group_id") is not None:
            group = select(g.id).where(g.org_id == peer_id, g.id == values["peer_group_id"])
            if (await self.conn.execute(group)).first() is None:
                values = values | {"peer_group_id": None}
        if values.get("peer_assignee_id") is not None:
            member = select(m.user_id).where(
                m.org_id == peer_id, m.user_id == values["peer_assignee_id"]
            )
            if (await self.conn.execute(member)).first() is None:
                back = "queued" if values.get("peer_status") == "active" else values["peer_status"]
                values = values | {"peer_assignee_id": None, "peer_status": back}
        return values

    async def message(self, row: Any) -> None:
        if not isinstance(row, dict):
            raise BackupError("a message line without a row")
        await self.flush()
        self.order = len(TABLES)
        message = message_of(row)
        if message.org_id != self.org_id or message.conversation_id not in self.message_holders:
            raise BackupError("a message of a conversation not in this export: refused")
        self.messages.append(message)
        self.counts["messages"] = self.counts.get("messages", 0) + 1
        if len(self.messages) >= PAGE:
            await self.flush()

    async def flush(self) -> None:
        for name, rows in self.pending.items():
            if rows:
                await self._insert(name, rows)
        self.pending = {}
        if self.messages:
            await self._insert_messages(self.messages)
            self.messages = []

    async def _insert(self, name: str, rows: list[dict[str, Any]]) -> None:
        table = BY_NAME[name]
        if name == "organizations":
            taken = await self.conn.execute(
                select(s.organizations.c.id).where(
                    (s.organizations.c.id == rows[0]["id"])
                    | (s.organizations.c.slug == rows[0]["slug"])
                )
            )
            if taken.first() is not None:
                raise BackupError(f"organization {rows[0]['slug']} already exists here")
        if name == "users":
            rows = await self._new_users(rows)
            if not rows:
                return
        await self.conn.execute(table.insert(), rows)

    async def finish(self) -> None:
        """The last rows, then the exported reporting events in place of those the
        database's triggers wrote for the conversations and messages inserted here."""
        await self.flush()
        await self.conn.execute(
            delete(s.report_events).where(s.report_events.c.org_id == self.org_id)
        )
        for start in range(0, len(self.report_events), PAGE):
            await self.conn.execute(
                s.report_events.insert(), self.report_events[start : start + PAGE]
            )

    async def _new_users(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Accounts already here (same id) are kept; another account's address refuses."""
        u = s.users.c
        ids = [r["id"] for r in rows]
        emails = [r["email"] for r in rows if r.get("email")]
        found = (
            await self.conn.execute(
                select(u.id, u.email).where(u.id.in_(ids) | u.email.in_(emails))
            )
        ).all()
        existing = {r.id for r in found}
        by_email = {r.email: r.id for r in found if r.email}
        for row in rows:
            holder = by_email.get(row.get("email"))
            if holder is not None and holder != row["id"]:
                raise BackupError(f"{row['email']} is another account here: refused")
        return [r for r in rows if r["id"] not in existing]

    async def _insert_messages(self, messages: list[StoredMessage]) -> None:
        if self.shares_messages:
            await insert_messages(self.conn, messages)
            return
        rows = [message_row(m) for m in messages]
        for row in rows:
            del row["bucket"]
        await self.conn.execute(s.message_outbox.insert(), rows)
        await self.conn.execute(
            s.message_client_ids.insert(),
            [
                {
                    "conversation_id": m.conversation_id,
                    "sender_id": m.sender_id,
                    "client_id": m.client_id,
                    "position": m.position,
                    "created_at": m.created_at,
                }
                for m in messages
            ],
        )


def _header(lines: Iterator[dict[str, Any]]) -> dict[str, Any]:
    header = next(lines, None)
    if header is None or header.get("type") != "header" or header.get("format") != FORMAT:
        raise BackupError("not a Raasel organization export (no header line)")
    if header.get("version") != VERSION:
        raise BackupError(f"export format version {header.get('version')!r}; this reads {VERSION}")
    if not isinstance(header.get("org_id"), str):
        raise BackupError("the header names no organization")
    return header


async def _import_all(importer: _Importer, lines: Iterable[dict[str, Any]]) -> dict[str, int]:
    for line in lines:
        kind = line["type"]
        if kind == "row":
            await importer.row(str(line.get("table")), line.get("row"))
        elif kind == "message":
            await importer.message(line.get("row"))
        elif kind == "end":
            await importer.finish()
            expected = line.get("counts")
            if (
                not isinstance(expected, dict)
                or {k: v for k, v in expected.items() if v} != importer.counts
            ):
                raise BackupError(
                    f"the file's counts {expected} differ from its lines "
                    f"{importer.counts}: truncated or edited"
                )
            return {str(k): int(v) for k, v in expected.items()}
        else:
            raise BackupError(f"unknown line type {kind!r}")
    raise BackupError("the file ends before its end line: truncated")


async def import_org(svc: Services, source: Path) -> tuple[str, dict[str, int]]:
    """Import the export at ``source``, all or nothing; return its slug and counts."""
    lines = _lines(source)
    header = _header(lines)
    shares = svc.messages.shares_metadata_transaction

    async def work(conn: AsyncConnection) -> dict[str, int]:
        peers = header.get("peers")
        if not isinstance(peers, dict):
            peers = {}
        importer = _Importer(conn, header["org_id"], shares_messages=shares, peers=peers)
        return await _import_all(importer, lines)

    counts = await svc.db.write(work)
    await svc.message_log.recover()  # an external store: the outbox to Cassandra, now
    return str(header.get("org_slug", header["org_id"])), counts
