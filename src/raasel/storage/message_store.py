"""The message-store interface, and the partition walk every back end shares.

Messages live in partitions keyed by (organization, conversation, bucket of positions)
and are clustered by position, the layout Cassandra needs (docs/decisions.md, "Message
partitions"). Positions are dense (1, 2, 3... per conversation, assigned by the engine
inside the unit that stores the message), so a bucket of ``BUCKET_SIZE`` positions is
never empty below the conversation's last position and no read walks empty buckets.

A back end implements an idempotent batch write (an upsert keyed by position) and
single-partition range reads. It knows nothing of the metadata database: the engine
decides positions and idempotency (docs/architecture.md, "The life of one message").
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from raasel.storage.tenancy import CrossTenant, ReadScope

#: The store's own reads (its contract tests, tools): the owner's, across tenants.
STORE_OWN_READ = CrossTenant("the message store's own reads")

BUCKET_SIZE = 1024  # positions per partition; see docs/decisions.md


def bucket_of(position: int) -> int:
    return position // BUCKET_SIZE


@dataclass(frozen=True, slots=True)
class StoredMessage:
    org_id: str
    conversation_id: str
    position: int
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
        return bucket_of(self.position)


#: Which internal notes a read returns: all (``True``), none (``False``), or only those
#: written by one side (its name: each organization of a ``b2b`` conversation sees its own).
NoteFilter = bool | str


def keeps(message: StoredMessage, include_notes: NoteFilter) -> bool:
    if message.kind != "note" or include_notes is True:
        return True
    return isinstance(include_notes, str) and message.sender_side == include_notes


class MessageStore(abc.ABC):
    """Durable message storage partitioned by organization and conversation."""

    #: True when the messages live in the metadata database itself (the SQL store): the
    #: engine then inserts them in the unit's own transaction instead of an outbox.
    shares_metadata_transaction: bool = False

    @abc.abstractmethod
    async def write(self, messages: Sequence[StoredMessage]) -> None:
        """Store ``messages`` durably; writing a position again with the same message is a
        no-op (the outbox may copy a message twice after a crash)."""

    @abc.abstractmethod
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
        """Messages of one partition with ``after < position < before``, in position order.

        ``scope``: whose rows the read may see, where the back end enforces it (SQL on
        PostgreSQL: row-level security, storage/tenancy.py); Cassandra has no such wall."""

    async def check(self) -> None:
        """Raise if the store cannot serve (``/readyz``)."""
        return None

    async def close(self) -> None:
        """Release connections (back ends with their own pools override this)."""
        return None

    async def history(
        self,
        org_id: str,
        conversation_id: str,
        *,
        before: int,
        limit: int,
        include_notes: NoteFilter,
        scope: ReadScope = STORE_OWN_READ,
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages below position ``before``, newest first.

        Reads the bucket of ``before - 1`` and older ones only while the page is short
        (a bucket holds ``BUCKET_SIZE`` positions; only notes filtered out for customers
        make a second read necessary).
        """
        found: list[StoredMessage] = []
        upper = before
        bucket = bucket_of(max(upper - 1, 0))
        while bucket >= 0 and upper > 1 and len(found) < limit:
            wanted = limit - len(found)
            batch = await self.read_bucket(
                org_id,
                conversation_id,
                bucket,
                after=0,
                before=upper,
                limit=wanted,
                newest_first=True,
                scope=scope,
            )
            if batch:
                upper = batch[-1].position
                found.extend(m for m in batch if keeps(m, include_notes))
            if len(batch) < wanted:
                bucket -= 1
                upper = min(upper, (bucket + 1) * BUCKET_SIZE)
        return found

    async def after(
        self,
        org_id: str,
        conversation_id: str,
        *,
        after: int,
        up_to: int,
        limit: int,
        include_notes: NoteFilter,
        scope: ReadScope = STORE_OWN_READ,
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages with ``after < position <= up_to``, oldest first."""
        found: list[StoredMessage] = []
        lower = max(after, 0)
        while lower < up_to and len(found) < limit:
            bucket = bucket_of(lower + 1)
            wanted = limit - len(found)
            batch = await self.read_bucket(
                org_id,
                conversation_id,
                bucket,
                after=lower,
                before=up_to + 1,
                limit=wanted,
                newest_first=False,
                scope=scope,
            )
            found.extend(m for m in batch if keeps(m, include_notes))
            exhausted = len(batch) < wanted  # nothing more in this bucket
            lower = (bucket + 1) * BUCKET_SIZE - 1 if exhausted else batch[-1].position
        return found
