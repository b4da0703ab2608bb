"""The ephemeral-state contract (memory now; Redis joins with the scale-out issue)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from raasel.lib.rates import Rate
from raasel.storage.ephemeral import EphemeralState, MemoryEphemeralState


@pytest.fixture(params=["memory"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[EphemeralState]:
    backend = MemoryEphemeralState()
    yield backend
    await backend.close()


async def test_rate_limit_allows_then_refuses_per_key(state: EphemeralState) -> None:
    rate = Rate(3, 60)
    assert [await state.hit("k", rate) for _ in range(3)] == [0, 0, 0]
    assert await state.hit("k", rate) > 0
    assert await state.hit("other", rate) == 0


async def test_connections_are_counted_per_key(state: EphemeralState) -> None:
    assert await state.connection_opened("a") == 1
    assert await state.connection_opened("a") == 2
    assert await state.connected(["a", "b"]) == {"a"}
    assert await state.connection_closed("a") == 1
    assert await state.connection_closed("a") == 0
    assert await state.connected(["a"]) == set()


async def test_rotation_remembers_the_last_agent(state: EphemeralState) -> None:
    assert await state.rotation_get("g") is None
    await state.rotation_set("g", "42")
    assert await state.rotation_get("g") == "42"
