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

from raasel.storage import schema
from raasel.storage.driver_errors import as_sqlalchemy_errors
from raasel.storage.message_store import StoredMessage, bucket_of
from raasel.storage.records import Conversation, ConversationSide


def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


_CONVERSATION_FIELDS = tuple(f.name for f in fields(Conversation))
_SIDE_FIELDS = tuple(f.name for f in fields(ConversationSide))
_JSON = {t.name: _json_columns(t) for t in (schema.conversations, schema.conversation_sides)}
_MESSAGE_FIELDS = (
    "org_id, conversation_id, position, id, sender_id, sender_side, client_id, kind, body,"
    " attachment_id, created_at"
)

_LOAD_CONVERSATIONS = (
    f"SELECT {', '.join(_CONVERSATION_FIELDS)} FROM conversations"  # noqa: S608 - schema names
    " WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE OF conversations"
)
_LOAD_SIDES = (
    f"SELECT {', '.join(_SIDE_FIELDS)} FROM conversation_sides"  # noqa: S608 - schema names
    " WHERE conversation_id = ANY($1::varchar[])"
)
_FIND_BY_CLIENT_IDS = (  # USING merges the key columns: the select list needs no prefix
    f"SELECT {_MESSAGE_FIELDS}"  # noqa: S608 - constant
    " FROM messages JOIN unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[])"
    " AS k(org_id, conversation_id, sender_id, client_id)"
    " USING (org_id, conversation_id, sender_id, client_id)"
)
_FIND_CLIENT_ID_POSITIONS = (
    "SELECT c.conversation_id, c.sender_id, c.client_id, c.position FROM message_client_ids c"
    " JOIN unnest($1::varchar[], $2::varchar[], $3::varchar[])"
    " AS k(conversation_id, sender_id, client_id) USING (conversation_id, sender_id, client_id)"
)
_MESSAGE_COLUMNS = (
    "org_id, conversation_id, bucket, position, id, sender_id, sender_side, client_id, kind,"
    " body, attachment_id, created_at"
)
_MESSAGE_ARRAYS = (
    "$1::varchar[], $2::varchar[], $3::int[], $4::bigint[], $5::bigint[], $6::varchar[],"
    " $7::varchar[], $8::varchar[], $9::varchar[], $10::text[], $11::varchar[],"
    " $12::timestamptz[]"
)
_INSERT_MESSAGES = (
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) SELECT * FROM unnest({_MESSAGE_ARRAYS})"  # noqa: S608
    " ON CONFLICT (org_id, conversation_id, bucket, position) DO NOTHING"
)
# The outbox (a separate message store, e.g. Cassandra): the message's fields, no bucket.
_INSERT_OUTBOX = (
    f"INSERT INTO message_outbox ({_MESSAGE_FIELDS}) SELECT * FROM unnest("  # noqa: S608
    "$1::varchar[], $2::varchar[], $3::bigint[], $4::bigint[], $5::varchar[], $6::varchar[],"
    " $7::varchar[], $8::varchar[], $9::text[], $10::varchar[], $11::timestamptz[])"
)
_INSERT_CLIENT_IDS = (
    "INSERT INTO message_client_ids (conversation_id, sender_id, client_id, position,"
    " created_at) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[],"
    " $4::bigint[], $5::timestamptz[])"
)
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


async def load_sides(connection: asyncpg.Connection, ids: Sequence[str]) -> list[ConversationSide]:
    with _like_sqlalchemy(_LOAD_SIDES):
        rows = await connection.fetch(_LOAD_SIDES, list(ids))
    return [ConversationSide(*r) for r in rows]


async def find_by_client_ids(
    connection: asyncpg.Connection, keys: Sequence[tuple[str, str, str, str]]
) -> list[StoredMessage]:
    """Messages by their unique key (org, conversation, sender, client id), one statement."""
    columns = [list(c) for c in zip(*keys, strict=True)] if keys else [[], [], [], []]
    with _like_sqlalchemy(_FIND_BY_CLIENT_IDS):
        rows = await connection.fetch(_FIND_BY_CLIENT_IDS, *columns)
    return [StoredMessage(*r) for r in rows]


async def find_client_id_positions(
    connection: asyncpg.Connection, refs: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """``message_client_ids`` by primary key (the outbox path), one statement."""
    columns = [list(c) for c in zip(*refs, strict=True)] if refs else [[], [], []]
    with _like_sqlalchemy(_FIND_CLIENT_ID_POSITIONS):
        rows = await connection.fetch(_FIND_CLIENT_ID_POSITIONS, *columns)
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


def _message_columns(messages: Sequence[StoredMessage]) -> list[list[Any]]:
    return [
        [m.org_id for m in messages],
        [m.conversation_id for m in messages],
        [m.position for m in messages],
        [m.id for m in messages],
        [m.sender_id for m in messages],
        [m.sender_side for m in messages],
        [m.client_id for m in messages],
        [m.kind for m in messages],
        [m.body for m in messages],
        [m.attachment_id for m in messages],
        [m.created_at for m in messages],
    ]


async def insert_messages(
    connection: asyncpg.Connection, messages: Sequence[StoredMessage]
) -> None:
    """One multi-row insert; positions already stored are skipped (idempotent)."""
    columns = _message_columns(messages)
    columns.insert(2, [bucket_of(m.position) for m in messages])
    with _like_sqlalchemy(_INSERT_MESSAGES):
        await connection.execute(_INSERT_MESSAGES, *columns)


async def insert_outbox(connection: asyncpg.Connection, messages: Sequence[StoredMessage]) -> None:
    """The messages into the outbox, and their client ids (idempotency), two statements."""
    with _like_sqlalchemy(_INSERT_OUTBOX):
        await connection.execute(_INSERT_OUTBOX, *_message_columns(messages))
    with _like_sqlalchemy(_INSERT_CLIENT_IDS):
        await connection.execute(
            _INSERT_CLIENT_IDS,
            [m.conversation_id for m in messages],
            [m.sender_id for m in messages],
            [m.client_id for m in messages],
            [m.position for m in messages],
            [m.created_at for m in messages],
        )


async def forget_copied(connection: asyncpg.Connection, keys: Sequence[tuple[str, int]]) -> None:
    """Delete outbox rows by primary key, one statement."""
    with _like_sqlalchemy(_FORGET_COPIED):
        await connection.execute(_FORGET_COPIED, [k[0] for k in keys], [k[1] for k in keys])


async def update_rows(
    connection: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """``UPDATE table SET columns... WHERE keys...`` for each row (values, then keys), one
    pipelined ``executemany``. Table and column names come from the schema, never input."""
    assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns, 1))
    where = " AND ".join(f"{name} = ${n}" for n, name in enumerate(keys, len(columns) + 1))
    statement = f"UPDATE {table} SET {assignments} WHERE {where}"  # noqa: S608 - schema names
    json_columns = _JSON[table]
    encode = [name in json_columns for name in columns] + [False] * len(keys)
    values = [
        [json.dumps(v) if j and v is not None else v for v, j in zip(row, encode, strict=True)]
        for row in rows
    ]
    with _like_sqlalchemy(statement):
        await connection.executemany(statement, values)
