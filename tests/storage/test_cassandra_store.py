"""What only the Cassandra store must prove: its schema and migration, no nulls, no LWT,
one request per partition written, and a store that is down failing loudly.

The behaviour every back end shares is in test_message_store_contract.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cassandra.cluster import NoHostAvailable

from raasel.actions.health import check_ready
from raasel.app import build_services
from raasel.config import Settings
from raasel.storage import cassandra_message_store, cassandra_schema, cassandra_session
from raasel.storage.cassandra_message_store import (
    BATCH_BODY_BYTES,
    BATCH_ROWS,
    TABLE,
    CassandraMessageStore,
    partition_batches,
)
from raasel.storage.cassandra_session import CassandraOptions, connect
from raasel.storage.message_store import BUCKET_SIZE
from tests.storage.conftest import cassandra_settings, truncate_messages
from tests.storage.test_message_store_contract import CONV, ORG, message
from tests.support.cassandra import drop_keyspace


@pytest.fixture
async def store(cassandra: CassandraOptions) -> AsyncIterator[CassandraMessageStore]:
    await truncate_messages(cassandra)
    backend = CassandraMessageStore(cassandra)
    yield backend
    await backend.close()


@pytest.fixture
def cql(cassandra: CassandraOptions) -> Iterator[Any]:
    """A plain driver session on the test keyspace, for looking behind the store's back."""
    cluster, session = connect(cassandra)
    session.set_keyspace(cassandra.keyspace)
    yield cluster, session
    cluster.shutdown()


def closed_port() -> int:
    """A local port nothing listens on (a Cassandra that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def down_store(options: CassandraOptions) -> CassandraMessageStore:
    return CassandraMessageStore(replace(options, hosts=("127.0.0.1",), port=closed_port()))


class RoundTrips:
    """Records every statement the store sends (the Cassandra analogue of a query count)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Any]] = []
        real, real_all = cassandra_session.execute, cassandra_session.execute_all

        def spy(session: Any, statement: Any, params: Any = None) -> Any:
            self.record(statement, params)
            return real(session, statement, params)

        def spy_all(session: Any, requests: Any) -> Any:
            for statement, params in requests:
                self.record(statement, params)
            return real_all(session, requests)

        monkeypatch.setattr(cassandra_message_store, "execute", spy)
        monkeypatch.setattr(cassandra_message_store, "execute_all", spy_all)

    def record(self, statement: Any, params: Any) -> None:
        self.calls.append((getattr(statement, "query_string", str(statement)), params))

    def reset(self) -> None:
        self.calls.clear()


async def test_migrations_create_the_position_partitioned_schema_once(
    cassandra: CassandraOptions, cql: Any
) -> None:
    cluster, session = cql
    again = await asyncio.to_thread(cassandra_schema.upgrade_session, cluster, session, cassandra)
    assert again == [], "a second migrate applies nothing"
    assert cassandra_schema.applied_versions(session, cassandra.keyspace) == {1, 2}
    cluster.refresh_schema_metadata()
    tables = cluster.metadata.keyspaces[cassandra.keyspace].tables
    messages = tables[TABLE]
    assert [c.name for c in messages.partition_key] == ["org_id", "conversation_id", "bucket"]
    assert [c.name for c in messages.clustering_key] == ["position"]
    assert messages.clustering_key[0].is_reversed, "clustered by position descending"
    assert "id" in messages.columns and "client_id" in messages.columns
    assert "message_client_ids" not in tables, "the engine checks client ids, not the store"


async def test_a_version_1_keyspace_upgrades_in_place(
    cassandra: CassandraOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old week-bucketed table stays (unread, not migrated); the lookup goes."""
    old = replace(cassandra, keyspace=f"{cassandra.keyspace}_v1")
    monkeypatch.setattr(cassandra_schema, "MIGRATIONS", cassandra_schema.MIGRATIONS[:1])
    try:
        assert await asyncio.to_thread(cassandra_schema.upgrade, old) == [1]
        monkeypatch.undo()
        assert await asyncio.to_thread(cassandra_schema.upgrade, old) == [2]
        cluster, _ = connect(old)
        try:
            cluster.refresh_schema_metadata()
            tables = set(cluster.metadata.keyspaces[old.keyspace].tables)
        finally:
            cluster.shutdown()
        assert {TABLE, "messages", "schema_version"} <= tables
        assert "message_client_ids" not in tables
    finally:
        await asyncio.to_thread(drop_keyspace, old)


async def test_writes_never_bind_a_null_nor_use_lwt(
    store: CassandraMessageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = RoundTrips(monkeypatch)
    await store.write([message(1)])
    await store.write([message(2), message(3, attachment_id="9"), message(4)])
    writes = [(q, p) for q, p in trips.calls if "INSERT" in q]
    assert len(writes) == 2
    assert all(None not in params for _, params in writes)
    single = writes[0][0]
    assert "attachment_id" not in single
    assert single.count("INSERT") == 1
    batch = writes[1][0]
    assert batch.startswith("BEGIN UNLOGGED BATCH") and batch.count("INSERT") == 3
    assert batch.count("attachment_id") == 1
    assert not any(" IF " in q.upper() for q, _ in trips.calls), "no lightweight transactions"
    page = await store.read_bucket(ORG, CONV, 0, after=0, before=9, limit=9, newest_first=False)
    assert page == [message(1), message(2), message(3, attachment_id="9"), message(4)]


async def test_one_request_per_partition_and_per_read(
    store: CassandraMessageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = RoundTrips(monkeypatch)
    one_partition = [message(p) for p in range(1, 11)]
    await store.write(one_partition)
    assert len(trips.calls) == 1, "ten rows of one partition: one unlogged batch"
    trips.reset()
    across = [message(p, conv=f"c{i}") for i in range(5) for p in (1, 2)]
    across += [message(p) for p in (BUCKET_SIZE - 1, BUCKET_SIZE)]
    await store.write(across)
    assert len(trips.calls) == 5 + 2, "one request per (conversation, bucket)"
    trips.reset()
    await store.write([message(p) for p in range(100, 100 + 2 * BATCH_ROWS + 1)])
    assert len(trips.calls) == 3, "batches are capped at BATCH_ROWS rows"
    trips.reset()
    page = await store.read_bucket(ORG, CONV, 0, after=0, before=20, limit=13, newest_first=True)
    assert [m.position for m in page] == list(range(10, 0, -1))
    assert len(trips.calls) == 1
    trips.reset()
    newest = await store.history(ORG, CONV, before=11, limit=2, include_notes=True)
    assert [m.position for m in newest] == [10, 9]
    assert len(trips.calls) == 1, "the newest page is the head of one partition"
    trips.reset()
    await store.check()
    assert len(trips.calls) == 1


async def test_a_rewrite_upserts_the_same_row(store: CassandraMessageStore, cql: Any) -> None:
    _, session = cql
    original = message(7, attachment_id="5")
    for _ in range(3):
        await store.write([original])
    await store.write([message(6), original, message(8)])
    rows = session.execute(
        f"SELECT position, id, attachment_id FROM {TABLE}"
        " WHERE org_id = %s AND conversation_id = %s AND bucket = 0",
        (ORG, CONV),
    )
    assert [(r.position, r.id, r.attachment_id) for r in rows] == [
        (8, message(8).id, None),
        (7, original.id, "5"),
        (6, message(6).id, None),
    ]


def test_batches_never_span_partitions_and_stay_small() -> None:
    big = "x" * (BATCH_BODY_BYTES // 3 + 1)
    messages = [message(p) for p in range(1, 40)]
    messages += [replace(message(p), body=big) for p in range(50, 55)]
    messages += [message(p, conv="other") for p in (1, 2)]
    messages += [message(p) for p in (BUCKET_SIZE, BUCKET_SIZE + 1)]
    chunks = list(partition_batches(messages))
    for chunk in chunks:
        assert len({(m.conversation_id, m.bucket) for m in chunk}) == 1
        assert len(chunk) <= BATCH_ROWS
        assert len(chunk) == 1 or sum(len(m.body) for m in chunk) <= BATCH_BODY_BYTES
    assert sorted((m.conversation_id, m.position) for c in chunks for m in c) == sorted(
        (m.conversation_id, m.position) for m in messages
    )
    assert [len(c) for c in chunks] == [16, 16, 9, 2, 1, 2, 2]


async def test_a_store_that_is_down_fails_its_check_and_writes(
    cassandra: CassandraOptions,
) -> None:
    down = down_store(cassandra)
    try:
        with pytest.raises(NoHostAvailable):
            await down.check()
        with pytest.raises(NoHostAvailable):
            await down.write([message(1)])
    finally:
        await down.close()


async def test_readiness_reports_a_message_store_that_is_down(
    cassandra: CassandraOptions, tmp_path: Path
) -> None:
    """``/readyz`` answers 503 with ``messages`` when Cassandra does not answer."""
    for port, expected in ((cassandra.port, {}), (closed_port(), {"messages": "NoHostAvailable"})):
        settings = Settings(
            var_dir=tmp_path,
            **(cassandra_settings(cassandra) | {"cassandra_hosts": f"127.0.0.1:{port}"}),
        )
        svc = build_services(settings)
        try:
            assert await check_ready(svc) == expected
        finally:
            await svc.messages.close()
            await svc.db.close()


async def test_a_write_that_fails_in_part_raises_after_every_request_answered(
    store: CassandraMessageStore,
) -> None:
    """The outbox keeps the whole batch; what did reach the store is rewritten later."""
    unencodable = replace(message(2, conv="2002"), id=2**70)  # no bigint: refused
    with pytest.raises(TypeError, match='column "id"'):
        await store.write([message(1), unencodable, message(3, conv="2003")])
    for conv, position in ((CONV, 1), ("2003", 3)):
        page = await store.read_bucket(
            ORG, conv, 0, after=0, before=10, limit=10, newest_first=True
        )
        assert [m.position for m in page] == [position]
