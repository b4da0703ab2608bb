"""The message store on Apache Cassandra or ScyllaDB (schema: ``cassandra_schema.py``).

Every read names one partition ``(org_id, conversation_id, bucket)`` and a range of
the clustering key ``position``, with a literal LIMIT: no driver paging, no scans, no
partition keyed by organization alone. Nothing null is written (a null cell is a
tombstone): a message without attachment simply has no ``attachment_id`` cell.

Writes are plain upserts keyed by position: the engine assigns positions and checks
client ids in the metadata database (docs/architecture.md, "Positions on Cassandra"),
so writing a message again (the outbox copied it twice after a crash) rewrites the
same cells with the same values. No lightweight transactions, no read before write.
A write of many messages costs one request per partition (an unlogged batch: one
mutation on one replica set), the partitions in flight concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cassandra.cluster import Cluster, Session
from cassandra.query import PreparedStatement

from raasel.storage.cassandra_session import CassandraOptions, connect, execute, execute_all
from raasel.storage.message_store import STORE_OWN_READ, MessageStore, StoredMessage
from raasel.storage.tenancy import ReadScope

TABLE = "messages_by_position"
#: Rows and body bytes per batch: far below Cassandra's batch size warning (5 KiB per
#: statement on average) and failure (50 KiB) thresholds for ordinary messages.
BATCH_ROWS = 16
BATCH_BODY_BYTES = 16 * 1024
#: Requests one ``write`` sends at once (a wave; the next wave after it has answered).
WRITES_IN_FLIGHT = 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_COLUMNS = (
    "org_id, conversation_id, position, id, sender_id, sender_side, client_id, kind, body,"
    " attachment_id, created_us"
)
_PARTITION = "org_id = ? AND conversation_id = ? AND bucket = ?"
_INSERT = (
    "INSERT INTO {ks}.{table} (org_id, conversation_id, bucket, position, id, sender_id,"
    " sender_side, client_id, kind, body, created_us{more})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{marks})"
)
_SELECT = f"SELECT {_COLUMNS} FROM {{ks}}.{{table}} WHERE {_PARTITION}"  # noqa: S608 - constants
_RANGE = _SELECT + " AND position > ? AND position < ? ORDER BY position {order} LIMIT {limit}"
#: ``check`` reads one partition that never holds a row: a real read at the configured
#: consistency, as cheap as a read gets.
_PROBE = ("readyz", "readyz", -1)


def _cql(template: str, keyspace: str, **parts: str) -> str:
    """Fill a statement template; the keyspace is an identifier checked by its options."""
    text = template.replace("{ks}", keyspace).replace("{table}", TABLE)
    for name, value in parts.items():
        text = text.replace("{" + name + "}", value)
    return text


def _insert(keyspace: str, *, with_attachment: bool) -> str:
    if with_attachment:
        return _cql(_INSERT, keyspace, more=", attachment_id", marks=", ?")
    return _cql(_INSERT, keyspace, more="", marks="")


def _limit_class(limit: int) -> int:
    """Page sizes are baked into prepared statements (1.2 cannot bind LIMIT): round up."""
    return max(8, 1 << (max(limit, 1) - 1).bit_length())


def _to_micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _values(message: StoredMessage) -> tuple[Any, ...]:
    """The bound values of one insert; ``attachment_id`` only when there is one."""
    values: tuple[Any, ...] = (
        message.org_id,
        message.conversation_id,
        message.bucket,
        message.position,
        message.id,
        message.sender_id,
        message.sender_side,
        message.client_id,
        message.kind,
        message.body,
        _to_micros(message.created_at),
    )
    if message.attachment_id is not None:
        values += (message.attachment_id,)
    return values


def _row_to_message(row: Any) -> StoredMessage:
    return StoredMessage(
        org_id=row.org_id,
        conversation_id=row.conversation_id,
        position=int(row.position),
        id=int(row.id),
        sender_id=row.sender_id,
        sender_side=row.sender_side,
        client_id=row.client_id,
        kind=row.kind,
        body=row.body,
        attachment_id=row.attachment_id,
        created_at=_EPOCH + int(row.created_us) * _MICROSECOND,
    )


def partition_batches(messages: Sequence[StoredMessage]) -> Iterator[list[StoredMessage]]:
    """The messages grouped by partition, in chunks of at most ``BATCH_ROWS`` rows and
    about ``BATCH_BODY_BYTES`` of bodies (a batch never spans two partitions)."""
    by_partition: dict[tuple[str, str, int], list[StoredMessage]] = {}
    for message in messages:
        key = (message.org_id, message.conversation_id, message.bucket)
        by_partition.setdefault(key, []).append(message)
    for group in by_partition.values():
        chunk: list[StoredMessage] = []
        size = 0
        for message in group:
            body = len(message.body.encode())
            if chunk and (len(chunk) == BATCH_ROWS or size + body > BATCH_BODY_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(message)
            size += body
        yield chunk


@dataclass
class _Connection:
    cluster: Cluster
    session: Session
    insert: PreparedStatement
    insert_with_attachment: PreparedStatement
    probe: PreparedStatement
    batches: dict[tuple[int, int], PreparedStatement]
    ranges: dict[tuple[bool, int], PreparedStatement]


class CassandraMessageStore(MessageStore):
    """Connects on first use (``build_services`` stays synchronous and offline)."""

    def __init__(self, options: CassandraOptions) -> None:
        self._options = options
        self._ks = options.keyspace
        self._conn: _Connection | None = None
        self._connecting = asyncio.Lock()

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
                insert=session.prepare(_insert(ks, with_attachment=False)),
                insert_with_attachment=session.prepare(_insert(ks, with_attachment=True)),
                probe=session.prepare(_cql(_SELECT + " LIMIT 1", ks)),
                batches={},
                ranges={},
            )
        except BaseException:
            cluster.shutdown()
            raise

    async def _prepared(
        self, conn: _Connection, cache: dict[Any, PreparedStatement], key: Any, cql: str
    ) -> PreparedStatement:
        statement = cache.get(key)
        if statement is None:  # two tasks may both prepare it: the same statement
            statement = cache[key] = await asyncio.to_thread(conn.session.prepare, cql)
        return statement

    # ----- writes ----------------------------------------------------------------------

    async def write(self, messages: Sequence[StoredMessage]) -> None:
        if not messages:
            return
        conn = await self._connection()
        requests = [await self._request(conn, c) for c in partition_batches(messages)]
        for start in range(0, len(requests), WRITES_IN_FLIGHT):  # waves of requests
            await execute_all(conn.session, requests[start : start + WRITES_IN_FLIGHT])

    async def _request(
        self, conn: _Connection, chunk: list[StoredMessage]
    ) -> tuple[PreparedStatement, tuple[Any, ...]]:
        """One request: a single insert, or an unlogged batch into one partition."""
        if len(chunk) == 1:
            [message] = chunk
            statement = (
                conn.insert if message.attachment_id is None else conn.insert_with_attachment
            )
            return statement, _values(message)
        # Rows without an attachment first: the batch's shape is then just two counts.
        chunk = sorted(chunk, key=lambda m: m.attachment_id is not None)
        plain = sum(m.attachment_id is None for m in chunk)
        inserts = [_insert(self._ks, with_attachment=i >= plain) for i in range(len(chunk))]
        cql = "BEGIN UNLOGGED BATCH " + "; ".join(inserts) + "; APPLY BATCH"
        statement = await self._prepared(conn, conn.batches, (plain, len(chunk) - plain), cql)
        return statement, tuple(value for message in chunk for value in _values(message))

    # ----- reads -----------------------------------------------------------------------

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
        if limit <= 0 or before - after <= 1:
            return []
        conn = await self._connection()
        size = _limit_class(limit)
        order = "DESC" if newest_first else "ASC"
        cql = _cql(_RANGE, self._ks, order=order, limit=str(size))
        statement = await self._prepared(conn, conn.ranges, (newest_first, size), cql)
        rows = await execute(
            conn.session, statement, (org_id, conversation_id, bucket, after, before)
        )
        return [_row_to_message(row) for row in rows[:limit]]

    async def check(self) -> None:
        conn = await self._connection()
        await execute(conn.session, conn.probe, _PROBE)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.to_thread(conn.cluster.shutdown)
