"""Running one Chromium scenario script (tests/web/*.mjs) against a demo node: the part
every single-scenario browser test shares. The script reads its settings from
``RAASEL_BROWSER`` (JSON), drives Debian's chromium through playwright-core, saves
screenshots in test-artifacts/web/ and prints a report ``{"ok", "checks"}`` last."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.server import ROOT, RunningServer

WEB_TESTS = ROOT / "tests" / "web"
CHROMIUM = os.environ.get("RAASEL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / os.environ.get("RAASEL_SCREENSHOTS_DIR", "test-artifacts/web")


def demo_node(folder: Path, **env: str) -> Iterator[RunningServer]:
    """A node seeded with the demo (and ``env`` on top), for a module-scoped fixture to
    yield."""
    node = RunningServer(folder, {"RAASEL_SEED_DEMO": "true", "RAASEL_SMTP_HOST": ""} | env)
    node.start(timeout=120)
    yield node
    node.stop()


def run_scenario(server: RunningServer, name: str, *, timeout: float, **settings: Any) -> list[str]:
    """Run tests/web/NAME.mjs against ``server``; return its checks, or fail with its
    output and the server's log."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the browser tests need Node.js"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `apt-get install chromium`"
    assert (ROOT / "web" / "dist" / "index.html").is_file(), "the web app is not built: `make web`"
    config = {
        "url": server.url,
        "artifacts": str(ARTIFACTS),
        "scenario": name,
        "chromium": CHROMIUM,
        **settings,
    }
    try:
        done = subprocess.run(
            [node, str(WEB_TESTS / f"{name}.mjs")],
            cwd=WEB_TESTS,
            env=os.environ | {"RAASEL_BROWSER": json.dumps(config)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the {name} scenario hung") from None
    assert done.returncode == 0, (
        f"{name} scenario failed (screenshots in {ARTIFACTS}):\n"
        f"{done.stderr}{done.stdout}\n--- server log ---\n{server.log_tail()}"
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n".join(report["checks"]))
    assert report["ok"] is True and report["checks"]
    checks: list[str] = report["checks"]
    return checks
