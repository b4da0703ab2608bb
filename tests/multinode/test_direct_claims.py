"""One-time prekeys are handed out at most once, also under concurrent claims on two
nodes sharing one database (docs/e2e.md, "Key lifecycle")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from raasel_sdk.device import LocalDevice
from tests.multinode.conftest import Nodes, SpawnCluster
from tests.support.clients import Person, World
from tests.support.direct import DIRECT

pytestmark = pytest.mark.timeout(150)

POOL = 40
REQUESTERS = 10
CLAIMS_EACH = 5  # 50 claims for 40 keys: 40 distinct keys, then 10 bundles without one


@pytest.fixture
async def worlds(spawn_cluster: SpawnCluster) -> AsyncIterator[tuple[World, World]]:
    nodes: Nodes = spawn_cluster(2)
    pair = World(nodes.nodes[0]), World(nodes.nodes[1])
    yield pair
    for world in pair:
        await world.close()


async def test_fifty_concurrent_claims_on_two_nodes_never_share_a_key(
    worlds: tuple[World, World],
) -> None:
    one, two = worlds
    owner = await one.individual("Owner")
    device = LocalDevice.create(owner.user_id, 11, pre_keys=POOL)
    await owner.api.put(f"{DIRECT}/devices/11", device.registration(), expect=201)
    requesters: list[Person] = list(
        await asyncio.gather(
            *((one if i % 2 else two).individual(f"Requester {i}") for i in range(REQUESTERS))
        )
    )

    async def claim(person: Person) -> int | None:
        bundle = await person.api.post(f"{DIRECT}/users/{owner.user_id}/bundle", {})
        (only,) = bundle["devices"]
        key = only["one_time_prekey"]
        return int(key["key_id"]) if key else None

    results = await asyncio.gather(
        *(claim(person) for person in requesters for _ in range(CLAIMS_EACH))
    )
    handed = [r for r in results if r is not None]
    assert len(handed) == POOL
    assert len(set(handed)) == POOL, "a one-time prekey was handed out twice"
    assert results.count(None) == REQUESTERS * CLAIMS_EACH - POOL
    count = await owner.api.get(f"{DIRECT}/devices/11/one-time-prekeys/count")
    assert count == {"count": 0}
