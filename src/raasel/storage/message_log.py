"""A conversation's messages as the engine committed them: the message store, plus the
metadata database's outbox when the store is a separate one (Cassandra).

The engine's unit commits a message with its conversation's summary in the metadata
database: in the ``messages`` table itself on SQL, or in ``message_outbox`` otherwise.
After the commit the outbox rows are copied to the store and deleted; on start-up
``recover`` copies whatever a crash left behind. Readers merge the outbox, so a message
is readable from the moment it is acknowledged, with or without the copy
(docs/architecture.md, "Positions on Cassandra").
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy import select, tuple_

from raasel.storage import schema
from raasel.storage.database import Database
from raasel.storage.message_rows import row_to_message
from raasel.storage.message_store import MessageStore, NoteFilter, StoredMessage, keeps
from raasel.storage.tenancy import CrossTenant, ReadScope

log = structlog.get_logger(__name__)

_outbox = schema.message_outbox
_messages = schema.messages
ID_SCAN_LIMIT = 2_000
_RECOVERY = CrossTenant("copying every tenant's outbox rows to the message store")


class MessageLog:
    def __init__(self, store: MessageStore, db: Database) -> None:
        self.store = store
        self.db = db
        self.merges_outbox = not store.shares_metadata_transaction

    async def _outbox_rows(
        self, scope: ReadScope, conversation_id: str, after: int, before: int
    ) -> list[StoredMessage]:
        if not self.merges_outbox:
            return []
        query = select(_outbox).where(
            _outbox.c.conversation_id == conversation_id,
            _outbox.c.position > after,
            _outbox.c.position < before,
        )
        async with self.db.read(scope) as conn:
            rows = (await conn.execute(query)).all()
        return [row_to_message(row) for row in rows]

    @staticmethod
    def _merge(
        stored: list[StoredMessage], pending: list[StoredMessage], *, newest_first: bool
    ) -> list[StoredMessage]:
        if not pending:
            return stored
        by_position = {m.position: m for m in pending} | {m.position: m for m in stored}
        return sorted(by_position.values(), key=lambda m: m.position, reverse=newest_first)

    async def history(
        self,
        org_id: str,
        conversation_id: str,
        *,
        before: int,
        limit: int,
        include_notes: NoteFilter,
        scope: ReadScope,
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages below position ``before``, newest first.

        ``scope``: the caller's (``Actor.scope``): on PostgreSQL the rows are read
        under row-level security (storage/tenancy.py)."""
        page = await self.store.history(
            org_id,
            conversation_id,
            before=before,
            limit=limit,
            include_notes=include_notes,
            scope=scope,
        )
        floor = page[-1].position if len(page) >= limit else 0
        pending = [
            m
            for m in await self._outbox_rows(scope, conversation_id, floor, before)
            if keeps(m, include_notes)
        ]
        return self._merge(page, pending, newest_first=True)[:limit]

    async def after(
        self,
        org_id: str,
        conversation_id: str,
        *,
        after: int,
        up_to: int,
        limit: int,
        include_notes: NoteFilter,
        scope: ReadScope,
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages with ``after < position <= up_to``, oldest first."""
        page = await self.store.after(
            org_id,
            conversation_id,
            after=after,
            up_to=up_to,
            limit=limit,
            include_notes=include_notes,
            scope=scope,
        )
        ceiling = page[-1].position + 1 if len(page) >= limit else up_to + 1
        pending = [
            m
            for m in await self._outbox_rows(scope, conversation_id, after, ceiling)
            if keeps(m, include_notes)
        ]
        return self._merge(page, pending, newest_first=False)[:limit]

    async def at(
        self, org_id: str, conversation_id: str, position: int, *, scope: ReadScope
    ) -> StoredMessage | None:
        found = await self.after(
            org_id,
            conversation_id,
            after=position - 1,
            up_to=position,
            limit=1,
            include_notes=True,
            scope=scope,
        )
        return found[0] if found else None

    async def position_of_id(
        self,
        org_id: str,
        conversation_id: str,
        message_id: int,
        last_position: int,
        *,
        scope: ReadScope,
    ) -> int:
        """The position of the newest message whose id is at most ``message_id`` (ids grow
        with positions): for clients that still name messages by id."""
        if message_id <= 0:
            return 0
        if not self.merges_outbox:
            query = select(_messages.c.position).where(
                _messages.c.org_id == org_id,
                _messages.c.conversation_id == conversation_id,
                _messages.c.id <= message_id,
            )
            query = query.order_by(_messages.c.id.desc()).limit(1)
            async with self.db.read(scope) as conn:
                found = (await conn.execute(query)).scalar()
            return int(found) if found is not None else 0
        before = last_position + 1
        scanned = 0
        while before > 1 and scanned < ID_SCAN_LIMIT:
            page = await self.history(
                org_id, conversation_id, before=before, limit=200, include_notes=True, scope=scope
            )
            if not page:
                break
            for message in page:
                if message.id <= message_id:
                    return message.position
            before = page[-1].position
            scanned += len(page)
        return 0

    # ----- the outbox ------------------------------------------------------------------

    async def copy_to_store(self, messages: Sequence[StoredMessage]) -> None:
        """After a commit: write the batch's messages to the store, then drop them from
        the outbox. A failure leaves them in the outbox (still readable); ``recover``
        copies them later."""
        if not self.merges_outbox or not messages:
            return
        await self.store.write(messages)
        self.db.outbox_copied([(m.conversation_id, m.position) for m in messages])

    async def recover(self, page: int = 500) -> int:
        """Copy every outbox row to the store (start-up, or a failed copy); return how many."""
        if not self.merges_outbox:
            return 0
        copied = 0
        after: tuple[str, int] = ("", 0)
        while True:
            key = tuple_(_outbox.c.conversation_id, _outbox.c.position)
            async with self.db.read(_RECOVERY) as conn:
                rows = (
                    await conn.execute(
                        select(_outbox)
                        .where(key > after)
                        .order_by(_outbox.c.conversation_id, _outbox.c.position)
                        .limit(page)
                    )
                ).all()
            if not rows:
                await self.db.drain_published()  # the copied rows are deleted
                return copied
            messages = [row_to_message(row) for row in rows]
            await self.copy_to_store(messages)
            copied += len(messages)
            after = (messages[-1].conversation_id, messages[-1].position)
            log.info("outbox copied to the message store", messages=len(messages))
