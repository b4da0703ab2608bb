"""The operator CLI against a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.databases import node_database_env
from tests.support.server import ROOT


def raasel(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = (
        os.environ
        | node_database_env(var_dir)
        | {"RAASEL_VAR_DIR": str(var_dir), "RAASEL_LOG_LEVEL": "warning"}
    )
    return subprocess.run(
        [sys.executable, "-m", "raasel.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_seed_create_org_and_agent(tmp_path: Path) -> None:
    assert raasel(tmp_path, "migrate").returncode == 0
    seeded = raasel(tmp_path, "seed-demo")
    assert seeded.returncode == 0 and "demo data created" in seeded.stdout
    assert "alice@acme.example" in seeded.stdout
    again = raasel(tmp_path, "seed-demo")
    assert "nothing seeded" in again.stdout
    org = raasel(
        tmp_path,
        "create-org",
        "globex",
        "Globex",
        "--owner-email",
        "hank@globex.example",
        "--owner-password",
        "a-long-password",
    )
    assert org.returncode == 0, org.stderr
    agent = raasel(
        tmp_path,
        "create-agent",
        "acme",
        "new@acme.example",
        "New Agent",
        "--password",
        "a-long-password",
        "--group",
        "billing",
    )
    assert agent.returncode == 0, agent.stderr
    missing = raasel(
        tmp_path, "create-agent", "nope", "x@y.example", "X", "--password", "a-long-password"
    )
    assert missing.returncode != 0 and "no organization nope" in (missing.stderr + missing.stdout)
