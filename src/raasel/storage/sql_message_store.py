"""The message store on SQL (SQLite or PostgreSQL): the metadata database's own table.

The engine inserts messages inside the unit's transaction (``shares_metadata_transaction``),
so a message and its conversation's summary commit together; this class serves the reads,
and ``write`` (an idempotent upsert) for the contract suite and tools.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select, text

from raasel.storage import schema
from raasel.storage.database import Database
from raasel.storage.message_rows import row_to_message
from raasel.storage.message_store import STORE_OWN_READ, MessageStore, StoredMessage
from raasel.storage.tenancy import CrossTenant, ReadScope
from raasel.storage.unit_batch import UnitBatch

_t = schema.messages


class SqlMessageStore(MessageStore):
    shares_metadata_transaction = True

    def __init__(self, db: Database) -> None:
        self._db = db

    async def write(self, messages: Sequence[StoredMessage]) -> None:
        """An in-memory unit: concurrent writers share their batch's one multi-row insert
        (idempotent: positions already stored are skipped)."""

        async def unit(batch: UnitBatch) -> None:
            for message in messages:
                batch.add_message(message)

        await self._db.run(unit, fresh=False)

    async def check(self) -> None:
        async with self._db.read(CrossTenant("readiness")) as conn:
            await conn.execute(text("SELECT 1 FROM messages LIMIT 1"))

    async def read_bucket(
        self,
        org_id: str,
        conversation_id: str,
        bucket: int,
        *,
        after: int,
        before: int,
        limit: int,
        newest_first: bool,
        scope: ReadScope = STORE_OWN_READ,
    ) -> list[StoredMessage]:
        order = _t.c.position.desc() if newest_first else _t.c.position.asc()
        query = (
            select(_t)
            .where(
                and_(
                    _t.c.org_id == org_id,
                    _t.c.conversation_id == conversation_id,
                    _t.c.bucket == bucket,
                    _t.c.position > after,
                    _t.c.position < before,
                )
            )
            .order_by(order)
            .limit(limit)
        )
        async with self._db.read(scope) as conn:
            rows = (await conn.execute(query)).all()
        return [row_to_message(row) for row in rows]
