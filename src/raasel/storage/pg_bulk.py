"""The committer's hot statements on PostgreSQL straight through asyncpg (no SQLAlchemy).

Building, compiling and running a batch's few statements through SQLAlchemy Core (its
greenlet hops, cache keys, result processing) cost the PostgreSQL node about 1 ms of
CPU per batch (docs/benchmarks.md). These run on the committer's own asyncpg connection,
inside the transaction it began: prepared once per connection by asyncpg's statement
cache, rows bound in C, arrays through ``unnest`` so a batch's rows are one round trip.

Values go in and come out as SQLAlchemy stores and reads them on this connection: its
asyncpg dialect gives ``json`` columns a codec that decodes to Python values but encodes
text (SQLAlchemy does ``json.dumps`` itself), so JSON values are dumped here the same
way. Errors are raised as SQLAlchemy's (``IntegrityError`` and friends), one set
whichever path wrote.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import asyncpg
from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql

from raasel.storage import schema
from raasel.storage.driver_errors import as_sqlalchemy_errors
from raasel.storage.message_store import StoredMessage, bucket_of
from raasel.storage.records import Conversation, ConversationSide


def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


_CONVERSATION_FIELDS = tuple(f.name for f in fields(Conversation))
_SIDE_FIELDS = tuple(f.name for f in fields(ConversationSide))
_JSON = {t.name: _json_columns(t) for t in (schema.conversations, schema.conversation_sides)}


def _array_types(table: Table) -> dict[str, str]:
    """Each column's PostgreSQL type without its length: ``varchar(24)[]`` would cut a
    longer value silently where the column itself refuses it."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return {c.name: c.type.compile(dialect=dialect).split("(")[0] for c in table.columns}


_ARRAY_TYPES = {
    t.name: _array_types(t)
    for t in (
        schema.conversations,
        schema.conversation_sides,
        schema.messages,
        schema.message_outbox,
        schema.message_client_ids,
    )
}
_MESSAGE_FIELD_NAMES = tuple(f.name for f in fields(StoredMessage))  # _message_columns
_MESSAGE_FIELDS = ", ".join(_MESSAGE_FIELD_NAMES)

_LOAD_CONVERSATIONS = (
    f"SELECT {', '.join(_CONVERSATION_FIELDS)} FROM conversations"  # noqa: S608 - schema names
    " WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE OF conversations"
)
# After the lock (a statement of its own: one that waited for a row lock reads the other
# tables as they were before it waited): the conversations' sides and the earlier messages
# of the batch's client ids, each an array of rows, in one round trip. Under a busy event
# loop each await of the committer waits for the loop's turn (docs/benchmarks.md).
_SIDES = (
    f"ARRAY(SELECT ROW({', '.join(_SIDE_FIELDS)}) FROM conversation_sides"  # noqa: S608
    " WHERE conversation_id = ANY($1::varchar[]))"
)
_SIDES_AND_SENT_MESSAGES = (  # USING merges the key columns: the row needs no prefix
    f"SELECT {_SIDES}, ARRAY(SELECT ROW({_MESSAGE_FIELDS})"  # noqa: S608 - constant
    " FROM messages JOIN unnest($2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])"
    " AS k(org_id, conversation_id, sender_id, client_id)"
    " USING (org_id, conversation_id, sender_id, client_id))"
)
_SIDES_AND_SENT_POSITIONS = (  # the outbox path: message_client_ids by primary key
    f"SELECT {_SIDES}, ARRAY(SELECT ROW(c.conversation_id, c.sender_id, c.client_id,"  # noqa: S608
    " c.position) FROM message_client_ids c JOIN unnest($2::varchar[], $3::varchar[],"
    " $4::varchar[]) AS k(conversation_id, sender_id, client_id)"
    " USING (conversation_id, sender_id, client_id))"
)
_CLIENT_ID_COLUMNS = ("conversation_id", "sender_id", "client_id", "position", "created_at")
_FORGET_COPIED = (
    "DELETE FROM message_outbox o USING unnest($1::varchar[], $2::bigint[])"
    " AS k(conversation_id, position)"
    " WHERE o.conversation_id = k.conversation_id AND o.position = k.position"
)


def _like_sqlalchemy(statement: str) -> contextlib.AbstractContextManager[None]:
    return as_sqlalchemy_errors(
        statement,
        integrity=asyncpg.IntegrityConstraintViolationError,
        database=asyncpg.PostgresError,
    )


async def load_conversations(
    connection: asyncpg.Connection, ids: Sequence[str]
) -> list[Conversation]:
    """The conversations, locked ``FOR UPDATE`` in id order (two nodes never deadlock)."""
    with _like_sqlalchemy(_LOAD_CONVERSATIONS):
        rows = await connection.fetch(_LOAD_CONVERSATIONS, list(ids))
    return [Conversation(*r) for r in rows]


def _columns(rows: Sequence[tuple[str, ...]], width: int) -> list[list[str]]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


async def sides_and_sent_messages(
    connection: asyncpg.Connection,
    ids: Sequence[str],
    keys: Sequence[tuple[str, str, str, str]],
) -> tuple[list[ConversationSide], list[StoredMessage]]:
    """The sides of conversations ``ids``, and the messages stored under the unique keys
    (org, conversation, sender, client id): one statement."""
    with _like_sqlalchemy(_SIDES_AND_SENT_MESSAGES):
        row = await connection.fetchrow(_SIDES_AND_SENT_MESSAGES, list(ids), *_columns(keys, 4))
    assert row is not None
    return [ConversationSide(*s) for s in row[0]], [StoredMessage(*m) for m in row[1]]


async def sides_and_sent_positions(
    connection: asyncpg.Connection,
    ids: Sequence[str],
    refs: Sequence[tuple[str, str, str]],
) -> tuple[list[ConversationSide], dict[tuple[str, str, str], int]]:
    """The sides of conversations ``ids``, and the positions ``message_client_ids`` holds
    for ``refs`` (the outbox path): one statement."""
    with _like_sqlalchemy(_SIDES_AND_SENT_POSITIONS):
        row = await connection.fetchrow(_SIDES_AND_SENT_POSITIONS, list(ids), *_columns(refs, 3))
    assert row is not None
    sides = [ConversationSide(*s) for s in row[0]]
    return sides, {(r[0], r[1], r[2]): int(r[3]) for r in row[1]}


def _message_columns(messages: Sequence[StoredMessage]) -> list[list[Any]]:
    """The messages' fields as columns, in ``_MESSAGE_FIELD_NAMES`` order."""
    return [[getattr(m, n) for m in messages] for n in _MESSAGE_FIELD_NAMES]


class BatchWrite:
    """A batch's writes as one statement: each part (the messages' insert, an update per
    changed column set) a data-modifying ``WITH`` of its own, rows bound as arrays. The
    parts touch disjoint rows (a conversation is in one column set), as PostgreSQL needs:
    the parts of one statement run on one snapshot and must not change a row twice."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._args: list[Any] = []

    def __bool__(self) -> bool:
        return bool(self._parts)

    def _arrays(self, table: str, names: Sequence[str], columns: Sequence[list[Any]]) -> str:
        """``unnest($n::type[], ...)`` over ``columns`` (typed as ``table``'s columns
        ``names``), numbered after the args so far."""
        start = len(self._args) + 1
        self._args.extend(columns)
        types = _ARRAY_TYPES[table]
        arrays = ", ".join(f"${start + i}::{types[n]}[]" for i, n in enumerate(names))
        return f"unnest({arrays})"

    def _insert(
        self, table: str, names: Sequence[str], columns: Sequence[list[Any]], tail: str = ""
    ) -> None:
        self._parts.append(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM"  # noqa: S608 - schema names
            f" {self._arrays(table, names, columns)}{tail}"
        )

    def insert_messages(self, messages: Sequence[StoredMessage]) -> None:
        """The messages; positions already stored are skipped (idempotent)."""
        self._insert(
            "messages",
            ("bucket", *_MESSAGE_FIELD_NAMES),
            [[bucket_of(m.position) for m in messages], *_message_columns(messages)],
            " ON CONFLICT (org_id, conversation_id, bucket, position) DO NOTHING",
        )

    def insert_outbox(self, messages: Sequence[StoredMessage]) -> None:
        """The messages into the outbox (a separate message store), and their client ids."""
        self._insert("message_outbox", _MESSAGE_FIELD_NAMES, _message_columns(messages))
        self._insert(
            "message_client_ids",
            _CLIENT_ID_COLUMNS,
            [[getattr(m, n) for m in messages] for n in _CLIENT_ID_COLUMNS],
        )

    def update(
        self,
        table: str,
        columns: Sequence[str],
        keys: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """``UPDATE table SET columns... WHERE keys...`` for each row (values, then keys).
        Table and column names come from the schema, never input."""
        names = [*columns, *keys]
        json_columns = _JSON[table]
        values: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
        for i, name in enumerate(names):
            if name in json_columns:
                values[i] = [json.dumps(v) if v is not None else None for v in values[i]]
        arrays = self._arrays(table, names, values)
        assignments = ", ".join(f"{n} = v.{n}" for n in columns)
        where = " AND ".join(f"t.{n} = v.{n}" for n in keys)
        self._parts.append(
            f"UPDATE {table} AS t SET {assignments} FROM {arrays}"  # noqa: S608 - schema names
            f" AS v({', '.join(names)}) WHERE {where}"
        )

    async def run(self, connection: asyncpg.Connection) -> None:
        if not self._parts:
            return
        if len(self._parts) == 1:
            statement = self._parts[0]
        else:
            ctes = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(self._parts))
            statement = f"WITH {ctes} SELECT 1"
        with _like_sqlalchemy(statement):
            await connection.execute(statement, *self._args)


async def forget_copied(connection: asyncpg.Connection, keys: Sequence[tuple[str, int]]) -> None:
    """Delete outbox rows by primary key, one statement."""
    with _like_sqlalchemy(_FORGET_COPIED):
        await connection.execute(_FORGET_COPIED, [k[0] for k in keys], [k[1] for k in keys])
