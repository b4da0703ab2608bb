"""The web app in a real browser: Debian's chromium driven by playwright-core.

The scenarios live in tests/web/browser.mjs; each test runs one of them with node against
a node seeded with the demo (organization acme, its agents), serving the built web app
(web/dist, built by `make test`). Screenshots go to test-artifacts/web/ (and to
docs/screenshots/ with RAASEL_SCREENSHOTS_DIR=docs/screenshots, see `make screenshots`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.clients import Api, SocketClient, unique
from tests.support.server import ROOT, RunningServer

WEB_TESTS = ROOT / "tests" / "web"
CHROMIUM = os.environ.get("RAASEL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / os.environ.get("RAASEL_SCREENSHOTS_DIR", "test-artifacts/web")
# Each scenario gives up on its own well before this (10 s per step).
SCENARIO_TIMEOUT = 100.0
SCENARIOS = [
    "journey",
    "reconnect",
    "offline",
    "widget",
    "mobile",
    "inbox",
    "outreach",
    "channels",
    "anyone",
    "rooms",
    "guest",
    "standing",
]


def _preconditions() -> str:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the browser tests need Node.js"
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; "
        "`make test` and .ci/run do it)"
    )
    assert (WEB_TESTS / "node_modules" / "playwright-core").is_dir(), (
        "playwright-core is not installed: run `make web-test-deps`"
    )
    assert (ROOT / "web" / "dist" / "index.html").is_file(), (
        "the web app is not built: run `make web`"
    )
    return node


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # No SMTP server: mails go to var/outbox/, where the scenarios read their links. An
    # allow-list of other origins is set: the app's own origin must keep working (item 6
    # of issue 9: live updates used to die with it set).
    env = {
        "RAASEL_SEED_DEMO": "true",
        "RAASEL_SMTP_HOST": "",
        "RAASEL_CORS_ORIGINS": '["https://shop.example"]',
        # The channels scenario makes no Graph API call; were one made, it fails here
        # (a closed local port), never reaching the internet.
        "RAASEL_GRAPH_BASE_URL": "http://127.0.0.1:9/v21.0",
    }
    node = RunningServer(tmp_path_factory.mktemp("web"), env)
    node.start(timeout=120)  # seeding the demo directory takes a while on a busy machine
    # The directory's index is built on its first search (the embedding model loads then):
    # do it here, so no scenario's first search waits for it.
    httpx.get(
        f"{node.url}/api/v1/directory/orgs",
        params={"q": "acme"},
        verify=node.ssl_context(),
        timeout=120,
    )
    yield node
    node.stop()


@pytest.mark.timeout(SCENARIO_TIMEOUT + 20)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_browser_scenario(scenario: str, demo_server: RunningServer) -> None:
    node = _preconditions()
    config = {
        "url": demo_server.url,
        "artifacts": str(ARTIFACTS),
        "scenario": scenario,
        "chromium": CHROMIUM,
        "outbox": str(demo_server.var_dir / "outbox"),
    }
    env = os.environ | {"RAASEL_BROWSER": json.dumps(config)}
    try:
        done = subprocess.run(
            [node, str(WEB_TESTS / "browser.mjs")],
            cwd=WEB_TESTS,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"browser scenario {scenario} hung for {SCENARIO_TIMEOUT} s") from None
    assert done.returncode == 0, (
        f"browser scenario {scenario} failed (screenshots in {ARTIFACTS}):\n"
        f"{done.stderr}{done.stdout}\n--- server log ---\n{demo_server.log_tail()}"
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n".join(report["checks"]))  # shown with -s: the timings the scenario measured
    assert report["ok"] is True
    assert report["checks"], "the scenario checked nothing"


@pytest.mark.timeout(60)
async def test_the_demo_routes_anyone_to_an_online_agent_and_never_to_an_empty_group(
    demo_server: RunningServer,
) -> None:
    """Issue 12, item 2, over the API on the demo node the browser scenarios use."""
    anonymous = Api(demo_server)
    bob_session = await anonymous.post(
        "/api/v1/auth/login",
        {"email": "bob@acme.example", "password": "raasel-demo-1", "organization": "acme"},
    )
    owner_session = await anonymous.post(
        "/api/v1/auth/login",
        {"email": "owner@acme.example", "password": "raasel-demo-1", "organization": "acme"},
    )
    bob, owner = (
        Api(demo_server, bob_session["access_token"]),
        Api(demo_server, owner_session["access_token"]),
    )
    console = SocketClient(demo_server, bob_session["access_token"])
    visitor_api: Api | None = None
    try:
        await console.connect()
        assert (await console.emit("presence:set", {"availability": "online"}))["ok"]
        org_id = bob_session["org_id"]
        groups = await owner.get(f"/api/v1/orgs/{org_id}/groups")
        general = next(g for g in groups if g["is_default"])
        assert all(g["has_members"] for g in groups), "the demo staffs every group"
        empty = await owner.post(
            f"/api/v1/orgs/{org_id}/groups",
            {"slug": unique("empty"), "name": "Nobody here"},
            expect=201,
        )
        visitor = await anonymous.post("/api/v1/auth/visitor", {"organization": "acme"}, expect=201)
        visitor_api = Api(demo_server, visitor["access_token"])
        opened = await visitor_api.post(
            "/api/v1/conversations",
            {"org_id": org_id, "text": "hello?", "client_id": unique("anyone")},
            expect=201,
        )
        conversation = opened["conversation"]
        assert conversation["routing"]["group"] == {"id": general["id"], "name": general["name"]}
        assert conversation["status"] == "active"
        assert conversation["assignee"]["name"] == "Bob Agent"
        refused = await bob.post(
            f"/api/v1/conversations/{conversation['id']}/transfer",
            {"group_id": empty["id"]},
            expect=409,
        )
        assert refused["error"]["code"] == "group_has_no_members"
        # Chosen explicitly, an empty group still does not strand the visitor.
        chosen = await visitor_api.post(
            "/api/v1/conversations",
            {
                "org_id": org_id,
                "group_id": empty["id"],
                "text": "anyone?",
                "client_id": unique("chosen"),
            },
            expect=201,
        )
        assert chosen["conversation"]["group_id"] == general["id"]
        for cid in (conversation["id"], chosen["conversation"]["id"]):
            await bob.post(f"/api/v1/conversations/{cid}/resolve")
    finally:
        await console.close()
        for api in (anonymous, bob, owner, *([visitor_api] if visitor_api else [])):
            await api.close()
