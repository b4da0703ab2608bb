"""Shared fixtures: one real TLS node for the session, and a World per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from raasel.storage import cassandra_schema
from raasel.storage.cassandra_session import CassandraOptions, connect
from tests.support import databases
from tests.support.cassandra import CassandraUnavailable, cassandra_cluster
from tests.support.clients import World
from tests.support.server import RunningServer


def pytest_sessionstart(session: pytest.Session) -> None:
    if databases.postgres_unavailable() is None:
        databases.drop_stale()


def pytest_sessionfinish(session: pytest.Session) -> None:
    databases.drop_created()


def pytest_report_header() -> list[str]:
    nodes = "postgresql" if databases.nodes_use_postgres() else "sqlite"
    return [f"raasel test nodes: {nodes} (RAASEL_TEST_DATABASE)"]


@pytest.fixture(scope="session")
def cassandra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CassandraOptions]:
    """A migrated keyspace on a live Cassandra for the whole session (started on demand)."""
    try:
        with cassandra_cluster(tmp_path_factory.mktemp("cassandra")) as options:
            cluster, session = connect(options)
            try:
                cassandra_schema.upgrade_session(cluster, session, options)
            finally:
                cluster.shutdown()
            yield options
    except CassandraUnavailable as exc:
        databases.unavailable(f"Cassandra message store NOT TESTED: {exc}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    node = RunningServer(tmp_path_factory.mktemp("node"), {})
    node.start()
    yield node
    node.stop()


@pytest.fixture
def spawn_server(tmp_path: Path) -> Iterator[object]:
    """Start extra nodes with their own settings (rate limits, crash tests)."""
    started: list[RunningServer] = []

    def spawn(env: dict[str, str] | None = None, var_dir: Path | None = None) -> RunningServer:
        node = RunningServer(var_dir or tmp_path / f"node{len(started)}", env or {})
        node.start()
        started.append(node)
        return node

    yield spawn
    for node in started:
        node.stop()


@pytest.fixture
async def world(server: RunningServer) -> AsyncIterator[World]:
    w = World(server)
    yield w
    await w.close()
