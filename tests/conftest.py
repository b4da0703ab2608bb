"""Shared fixtures: one real TLS node for the session, and a World per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.clients import World
from tests.support.server import RunningServer


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
