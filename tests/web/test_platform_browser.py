"""Platform support in a real browser: the admin's "Contact platform support" and the
operator console (/operator), on a node seeded with the demo. The scenario lives in
tests/web/platform.mjs; screenshots go to test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.platform import create_operator
from tests.support.server import RunningServer
from tests.web.scenario import demo_node, run_scenario

SCENARIO_TIMEOUT = 120.0
PASSWORD = "an-operator-password"


@pytest.fixture(scope="module")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from demo_node(tmp_path_factory.mktemp("platform"))


@pytest.mark.timeout(SCENARIO_TIMEOUT + 150)
def test_platform_support_in_the_browser(platform_server: RunningServer) -> None:
    email = "ops@platform.example"
    create_operator(platform_server, email, "Olga Ops", PASSWORD)
    run_scenario(
        platform_server,
        "platform",
        timeout=SCENARIO_TIMEOUT,
        operator={"email": email, "password": PASSWORD},
    )
