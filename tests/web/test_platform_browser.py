"""Platform support in a real browser: the admin's "Contact platform support" and the
operator console (/operator), on a node seeded with the demo. The scenario lives in
tests/web/platform.mjs; screenshots go to test-artifacts/web/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.platform import create_operator
from tests.support.server import ROOT, RunningServer

WEB_TESTS = ROOT / "tests" / "web"
CHROMIUM = os.environ.get("RAASEL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / os.environ.get("RAASEL_SCREENSHOTS_DIR", "test-artifacts/web")
SCENARIO_TIMEOUT = 120.0
PASSWORD = "an-operator-password"


@pytest.fixture(scope="module")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    node = RunningServer(
        tmp_path_factory.mktemp("platform"), {"RAASEL_SEED_DEMO": "true", "RAASEL_SMTP_HOST": ""}
    )
    node.start(timeout=120)
    yield node
    node.stop()


@pytest.mark.timeout(SCENARIO_TIMEOUT + 150)
def test_platform_support_in_the_browser(platform_server: RunningServer) -> None:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the browser tests need Node.js"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `apt-get install chromium`"
    assert (ROOT / "web" / "dist" / "index.html").is_file(), "the web app is not built: `make web`"
    email = "ops@platform.example"
    create_operator(platform_server, email, "Olga Ops", PASSWORD)
    config = {
        "url": platform_server.url,
        "artifacts": str(ARTIFACTS),
        "scenario": "platform",
        "chromium": CHROMIUM,
        "operator": {"email": email, "password": PASSWORD},
    }
    try:
        done = subprocess.run(
            [node, str(WEB_TESTS / "platform.mjs")],
            cwd=WEB_TESTS,
            env=os.environ | {"RAASEL_BROWSER": json.dumps(config)},
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the platform scenario hung") from None
    assert done.returncode == 0, (
        f"platform scenario failed (screenshots in {ARTIFACTS}):\n"
        f"{done.stderr}{done.stdout}\n--- server log ---\n{platform_server.log_tail()}"
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n".join(report["checks"]))
    assert report["ok"] is True and report["checks"]
