"""Rows of the SQL ``messages`` table <-> ``StoredMessage`` (shared by the store and the
engine's batch, which inserts messages inside the unit's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage import schema
from raasel.storage.message_store import StoredMessage, bucket_of

_t = schema.messages


def row_to_message(row: Any) -> StoredMessage:
    return StoredMessage(
        org_id=row.org_id,
        conversation_id=row.conversation_id,
        position=int(row.position),
        id=int(row.id),
        sender_id=row.sender_id,
        sender_side=row.sender_side,
        client_id=row.client_id,
        kind=row.kind,
        body=row.body,
        attachment_id=row.attachment_id,
        created_at=row.created_at,
    )


def message_row(message: StoredMessage) -> dict[str, Any]:
    return {
        "org_id": message.org_id,
        "conversation_id": message.conversation_id,
        "bucket": bucket_of(message.position),
        "position": message.position,
        "id": message.id,
        "sender_id": message.sender_id,
        "sender_side": message.sender_side,
        "client_id": message.client_id,
        "kind": message.kind,
        "body": message.body,
        "attachment_id": message.attachment_id,
        "created_at": message.created_at,
    }


async def insert_messages(conn: AsyncConnection, messages: Sequence[StoredMessage]) -> None:
    """One multi-row insert (the engine's flush); positions already stored are skipped."""
    if not messages:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_t).on_conflict_do_nothing(
        index_elements=["org_id", "conversation_id", "bucket", "position"]
    )
    await conn.execute(statement, [message_row(m) for m in messages])
