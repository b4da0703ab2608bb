"""Organization <-> organization conversations in a real browser: Acme's console opens
one with Northwind Bank (a directory organization of the demo), Northwind's console
answers; both live. The scenario lives in tests/web/b2b.mjs; screenshots go to
test-artifacts/web/."""

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
SCENARIO_TIMEOUT = 150.0


@pytest.fixture(scope="module")
def b2b_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    node = RunningServer(
        tmp_path_factory.mktemp("b2b"), {"RAASEL_SEED_DEMO": "true", "RAASEL_SMTP_HOST": ""}
    )
    node.start(timeout=120)
    yield node
    node.stop()


@pytest.mark.timeout(SCENARIO_TIMEOUT + 150)
def test_b2b_in_both_consoles(b2b_server: RunningServer) -> None:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the browser tests need Node.js"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `apt-get install chromium`"
    assert (ROOT / "web" / "dist" / "index.html").is_file(), "the web app is not built: `make web`"
    config = {
        "url": b2b_server.url,
        "artifacts": str(ARTIFACTS),
        "scenario": "b2b",
        "chromium": CHROMIUM,
    }
    try:
        done = subprocess.run(
            [node, str(WEB_TESTS / "b2b.mjs")],
            cwd=WEB_TESTS,
            env=os.environ | {"RAASEL_BROWSER": json.dumps(config)},
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the b2b scenario hung") from None
    assert done.returncode == 0, (
        f"b2b scenario failed (screenshots in {ARTIFACTS}):\n"
        f"{done.stderr}{done.stdout}\n--- server log ---\n{b2b_server.log_tail()}"
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n".join(report["checks"]))
    assert report["ok"] is True and report["checks"]
