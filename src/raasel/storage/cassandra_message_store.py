"""The message store on Apache Cassandra or ScyllaDB (schema: ``cassandra_schema.py``).

Every read names one partition ``(org_id, conversation_id, bucket)`` and a range of
the clustering key ``id``, with a literal LIMIT: no driver paging, no scans, no
partition keyed by organization alone. Nothing null is written (a null cell is a
tombstone): a message without attachment simply has no ``attachment_id`` cell.

Idempotency without lightweight transactions (docs/decisions.md): the lookup row
``(org, conversation, sender, client id) -> message id`` is written before the
message row, and appends of one client id are serialized inside the process. A
retry finds the lookup and returns the stored message; if the first attempt died
between the two writes, the retry writes the message row under the looked-up id
(an upsert of the same primary key), so nothing is doubled. Two *nodes* racing
with the same client id inside one round trip can still both miss the lookup and
store two rows; see the decision note for why that is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cassandra.cluster import Cluster, Session
from cassandra.query import PreparedStatement

from raasel.storage.cassandra_session import CassandraOptions, connect, execute
from raasel.storage.message_store import MessageStore, StoredMessage, bucket_of

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_COLUMNS = (
    "org_id, conversation_id, id, sender_id, sender_side, client_id, kind, body,"
    " attachment_id, created_us"
)
_PARTITION = "org_id = ? AND conversation_id = ? AND bucket = ?"
_INSERT = (
    "INSERT INTO {ks}.messages (org_id, conversation_id, bucket, id, sender_id, sender_side,"
    " client_id, kind, body, created_us{more}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?{marks})"
)
_SELECT = f"SELECT {_COLUMNS} FROM {{ks}}.messages WHERE {_PARTITION}"  # noqa: S608 - constants


def _cql(template: str, keyspace: str, **parts: str) -> str:
    """Fill a statement template; the keyspace is an identifier checked by its options."""
    text = template.replace("{ks}", keyspace)
    for name, value in parts.items():
        text = text.replace("{" + name + "}", value)
    return text


def _limit_class(limit: int) -> int:
    """Page sizes are baked into prepared statements (1.2 cannot bind LIMIT): round up."""
    return max(8, 1 << (max(limit, 1) - 1).bit_length())


def _to_micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _row_to_message(row: Any) -> StoredMessage:
    return StoredMessage(
        org_id=row.org_id,
        conversation_id=row.conversation_id,
        id=int(row.id),
        sender_id=row.sender_id,
        sender_side=row.sender_side,
        client_id=row.client_id,
        kind=row.kind,
        body=row.body,
        attachment_id=row.attachment_id,
        created_at=_EPOCH + int(row.created_us) * _MICROSECOND,
    )


@dataclass
class _Connection:
    cluster: Cluster
    session: Session
    insert_message: PreparedStatement
    insert_message_with_attachment: PreparedStatement
    insert_lookup: PreparedStatement
    select_lookup: PreparedStatement
    select_message: PreparedStatement
    ranges: dict[tuple[bool, bool, bool, int], PreparedStatement]


class CassandraMessageStore(MessageStore):
    """Connects on first use (``build_services`` stays synchronous and offline)."""

    def __init__(self, options: CassandraOptions) -> None:
        self._options = options
        self._ks = options.keyspace
        self._conn: _Connection | None = None
        self._connecting = asyncio.Lock()
        self._appending: dict[tuple[str, str, str, str], tuple[asyncio.Lock, int]] = {}

    async def _connection(self) -> _Connection:
        if self._conn is None:
            async with self._connecting:
                if self._conn is None:
                    self._conn = await asyncio.to_thread(self._connect)
        return self._conn

    def _connect(self) -> _Connection:
        cluster, session = connect(self._options)
        ks = self._ks
        try:
            return _Connection(
                cluster=cluster,
                session=session,
                insert_message=session.prepare(_cql(_INSERT, ks, more="", marks="")),
                insert_message_with_attachment=session.prepare(
                    _cql(_INSERT, ks, more=", attachment_id", marks=", ?")
                ),
                insert_lookup=session.prepare(
                    _cql(
                        "INSERT INTO {ks}.message_client_ids"
                        " (org_id, conversation_id, sender_id, client_id, message_id)"
                        " VALUES (?, ?, ?, ?, ?)",
                        ks,
                    )
                ),
                select_lookup=session.prepare(
                    _cql(
                        "SELECT message_id FROM {ks}.message_client_ids WHERE org_id = ?"
                        " AND conversation_id = ? AND sender_id = ? AND client_id = ?",
                        ks,
                    )
                ),
                select_message=session.prepare(_cql(_SELECT + " AND id = ?", ks)),
                ranges={},
            )
        except BaseException:
            cluster.shutdown()
            raise

    async def _range_statement(
        self, conn: _Connection, newest_first: bool, lower: bool, upper: bool, limit: int
    ) -> PreparedStatement:
        key = (newest_first, lower, upper, limit)
        statement = conn.ranges.get(key)
        if statement is None:
            bounds = (" AND id > ?" if lower else "") + (" AND id < ?" if upper else "")
            order = "DESC" if newest_first else "ASC"
            cql = _cql(
                _SELECT + "{bounds} ORDER BY id {order} LIMIT {limit}",
                self._ks,
                bounds=bounds,
                order=order,
                limit=str(limit),
            )
            statement = conn.ranges[key] = await asyncio.to_thread(conn.session.prepare, cql)
        return statement

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, key: tuple[str, str, str, str]) -> AsyncIterator[None]:
        """Serialize appends of one client id in this process (retries race each other)."""
        lock, users = self._appending.get(key, (asyncio.Lock(), 0))
        self._appending[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._appending[key]
            if users == 1:
                del self._appending[key]
            else:
                self._appending[key] = (lock, users - 1)

    async def append(self, message: StoredMessage) -> tuple[StoredMessage, bool]:
        conn = await self._connection()
        key = (message.org_id, message.conversation_id, message.sender_id, message.client_id)
        async with self._one_at_a_time(key):
            rows = await execute(conn.session, conn.select_lookup, key)
            if rows:
                earlier_id = int(rows[0].message_id)
                earlier = await self._get(conn, message.org_id, message.conversation_id, earlier_id)
                if earlier is not None:
                    return earlier, False
                # The lookup outlived its message (the first attempt died between the two
                # writes, or is still writing on another node): same id, same primary key.
                healed = replace(message, id=earlier_id)
                await self._insert(conn, healed)
                return healed, False
            await execute(conn.session, conn.insert_lookup, (*key, message.id))
            await self._insert(conn, message)
            return message, True

    async def _insert(self, conn: _Connection, message: StoredMessage) -> None:
        values: tuple[Any, ...] = (
            message.org_id,
            message.conversation_id,
            bucket_of(message.id),
            message.id,
            message.sender_id,
            message.sender_side,
            message.client_id,
            message.kind,
            message.body,
            _to_micros(message.created_at),
        )
        if message.attachment_id is None:  # omit the column: never write a null
            await execute(conn.session, conn.insert_message, values)
        else:
            values += (message.attachment_id,)
            await execute(conn.session, conn.insert_message_with_attachment, values)

    async def _get(
        self, conn: _Connection, org_id: str, conversation_id: str, message_id: int
    ) -> StoredMessage | None:
        rows = await execute(
            conn.session,
            conn.select_message,
            (org_id, conversation_id, bucket_of(message_id), message_id),
        )
        return _row_to_message(rows[0]) if rows else None

    async def find_by_client_id(
        self, org_id: str, conversation_id: str, sender_id: str, client_id: str
    ) -> StoredMessage | None:
        conn = await self._connection()
        rows = await execute(
            conn.session, conn.select_lookup, (org_id, conversation_id, sender_id, client_id)
        )
        if not rows:
            return None
        return await self._get(conn, org_id, conversation_id, int(rows[0].message_id))

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
        if limit <= 0:
            return []
        conn = await self._connection()
        statement = await self._range_statement(
            conn, newest_first, after_id is not None, before_id is not None, _limit_class(limit)
        )
        params: list[Any] = [org_id, conversation_id, bucket]
        params += [bound for bound in (after_id, before_id) if bound is not None]
        rows = await execute(conn.session, statement, params)
        return [_row_to_message(row) for row in rows[:limit]]

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.to_thread(conn.cluster.shutdown)
