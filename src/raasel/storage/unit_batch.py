"""What a unit of work sees inside the committer's transaction (docs/architecture.md).

A batch is one transaction shared by many units. It loads the conversations its units
are keyed on in one statement (locked ``FOR UPDATE`` in id order on PostgreSQL, so two
nodes serialize on a conversation and never deadlock on the batch's own rows), keeps
their records in memory while units change them, and writes the changes once at the
end: one multi-row insert for the messages, one executemany per changed column set for
the conversations, one for the receipt rows. A unit that fails is undone in memory
(``Snapshot``); a unit that needs the database as it stands (``fresh``) gets the batch
flushed first, runs in a savepoint, and the cache is dropped after it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import Table, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage import pg_bulk, schema, sqlite_bulk
from raasel.storage.message_rows import message_row, row_to_message
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import Conversation, ConversationSide

_c = schema.conversations
_s = schema.conversation_sides
_m = schema.messages
_outbox = schema.message_outbox
_client_ids = schema.message_client_ids

_SIDE_FIELDS = (
    "delivered_position",
    "read_position",
    "delivered_up_to",
    "read_up_to",
    "received",
    "read_count",
)

ClientRef = tuple[str, str, str]  # (conversation id, sender id, client id)
# One UPDATE: the table, the columns it sets, the key columns, rows of values then keys.
_Update = tuple[Table, tuple[str, ...], tuple[str, ...], list[list[Any]]]


@dataclass(frozen=True, slots=True)
class Sent:
    """An earlier message of the same client id: its position, and the message when the
    batch could read it (always on SQL; from the outbox or the store on Cassandra)."""

    position: int
    message: StoredMessage | None


@dataclass(slots=True)
class Snapshot:
    conversations: dict[str, Conversation | None]
    sides: dict[str, dict[str, ConversationSide]]
    dirty: dict[str, set[str]]
    dirty_sides: set[tuple[str, str]]
    messages: int
    sent_keys: int
    events: int


@dataclass
class UnitBatch:
    """The transaction of one committer batch; units call it, the committer drives it."""

    conn: AsyncConnection
    shares_messages: bool
    events: list[Any] = field(default_factory=list)
    _conversations: dict[str, Conversation | None] = field(default_factory=dict)
    _sides: dict[str, dict[str, ConversationSide]] = field(default_factory=dict)
    _dirty: dict[str, set[str]] = field(default_factory=dict)
    _dirty_sides: set[tuple[str, str]] = field(default_factory=set)
    _messages: list[StoredMessage] = field(default_factory=list)
    _sent: dict[ClientRef, Sent | None] = field(default_factory=dict)
    _sent_order: list[ClientRef] = field(default_factory=list)
    statements: int = 0
    raw_statements: int = 0  # of those, run on the driver directly (not seen by SQLAlchemy)
    _forgot: bool = False
    # The driver's connection under ``conn``, on which the committer began the batch
    # (``Database._writing``): the batch's own statements run there, not through
    # SQLAlchemy. Exactly one is set: sqlite3 on SQLite, asyncpg on PostgreSQL.
    sqlite: sqlite3.Connection | None = None
    pg: asyncpg.Connection | None = None

    def __post_init__(self) -> None:
        assert (self.sqlite is None) != (self.pg is None), "one driver connection"

    # ----- loading -------------------------------------------------------------------

    def seed(self, cached: dict[str, tuple[Conversation, dict[str, ConversationSide]]]) -> None:
        """Start from records known to be current (the committer's cache, see Database)."""
        for conversation_id, (conversation, sides) in cached.items():
            self._conversations[conversation_id] = conversation
            self._sides[conversation_id] = dict(sides)

    def held(self) -> dict[str, tuple[Conversation, dict[str, ConversationSide]]]:
        """The records as this batch leaves them (after its final flush)."""
        return {
            i: (c, self._sides.get(i, {})) for i, c in self._conversations.items() if c is not None
        }

    @property
    def forgot(self) -> bool:
        return self._forgot

    async def load(self, ids: Iterable[str], refs: Iterable[ClientRef] = ()) -> None:
        """Load (and on PostgreSQL lock, in id order) conversations not yet in memory, and
        look up every client id in ``refs`` (idempotency): on PostgreSQL two statements,
        the lock and then the rest."""
        wanted = sorted({i for i in ids if i not in self._conversations})
        if self.pg is None:
            if wanted:
                found, side_records = await self._load_sqlite(wanted)
                self._keep(wanted, found, side_records)
            await self.prefetch_sent(refs)
            return
        found = {}
        if wanted:
            found = {c.id: c for c in await pg_bulk.load_conversations(self.pg, wanted)}
            self._count()
            for i in wanted:  # known before the sides, so the client-id keys can use them
                self._conversations[i] = found.get(i)
        sent = [r for r in set(refs) if r not in self._sent]
        if found or sent:
            side_records = await self._sides_and_sent(self.pg, list(found), sent)
        else:
            side_records = []
        if wanted:
            self._keep(wanted, found, side_records)

    def _keep(
        self,
        wanted: list[str],
        found: dict[str, Conversation],
        side_records: list[ConversationSide],
    ) -> None:
        sides: dict[str, dict[str, ConversationSide]] = {i: {} for i in found}
        for side in side_records:
            sides[side.conversation_id][side.side] = side
        for i in wanted:
            self._conversations[i] = found.get(i)
            self._sides[i] = sides.get(i, {})

    def _count(self) -> None:
        """One statement of the batch's own, run on the driver."""
        self.statements += 1
        self.raw_statements += 1

    def _sent_keys(self, refs: Iterable[ClientRef]) -> list[tuple[str, str, str, str]]:
        """The messages' unique keys (org, conversation, sender, client id) of ``refs``
        whose conversation the batch holds: an index lookup each, whatever its length."""
        keys = []
        for conversation_id, sender_id, client_id in refs:
            conversation = self._conversations.get(conversation_id)
            if conversation is not None:
                keys.append((conversation.org_id, conversation_id, sender_id, client_id))
        return keys

    async def _sides_and_sent(
        self, pg: asyncpg.Connection, ids: list[str], refs: list[ClientRef]
    ) -> list[ConversationSide]:
        """PostgreSQL: the sides of ``ids`` and the client ids ``refs``, one statement."""
        found: dict[ClientRef, Sent] = {}
        if self.shares_messages:
            sides, messages = await pg_bulk.sides_and_sent_messages(pg, ids, self._sent_keys(refs))
            found = {
                (m.conversation_id, m.sender_id, m.client_id): Sent(m.position, m) for m in messages
            }
        else:
            sides, positions = await pg_bulk.sides_and_sent_positions(pg, ids, refs)
            found = {ref: Sent(position, None) for ref, position in positions.items()}
        self._count()
        for ref in refs:
            self._sent[ref] = found.get(ref)
        return sides

    async def _load_sqlite(
        self, wanted: list[str]
    ) -> tuple[dict[str, Conversation], list[ConversationSide]]:
        # SQLite (one writer, no row locks): through SQLAlchemy, which converts its text
        # datetimes and JSON; the committer's cache spares most batches this load.
        query = select(_c).where(_c.c.id.in_(wanted))
        rows = (await self.conn.execute(query)).all()
        self.statements += 1
        found = {row.id: Conversation.from_row(row) for row in rows}
        if not found:
            return found, []
        side_rows = (
            await self.conn.execute(select(_s).where(_s.c.conversation_id.in_(list(found))))
        ).all()
        self.statements += 1
        return found, [ConversationSide.from_row(row) for row in side_rows]

    async def prefetch_sent(self, refs: Iterable[ClientRef]) -> None:
        """One lookup for every client id the batch's sends carry (idempotency)."""
        wanted = [r for r in set(refs) if r not in self._sent]
        if not wanted:
            return
        if self.pg is not None:
            await self._sides_and_sent(self.pg, [], wanted)
            return
        sqlite = self.sqlite
        assert sqlite is not None
        found: dict[ClientRef, Sent] = {}
        if self.shares_messages:
            keys = self._sent_keys(wanted)
            messages = sqlite_bulk.find_by_client_ids(sqlite, keys) if keys else []
            self.raw_statements += bool(keys)
            found = {
                (m.conversation_id, m.sender_id, m.client_id): Sent(m.position, m) for m in messages
            }
        else:
            positions = sqlite_bulk.find_client_id_positions(sqlite, wanted)
            self.raw_statements += 1
            found = {ref: Sent(position, None) for ref, position in positions.items()}
        self.statements += 1
        for ref in wanted:
            self._sent[ref] = found.get(ref)

    # ----- what units call ---------------------------------------------------------------

    async def conversation(self, conversation_id: str) -> Conversation | None:
        if conversation_id not in self._conversations:
            await self.load([conversation_id])
        return self._conversations[conversation_id]

    async def sides(self, conversation_id: str) -> dict[str, ConversationSide]:
        if conversation_id not in self._conversations:
            await self.load([conversation_id])
        return dict(self._sides.get(conversation_id, {}))

    def put(self, conversation: Conversation, **changes: Any) -> Conversation:
        """Change a loaded conversation; written at the end of the batch."""
        updated = conversation.but(**changes)
        self._conversations[conversation.id] = updated
        self._dirty.setdefault(conversation.id, set()).update(changes)
        return updated

    def put_side(self, side: ConversationSide, **changes: Any) -> ConversationSide:
        updated = side.but(**changes)
        self._sides.setdefault(side.conversation_id, {})[side.side] = updated
        self._dirty_sides.add((side.conversation_id, side.side))
        return updated

    async def find_sent(self, ref: ClientRef) -> Sent | None:
        if ref not in self._sent:
            await self.prefetch_sent([ref])
        return self._sent[ref]

    async def find_sent_in(self, space: str, ref: ClientRef) -> Sent | None:
        """The idempotency check for a conversation the batch does not load from
        ``conversations`` (the ``direct`` space): the same unique keys, by statement."""
        earlier = self._sent.get(ref)  # stored by a unit of this batch
        if earlier is not None:
            return earlier
        conversation_id, sender_id, client_id = ref
        self.statements += 1
        if self.shares_messages:
            query = select(_m).where(
                _m.c.org_id == space,
                _m.c.conversation_id == conversation_id,
                _m.c.sender_id == sender_id,
                _m.c.client_id == client_id,
            )
            row = (await self.conn.execute(query)).first()
            return Sent(int(row.position), row_to_message(row)) if row else None
        query = select(_client_ids.c.position).where(
            _client_ids.c.conversation_id == conversation_id,
            _client_ids.c.sender_id == sender_id,
            _client_ids.c.client_id == client_id,
        )
        found = (await self.conn.execute(query)).first()
        return Sent(int(found.position), None) if found else None

    def add_message(self, message: StoredMessage) -> None:
        self._messages.append(message)
        ref = (message.conversation_id, message.sender_id, message.client_id)
        self._sent[ref] = Sent(message.position, message)
        self._sent_order.append(ref)

    def emit(self, *events: Any) -> None:
        self.events.extend(events)

    # ----- undo, flush ---------------------------------------------------------------

    def snapshot(self, ids: Sequence[str]) -> Snapshot:
        return Snapshot(
            conversations={i: self._conversations[i] for i in ids if i in self._conversations},
            sides={i: dict(self._sides.get(i, {})) for i in ids},
            dirty={i: set(self._dirty.get(i, ())) for i in ids},
            dirty_sides=set(self._dirty_sides),
            messages=len(self._messages),
            sent_keys=len(self._sent_order),
            events=len(self.events),
        )

    def restore(self, snap: Snapshot) -> None:
        for i, conversation in snap.conversations.items():
            self._conversations[i] = conversation
        for i, sides in snap.sides.items():
            self._sides[i] = sides
        for i, dirty in snap.dirty.items():
            if dirty:
                self._dirty[i] = dirty
            else:
                self._dirty.pop(i, None)
        self._dirty_sides = snap.dirty_sides
        del self._messages[snap.messages :]
        for ref in self._sent_order[snap.sent_keys :]:
            self._sent.pop(ref, None)
        del self._sent_order[snap.sent_keys :]
        del self.events[snap.events :]

    def forget(self) -> None:
        """Drop the cache (after SQL that may have changed any conversation)."""
        assert not self._dirty and not self._dirty_sides and not self._messages
        self._forgot = True
        self._conversations.clear()
        self._sides.clear()
        self._sent.clear()
        self._sent_order.clear()

    def _updates(self) -> list[_Update]:
        """The changed rows: one ``UPDATE`` per changed column set of the conversations,
        one for the sides (rows: values, then keys)."""
        by_columns: dict[tuple[str, ...], list[Conversation]] = {}
        for conversation_id, columns in self._dirty.items():
            record = self._conversations[conversation_id]
            assert record is not None
            by_columns.setdefault(tuple(sorted(columns)), []).append(record)
        updates: list[_Update] = [
            (_c, changed, ("id",), [[*(getattr(r, n) for n in changed), r.id] for r in records])
            for changed, records in by_columns.items()
        ]
        if self._dirty_sides:
            sides = [self._sides[c][side] for c, side in sorted(self._dirty_sides)]
            values = [
                [*(getattr(r, n) for n in _SIDE_FIELDS), r.conversation_id, r.side] for r in sides
            ]
            updates.append((_s, _SIDE_FIELDS, ("conversation_id", "side"), values))
        return updates

    async def flush(self) -> list[StoredMessage]:
        """Write what units changed; return the messages written (for the outbox copy)."""
        written = self._messages
        if self.pg is not None:
            await self._flush_postgresql(self.pg, written)
        else:
            assert self.sqlite is not None
            await self._flush_sqlite(self.sqlite, written)
        self._messages = []
        self._dirty = {}
        self._dirty_sides = set()
        return written

    async def _flush_postgresql(self, pg: asyncpg.Connection, written: list[StoredMessage]) -> None:
        """One statement for all of it (pg_bulk.BatchWrite)."""
        write = pg_bulk.BatchWrite()
        if written and self.shares_messages:
            write.insert_messages(written)
        elif written:
            write.insert_outbox(written)
        for table, columns, keys, values in self._updates():
            write.update(table.name, columns, keys, values)
        if write:
            await write.run(pg)
            self.raw_statements += 1
            self.statements += 1

    async def _flush_sqlite(self, sqlite: sqlite3.Connection, written: list[StoredMessage]) -> None:
        if written:
            if self.shares_messages:
                sqlite_bulk.insert_messages(sqlite, written)
                self.raw_statements += 1
            else:  # a separate message store: its outbox
                rows = [message_row(m) for m in written]
                for row in rows:
                    del row["bucket"]
                await self.conn.execute(_outbox.insert(), rows)
                await self.conn.execute(
                    _client_ids.insert(),
                    [
                        {
                            "conversation_id": m.conversation_id,
                            "sender_id": m.sender_id,
                            "client_id": m.client_id,
                            "position": m.position,
                            "created_at": m.created_at,
                        }
                        for m in written
                    ],
                )
                self.statements += 1
            self.statements += 1
        for table, columns, keys, values in self._updates():
            sqlite_bulk.update_rows(sqlite, table.name, columns, keys, values)
            self.raw_statements += 1
            self.statements += 1


async def forget_copied(
    conn: AsyncConnection, keys: Sequence[tuple[str, int]], pg: asyncpg.Connection | None = None
) -> None:
    """Delete outbox rows by primary key, one statement (an index search per row)."""
    if not keys:
        return
    if pg is not None:
        await pg_bulk.forget_copied(pg, keys)
        return
    by_conversation: dict[str, list[int]] = {}
    for conversation_id, position in keys:
        by_conversation.setdefault(conversation_id, []).append(position)
    await conn.execute(
        delete(_outbox).where(
            or_(
                *(
                    and_(_outbox.c.conversation_id == cid, _outbox.c.position.in_(positions))
                    for cid, positions in by_conversation.items()
                )
            )
        )
    )
