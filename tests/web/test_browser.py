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

import pytest

from tests.support.server import ROOT, RunningServer

WEB_TESTS = ROOT / "tests" / "web"
CHROMIUM = os.environ.get("RAASEL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / os.environ.get("RAASEL_SCREENSHOTS_DIR", "test-artifacts/web")
# Each scenario gives up on its own well before this (10 s per step).
SCENARIO_TIMEOUT = 100.0
SCENARIOS = ["journey", "reconnect", "widget", "mobile"]


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
    node = RunningServer(tmp_path_factory.mktemp("web"), {"RAASEL_SEED_DEMO": "true"})
    node.start()
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
    assert report["ok"] is True
    assert report["checks"], "the scenario checked nothing"
