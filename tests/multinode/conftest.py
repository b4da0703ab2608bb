"""Clusters of real nodes on one shared database and a private redis-server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.databases import create_postgres_database, nodes_use_postgres, sqlite_url
from tests.support.redis_server import RedisServer
from tests.support.server import RunningServer


@dataclass
class Nodes:
    redis: RedisServer
    nodes: list[RunningServer] = field(default_factory=list)


SpawnCluster = Callable[..., Nodes]


@pytest.fixture
def spawn_cluster(tmp_path: Path) -> Iterator[SpawnCluster]:
    """``spawn_cluster(count=2, env={...})``: nodes sharing an SQLite file (or a PostgreSQL
    database with ``RAASEL_TEST_DATABASE=postgresql``) and one private Redis."""
    made: list[Nodes] = []

    def spawn(count: int = 2, env: dict[str, str] | None = None) -> Nodes:
        redis = RedisServer()
        redis.start()
        cluster = Nodes(redis)
        made.append(cluster)
        shared = tmp_path / f"shared{len(made)}"
        shared.mkdir()
        database = create_postgres_database() if nodes_use_postgres() else sqlite_url(shared)
        common = {
            "RAASEL_REDIS_URL": redis.url,
            "RAASEL_DATABASE_URL": database,
            "RAASEL_ATTACHMENTS_DIR": str(shared / "attachments"),
            "RAASEL_PRESENCE_TTL_SECONDS": "3",
        } | (env or {})
        for index in range(1, count + 1):
            node = RunningServer(shared / f"node{index}", common | {"RAASEL_NODE_ID": str(index)})
            cluster.nodes.append(node)
            node.start()  # the first migrates the shared database before the others start
        return cluster

    yield spawn
    for cluster in made:
        for node in cluster.nodes:
            node.stop()
        cluster.redis.kill()
