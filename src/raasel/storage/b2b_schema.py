"""The other organization's side of a ``b2b`` conversation (docs/protocol.md,
"Organization to organization").

A ``b2b`` conversation is a row of the organization that opened it (``org_id``: its
partition, its messages); ``peer_org_id`` is the organization it talks to, whose side
has its own group, assignee and status (``peer_status``: ``requested`` while it waits
for the peer's acceptance, ``declined``, ``queued``, ``active``, ``closed``). Each side's
internal notes are seen by that side only: ``org_note_position`` and
``peer_note_position`` are the positions of each side's newest note (what each side may
see is its notes and every public message).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String

from raasel.storage.schema import ID, TS, conversations

# No foreign keys here: SQLite cannot add one to a table without rebuilding it (and its
# triggers name it); on PostgreSQL composite tenant keys hold the three to the peer
# organization, its groups and its members (storage/b2b_ddl.py).
conversations.append_column(Column("peer_org_id", ID, nullable=True))
conversations.append_column(Column("peer_group_id", ID, nullable=True))
conversations.append_column(Column("peer_assignee_id", ID, nullable=True))
conversations.append_column(Column("peer_status", String(16), nullable=True))
conversations.append_column(Column("peer_accepted_at", TS, nullable=True))
conversations.append_column(Column("org_note_position", Integer, nullable=True))
conversations.append_column(Column("peer_note_position", Integer, nullable=True))

Index(
    "ix_conversations_peer",
    conversations.c.peer_org_id,
    conversations.c.peer_status,
    conversations.c.updated_at,
)
