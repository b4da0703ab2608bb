"""The removal window raced across two nodes (docs/decisions.md, "The removal window of
group conversations"): the removed member's socket is on node 2, the writer and the
removal on node 1; node 2 hears of the removal over Redis, possibly after messages
written after it. None of those may reach the removed member. The rounds are
tests/api/test_group_removal_window.py's; the barrier is published by node 1 after
every message of a round, so it reaches node 2 after them (one writer per node)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.test_group_removal_window import community_rounds, team_rounds
from tests.multinode.conftest import SpawnCluster
from tests.support.clients import World

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def pair(spawn_cluster: SpawnCluster) -> AsyncIterator[tuple[World, World]]:
    cluster = spawn_cluster(2)
    one, two = World(cluster.nodes[0]), World(cluster.nodes[1])
    yield one, two
    await one.close()
    await two.close()


async def test_no_team_room_message_after_a_removal_crosses_to_the_other_node(
    pair: tuple[World, World],
) -> None:
    await team_rounds(*pair)


async def test_no_community_message_after_a_removal_crosses_to_the_other_node(
    pair: tuple[World, World],
) -> None:
    await community_rounds(*pair)
