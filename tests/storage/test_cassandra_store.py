"""What only the Cassandra store must prove: its schema, no nulls, round trips, healing.

The behaviour every back end shares is in test_message_store_contract.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from raasel.lib.ids import lowest_id_at_ms
from raasel.storage import cassandra_message_store, cassandra_schema
from raasel.storage.cassandra_message_store import CassandraMessageStore
from raasel.storage.cassandra_session import CassandraOptions, connect
from raasel.storage.message_store import bucket_of
from tests.storage.conftest import truncate_messages
from tests.storage.test_message_store_contract import CONV, ORG, START_MS, message


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


class RoundTrips:
    """Records every statement the store sends (the Cassandra analogue of a query count)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Any]] = []
        real = cassandra_message_store.execute

        def spy(session: Any, statement: Any, params: Any = None) -> Any:
            self.calls.append((getattr(statement, "query_string", str(statement)), params))
            return real(session, statement, params)

        monkeypatch.setattr(cassandra_message_store, "execute", spy)

    def reset(self) -> None:
        self.calls.clear()


async def test_migrations_create_the_partitioned_schema_once(
    cassandra: CassandraOptions, cql: Any
) -> None:
    cluster, session = cql
    again = await asyncio.to_thread(cassandra_schema.upgrade_session, cluster, session, cassandra)
    assert again == [], "a second migrate applies nothing"
    assert cassandra_schema.applied_versions(session, cassandra.keyspace) == {
        m.version for m in cassandra_schema.MIGRATIONS
    }
    cluster.refresh_schema_metadata()
    tables = cluster.metadata.keyspaces[cassandra.keyspace].tables
    messages = tables["messages"]
    assert [c.name for c in messages.partition_key] == ["org_id", "conversation_id", "bucket"]
    assert [c.name for c in messages.clustering_key] == ["id"]
    assert messages.clustering_key[0].is_reversed, "clustered by id descending"
    for name in ("messages", "message_client_ids"):
        keys = [c.name for c in tables[name].partition_key]
        assert keys[0] == "org_id" and len(keys) > 1, f"{name} must not be keyed by org alone"


async def test_writes_never_bind_a_null(
    store: CassandraMessageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = RoundTrips(monkeypatch)
    await store.append(message(lowest_id_at_ms(START_MS) + 1))
    writes = [params for query, params in trips.calls if query.startswith("INSERT")]
    assert len(writes) == 2
    assert all(None not in params for params in writes)
    [insert] = [q for q, _ in trips.calls if q.startswith("INSERT INTO") and ".messages" in q]
    assert "attachment_id" not in insert


async def test_append_and_retry_cost_fixed_round_trips(
    store: CassandraMessageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = RoundTrips(monkeypatch)
    base = lowest_id_at_ms(START_MS)
    await store.append(message(base, client="once"))
    assert len(trips.calls) == 3, "lookup, lookup row, message row"
    trips.reset()
    await store.append(message(base + 1, client="once"))
    assert len(trips.calls) == 2, "lookup, then the stored message"
    trips.reset()
    page = await store.read_bucket(
        ORG, CONV, bucket_of(base), after_id=None, before_id=None, limit=13, newest_first=True
    )
    assert len(page) == 1 and len(trips.calls) == 1


async def test_a_lookup_without_its_message_is_healed_under_the_same_id(
    store: CassandraMessageStore, cql: Any
) -> None:
    """The first attempt died between its two writes: the retry completes it, no double."""
    _, session = cql
    first_id = lowest_id_at_ms(START_MS) + 5
    session.execute(
        "INSERT INTO message_client_ids (org_id, conversation_id, sender_id, client_id,"
        " message_id) VALUES (%s, %s, %s, %s, %s)",
        (ORG, CONV, "3001", "crashed", first_id),
    )
    retry = message(first_id + 100, client="crashed")
    stored, created = await store.append(retry)
    assert not created and stored.id == first_id and stored.body == retry.body
    again, _ = await store.append(message(first_id + 200, client="crashed"))
    assert again == stored
    rows = await store.read_bucket(
        ORG, CONV, bucket_of(first_id), after_id=None, before_id=None, limit=10, newest_first=True
    )
    assert [m.id for m in rows] == [first_id]
