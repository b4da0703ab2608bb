"""The directory and the AI router in a real browser (issue 14, "In the app"), on a node
seeded with the demo. The scenario lives in tests/web/directory.mjs and runs three times:
as the demo's individual on the free plan, then (after a signed billing webhook made them
plus) on the plus plan, then as Acme's owner on the groups screen (example requests).
Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from raasel.actions.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.support.billing import WEBHOOK, sign, subscription_event
from tests.support.server import RunningServer
from tests.web.scenario import demo_node, run_scenario

SCENARIO_TIMEOUT = 150.0
CHECKOUT = "https://pay.example/checkout/raasel-plus"


@pytest.fixture(scope="module")
def directory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from demo_node(tmp_path_factory.mktemp("directory"), RAASEL_PLUS_CHECKOUT_URL=CHECKOUT)


def _make_plus(server: RunningServer, email: str) -> None:
    """The payment provider's webhook, signed with the node's secret, as it would send it."""
    with httpx.Client(base_url=server.url, verify=server.ssl_context(), timeout=60) as client:
        session = client.post(
            "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
        ).json()
        user_id = session["user"]["id"]
        payload = json.dumps(subscription_event("created", {"raasel_user_id": user_id})).encode()
        answer = client.post(
            WEBHOOK,
            content=payload,
            headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
        )
        assert answer.json()["outcome"] == "applied", answer.text
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        assert client.get("/api/v1/me/plan", headers=headers).json()["plan"] == "plus"


@pytest.mark.timeout(3 * SCENARIO_TIMEOUT + 150)
def test_the_directory_and_router_in_the_browser(directory_server: RunningServer) -> None:
    email = DEMO_ACCOUNTS["individual"]
    account = {"email": email, "password": DEMO_PASSWORD}
    free = run_scenario(
        directory_server,
        "directory",
        timeout=SCENARIO_TIMEOUT,
        phase="free",
        account=account,
        checkout=CHECKOUT,
    )
    assert any("upgrade" in c for c in free)
    _make_plus(directory_server, email)
    plus = run_scenario(
        directory_server, "directory", timeout=SCENARIO_TIMEOUT, phase="plus", account=account
    )
    assert any("recommended teams" in c for c in plus)
    owner = {"email": DEMO_ACCOUNTS["owner"], "password": DEMO_PASSWORD}
    admin = run_scenario(
        directory_server, "directory", timeout=SCENARIO_TIMEOUT, phase="admin", account=owner
    )
    assert any("example requests" in c for c in admin)
