"""The committer's bulk writes on SQLite straight through sqlite3 (no SQLAlchemy per row).

SQLAlchemy Core's ``executemany`` builds and converts every row's parameters in Python:
most of the cost of a batch's flush (docs/benchmarks.md, "Engine"). These statements run
on the writer's own sqlite3 connection, inside the transaction SQLAlchemy opened, with
values converted exactly as SQLAlchemy stores them (datetimes in its text format, JSON as
``json.dumps``, booleans as integers), so reads through SQLAlchemy see the same values.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from raasel.storage.driver_errors import as_sqlalchemy_errors
from raasel.storage.message_store import StoredMessage, bucket_of

_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format

_INSERT_MESSAGES = (
    "INSERT INTO messages (org_id, conversation_id, bucket, position, id, sender_id,"
    " sender_side, client_id, kind, body, attachment_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (org_id, conversation_id, bucket, position) DO NOTHING"
)


_CONVERT: dict[type, Any] = {
    datetime: lambda value: value.strftime(_DATETIME),
    bool: int,
    list: json.dumps,
    dict: json.dumps,
}


def to_sqlite(value: Any) -> Any:
    convert = _CONVERT.get(type(value))
    return value if convert is None else convert(value)


def _like_sqlalchemy(statement: str) -> contextlib.AbstractContextManager[None]:
    return as_sqlalchemy_errors(
        statement, integrity=sqlite3.IntegrityError, database=sqlite3.DatabaseError
    )


def insert_messages(connection: sqlite3.Connection, messages: Sequence[StoredMessage]) -> None:
    with _like_sqlalchemy(_INSERT_MESSAGES):
        _insert_messages(connection, messages)


def _insert_messages(connection: sqlite3.Connection, messages: Sequence[StoredMessage]) -> None:
    connection.executemany(
        _INSERT_MESSAGES,
        [
            (
                m.org_id,
                m.conversation_id,
                bucket_of(m.position),
                m.position,
                m.id,
                m.sender_id,
                m.sender_side,
                m.client_id,
                m.kind,
                m.body,
                m.attachment_id,
                m.created_at.strftime(_DATETIME),
            )
            for m in messages
        ],
    )


def update_rows(
    connection: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """``UPDATE table SET columns... WHERE keys...`` for each row (values, then keys).

    Table and column names come from the schema (never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    where = " AND ".join(f"{name} = ?" for name in keys)
    statement = f"UPDATE {table} SET {assignments} WHERE {where}"  # noqa: S608 - schema names
    with _like_sqlalchemy(statement):
        connection.executemany(statement, [[to_sqlite(v) for v in row] for row in rows])


def _from_sqlite_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def find_by_client_ids(
    connection: sqlite3.Connection, keys: Sequence[tuple[str, str, str, str]]
) -> list[StoredMessage]:
    """Messages by their unique key (org, conversation, sender, client id).

    One OR term per key: SQLite searches the unique index for each (a row-value ``IN``
    list would scan the table)."""
    found: list[StoredMessage] = []
    for start in range(0, len(keys), _TERMS):
        chunk = keys[start : start + _TERMS]
        where = " OR ".join(
            ["(org_id = ? AND conversation_id = ? AND sender_id = ? AND client_id = ?)"]
            * len(chunk)
        )
        rows = connection.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE {where}",  # noqa: S608 - constant
            [value for key in chunk for value in key],
        ).fetchall()
        found += [_message(row) for row in rows]
    return found


def find_client_id_positions(
    connection: sqlite3.Connection, refs: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """``message_client_ids`` by primary key (the outbox path), one OR term per key."""
    found: dict[tuple[str, str, str], int] = {}
    for start in range(0, len(refs), _TERMS):
        chunk = refs[start : start + _TERMS]
        where = " OR ".join(
            ["(conversation_id = ? AND sender_id = ? AND client_id = ?)"] * len(chunk)
        )
        sql = f"SELECT conversation_id, sender_id, client_id, position FROM message_client_ids WHERE {where}"  # noqa: S608, E501 - constant fragments
        rows = connection.execute(
            sql,
            [value for ref in chunk for value in ref],
        ).fetchall()
        found |= {(r[0], r[1], r[2]): int(r[3]) for r in rows}
    return found


_TERMS = 200  # keys per statement (SQLite's default limit is 32,766 parameters)
_MESSAGE_COLUMNS = (
    "org_id, conversation_id, position, id, sender_id, sender_side, client_id, kind, body,"
    " attachment_id, created_at"
)


def _message(row: Sequence[Any]) -> StoredMessage:
    return StoredMessage(
        org_id=row[0],
        conversation_id=row[1],
        position=int(row[2]),
        id=int(row[3]),
        sender_id=row[4],
        sender_side=row[5],
        client_id=row[6],
        kind=row[7],
        body=row[8],
        attachment_id=row[9],
        created_at=_from_sqlite_time(row[10]),
    )
