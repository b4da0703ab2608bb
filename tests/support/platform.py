"""Platform operators for tests: made with the CLI, as the README says (docs/protocol.md,
"Platform support")."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.databases import node_database_env
from tests.support.server import ROOT, TEST_ENV, RunningServer


def create_operator(server: RunningServer, email: str, name: str, password: str) -> str:
    """``raasel create-operator`` as a script runs it, on ``server``'s database; its id."""
    env = (
        os.environ
        | TEST_ENV
        | node_database_env(server.var_dir)
        | server.env
        | {"RAASEL_VAR_DIR": str(server.var_dir), "RAASEL_LOG_LEVEL": "warning"}
    )
    args = ["create-operator", "--email", email, "--name", name, "--password-stdin"]
    done = subprocess.run(
        [sys.executable, "-m", "raasel.cli", *args],
        cwd=ROOT,
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"operator {email} created: "), done.stdout
    return done.stdout.strip().rsplit(" ", 1)[-1]
