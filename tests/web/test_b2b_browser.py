"""Organization <-> organization conversations in a real browser: Acme's console opens
one with Northwind Bank (a directory organization of the demo), Northwind's console
answers; both live. The scenario lives in tests/web/b2b.mjs; screenshots go to
test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import RunningServer
from tests.web.scenario import demo_node, run_scenario

SCENARIO_TIMEOUT = 150.0


@pytest.fixture(scope="module")
def b2b_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from demo_node(tmp_path_factory.mktemp("b2b"))


@pytest.mark.timeout(SCENARIO_TIMEOUT + 150)
def test_b2b_in_both_consoles(b2b_server: RunningServer) -> None:
    run_scenario(b2b_server, "b2b", timeout=SCENARIO_TIMEOUT)
