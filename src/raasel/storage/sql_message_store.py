"""The message store on SQL (SQLite or PostgreSQL), through the group committer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage import schema
from raasel.storage.database import Database
from raasel.storage.message_store import MessageStore, StoredMessage, bucket_of

T = TypeVar("T")

_t = schema.messages


def _row_to_message(row: Any) -> StoredMessage:
    return StoredMessage(
        org_id=row.org_id,
        conversation_id=row.conversation_id,
        id=row.id,
        sender_id=row.sender_id,
        sender_side=row.sender_side,
        client_id=row.client_id,
        kind=row.kind,
        body=row.body,
        attachment_id=row.attachment_id,
        created_at=row.created_at,
    )


class SqlMessageStore(MessageStore):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, message: StoredMessage) -> tuple[StoredMessage, bool]:
        return await self._db.write(lambda conn: self._insert_new(conn, message))

    async def append_and_record(
        self,
        message: StoredMessage,
        metadata: Database,
        record: Callable[[AsyncConnection, StoredMessage], Awaitable[T]],
    ) -> tuple[StoredMessage, T | None]:
        """On the metadata database itself: message and summary in one commit (one fsync)."""
        if metadata is not self._db:
            return await super().append_and_record(message, metadata, record)

        async def work(conn: AsyncConnection) -> tuple[StoredMessage, T | None]:
            stored, created = await self._insert_new(conn, message)
            return stored, (await record(conn, stored) if created else None)

        return await self._db.write(work)

    async def _insert_new(
        self, conn: AsyncConnection, message: StoredMessage
    ) -> tuple[StoredMessage, bool]:
        """Insert unless the sender already used this client id: one statement when new.

        ``ON CONFLICT DO NOTHING`` on the (org, conversation, sender, client id) key; the
        earlier copy is read only when the insert did nothing (a retry).
        """
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = (
            dialect_insert(_t)
            .values(
                org_id=message.org_id,
                conversation_id=message.conversation_id,
                bucket=bucket_of(message.id),
                id=message.id,
                sender_id=message.sender_id,
                sender_side=message.sender_side,
                client_id=message.client_id,
                kind=message.kind,
                body=message.body,
                attachment_id=message.attachment_id,
                created_at=message.created_at,
            )
            .on_conflict_do_nothing(
                index_elements=["org_id", "conversation_id", "sender_id", "client_id"]
            )
        )
        if (await conn.execute(statement)).rowcount == 1:
            return message, True
        existing = await self._by_client_id(
            conn, message.org_id, message.conversation_id, message.sender_id, message.client_id
        )
        if existing is None:  # the conflict was on the primary key: never with snowflakes
            raise RuntimeError(f"message id {message.id} already stored")
        return existing, False

    async def find_by_client_id(
        self, org_id: str, conversation_id: str, sender_id: str, client_id: str
    ) -> StoredMessage | None:
        async with self._db.read() as conn:
            return await self._by_client_id(conn, org_id, conversation_id, sender_id, client_id)

    @staticmethod
    async def _by_client_id(
        conn: AsyncConnection, org_id: str, conversation_id: str, sender_id: str, client_id: str
    ) -> StoredMessage | None:
        row = (
            await conn.execute(
                select(_t).where(
                    _t.c.org_id == org_id,
                    _t.c.conversation_id == conversation_id,
                    _t.c.sender_id == sender_id,
                    _t.c.client_id == client_id,
                )
            )
        ).first()
        return _row_to_message(row) if row is not None else None

    async def read_bucket(
        self,
        org_id: str,
        conversation_id: str,
        bucket: int,
        *,
        after_id: int | None,
        before_id: int | None,
        limit: int,
        newest_first: bool,
    ) -> list[StoredMessage]:
        conditions = [
            _t.c.org_id == org_id,
            _t.c.conversation_id == conversation_id,
            _t.c.bucket == bucket,
        ]
        if after_id is not None:
            conditions.append(_t.c.id > after_id)
        if before_id is not None:
            conditions.append(_t.c.id < before_id)
        order = _t.c.id.desc() if newest_first else _t.c.id.asc()
        query = select(_t).where(and_(*conditions)).order_by(order).limit(limit)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_row_to_message(row) for row in rows]
