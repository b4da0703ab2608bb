"""Community channels in a real browser: the console's Communities tab and the
individual's, on a node seeded with the demo. The scenario lives in
tests/web/community.mjs; screenshots go to test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import RunningServer
from tests.web.scenario import demo_node, run_scenario

SCENARIO_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def community_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from demo_node(tmp_path_factory.mktemp("community"))


@pytest.mark.timeout(SCENARIO_TIMEOUT + 150)
def test_community_in_the_browser(community_server: RunningServer) -> None:
    run_scenario(community_server, "community", timeout=SCENARIO_TIMEOUT)
