"""The message-store interface, and the partition walk every back end shares.

Messages live in partitions keyed by (organization, conversation, time bucket) and
are clustered by id, the layout Cassandra needs (docs/decisions.md, "Message
partitions"). A back end only implements single-partition range reads and an
idempotent append; walking buckets for history and resync is done here, once.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from raasel.lib.ids import id_to_ms

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from raasel.storage.database import Database

T = TypeVar("T")

BUCKET_MS = 7 * 24 * 3600 * 1000  # one week per partition; see docs/decisions.md


def bucket_of(message_id: int) -> int:
    return id_to_ms(message_id) // BUCKET_MS


@dataclass(frozen=True, slots=True)
class StoredMessage:
    org_id: str
    conversation_id: str
    id: int
    sender_id: str
    sender_side: str
    client_id: str
    kind: str
    body: str
    attachment_id: str | None
    created_at: datetime

    @property
    def bucket(self) -> int:
        return bucket_of(self.id)


@dataclass(frozen=True, slots=True)
class Partition:
    """Where a conversation's messages live, and the oldest bucket they may be in."""

    org_id: str
    conversation_id: str
    first_message_id: int


class MessageStore(abc.ABC):
    """Durable, idempotent message storage partitioned by organization."""

    @abc.abstractmethod
    async def append(self, message: StoredMessage) -> tuple[StoredMessage, bool]:
        """Store ``message`` durably unless its sender already sent that client id.

        Returns the stored message (the earlier one on a retry) and whether it is new.
        """

    @abc.abstractmethod
    async def find_by_client_id(
        self, org_id: str, conversation_id: str, sender_id: str, client_id: str
    ) -> StoredMessage | None: ...

    @abc.abstractmethod
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
        """Messages of one partition strictly between the bounds, in id order."""

    async def close(self) -> None:
        """Release connections (back ends with their own pools override this)."""
        return None

    async def append_and_record(
        self,
        message: StoredMessage,
        metadata: Database,
        record: Callable[[AsyncConnection, StoredMessage], Awaitable[T]],
    ) -> tuple[StoredMessage, T | None]:
        """Append, then run ``record`` (the conversation's summary) in a metadata transaction.

        ``record`` runs only for a new message, so a retry changes nothing. A back end that
        shares the metadata database overrides this to do both in one commit.
        """
        stored, created = await self.append(message)
        if not created:
            return stored, None
        return stored, await metadata.write(lambda conn: record(conn, stored))

    async def history(
        self,
        partition: Partition,
        *,
        before_id: int | None,
        newest_id: int,
        limit: int,
        include_notes: bool,
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages older than ``before_id``, newest first.

        Walks buckets backwards from the cursor and stops at the conversation's first
        bucket, so a page costs the same however long the history is.
        """
        upper = before_id if before_id is not None else newest_id + 1
        found: list[StoredMessage] = []
        bucket = bucket_of(upper - 1) if upper > 0 else 0
        floor = bucket_of(partition.first_message_id)
        while bucket >= floor and len(found) < limit:
            wanted = limit - len(found)
            batch = await self.read_bucket(
                partition.org_id,
                partition.conversation_id,
                bucket,
                after_id=None,
                before_id=upper,
                limit=wanted,
                newest_first=True,
            )
            if batch:
                upper = batch[-1].id
                found.extend(m for m in batch if include_notes or m.kind != "note")
            if len(batch) < wanted:  # this partition is exhausted below the cursor
                bucket -= 1
        return found

    async def after(
        self,
        partition: Partition,
        *,
        after_id: int,
        newest_id: int,
        limit: int,
        include_notes: bool,
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages newer than ``after_id``, oldest first (for resync)."""
        lower = max(after_id, partition.first_message_id - 1)
        found: list[StoredMessage] = []
        bucket = bucket_of(max(lower, partition.first_message_id))
        last = bucket_of(newest_id)
        while bucket <= last and len(found) < limit:
            wanted = limit - len(found)
            batch = await self.read_bucket(
                partition.org_id,
                partition.conversation_id,
                bucket,
                after_id=lower,
                before_id=None,
                limit=wanted,
                newest_first=False,
            )
            if batch:
                lower = batch[-1].id
                found.extend(m for m in batch if include_notes or m.kind != "note")
            if len(batch) < wanted:
                bucket += 1
        return found
