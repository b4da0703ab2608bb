"""The operator CLI against a fresh database: what a script can drive, and its help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raasel.cli import app
from tests.support.clients import World
from tests.support.databases import node_database_env, nodes_use_postgres
from tests.support.server import ROOT, RunningServer


def raasel(
    var_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``raasel ARGS`` as a script runs it: no terminal, ``stdin`` (or nothing) as input."""
    full_env = (
        os.environ
        | node_database_env(var_dir)
        | {"RAASEL_VAR_DIR": str(var_dir), "RAASEL_LOG_LEVEL": "warning"}
        | (env or {})
    )
    return subprocess.run(
        [sys.executable, "-m", "raasel.cli", *args],
        cwd=ROOT,
        env=full_env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.timeout(420)  # eight CLI processes on a loaded machine
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
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no organization nope"
    # An existing account joins another organization only when the operator says so.
    existing = ("create-agent", "globex", "alice@acme.example", "Alice", "--password", "x" * 12)
    refused = raasel(tmp_path, *existing)
    assert refused.returncode == 1 and "--attach-existing" in refused.stderr
    attached = raasel(tmp_path, *existing, "--attach-existing")
    assert attached.returncode == 0, attached.stderr


def command_names() -> list[str]:
    return [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]


@pytest.mark.parametrize("command", ["", *command_names()])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [*command.split(), "--help"], prog_name="raasel")
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    example = result.output.split("Example:", 1)[1]
    assert f"raasel {command}".strip() in example, example


def test_no_password_and_no_terminal_is_refused_at_once() -> None:
    """A script that forgot the password gets a clear refusal, not a prompt that hangs."""
    runner = CliRunner()
    agent = ["create-agent", "globex", "ivan@globex.example", "Ivan"]
    silent = runner.invoke(app, agent, input="")
    assert silent.exit_code == 2
    assert "--password-stdin" in silent.output and "RAASEL_AGENT_PASSWORD" in silent.output
    both = runner.invoke(app, [*agent, "--password", "x" * 12, "--password-stdin"], input="y")
    assert both.exit_code == 2 and "not both" in both.output
    empty = runner.invoke(
        app, ["create-org", "g", "G", "--owner-email", "a@b.example", "--password-stdin"], input=""
    )
    assert empty.exit_code == 2 and "no password" in empty.output


@pytest.mark.timeout(300)  # three CLI processes and a node on a loaded machine
async def test_passwords_from_stdin_and_the_environment_log_in(
    tmp_path: Path, spawn_server: Callable[..., RunningServer]
) -> None:
    assert raasel(tmp_path, "migrate").returncode == 0
    org = raasel(
        tmp_path,
        *("create-org", "globex", "Globex", "--owner-email", "hank@globex.example"),
        "--password-stdin",
        stdin="owner password from stdin\n",
    )
    assert org.returncode == 0, org.stderr
    agent = raasel(
        tmp_path,
        *("create-agent", "globex", "gina@globex.example", "Gina"),
        env={"RAASEL_AGENT_PASSWORD": "agent password from env"},
    )
    assert agent.returncode == 0, agent.stderr

    node = spawn_server(var_dir=tmp_path)
    world = World(node)
    try:
        for email, password in [
            ("hank@globex.example", "owner password from stdin"),
            ("gina@globex.example", "agent password from env"),
        ]:
            body = {"email": email, "password": password, "organization": "globex"}
            await world.anonymous.post("/api/v1/auth/login", body, expect=200)
        wrong = {"email": "hank@globex.example", "password": "owner password from stdin\n"}
        await world.anonymous.post(
            "/api/v1/auth/login", wrong | {"organization": "globex"}, expect=401
        )
        assert (
            await world.anonymous.http.post(
                "/api/v1/auth/login",
                json={
                    "email": "ivan@globex.example",
                    "password": "x" * 12,
                    "organization": "globex",
                },
            )
        ).status_code == 401, "the refused commands created nobody"
    finally:
        await world.close()


@pytest.mark.timeout(300)
def test_doctor_passes_a_fresh_node_and_names_what_is_wrong(tmp_path: Path) -> None:
    assert raasel(tmp_path, "migrate").returncode == 0
    server_database = nodes_use_postgres()
    if server_database:
        # A server database marks a deployment of several nodes: without one shared key
        # each node would sign with its own, and the doctor refuses that.
        unshared = raasel(tmp_path, "doctor", "--json")
        assert unshared.returncode == 1
        verdicts = {f["check"]: f["status"] for f in json.loads(unshared.stdout)}
        assert verdicts["secret key"] == "fail", unshared.stdout
    shared = {"RAASEL_SECRET_KEY": "k" * 64} if server_database else {}
    healthy = raasel(tmp_path, "doctor", env=shared)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = {line.split()[1]: line.split()[0] for line in healthy.stdout.splitlines()}
    assert lines["database"] == "OK" and lines["tls"] == "OK", healthy.stdout
    assert lines["secret"] == "OK", healthy.stdout

    broken = raasel(
        tmp_path,
        "doctor",
        "--json",
        env={
            "RAASEL_SECRET_KEY": "too-short",
            "RAASEL_REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
            "RAASEL_TLS_CERT_FILE": str(tmp_path / "missing.pem"),
        },
    )
    assert broken.returncode == 1
    found = {f["check"]: f for f in json.loads(broken.stdout)}
    assert {c for c, f in found.items() if f["status"] == "fail"} == {"tls", "secret key", "redis"}
    assert "RAASEL_TLS_KEY_FILE" in found["tls"]["detail"]
    assert "hunter2" not in broken.stdout
    assert found["database"]["status"] == "ok"


def test_serve_starts_without_library_debug_lines(
    tmp_path: Path, spawn_server: Callable[..., RunningServer]
) -> None:
    node = spawn_server({"RAASEL_LOG_LEVEL": "info"}, var_dir=tmp_path)
    log = node.log_tail()
    assert "setup plugin" not in log and "Running upgrade" not in log, log
    assert "Context impl" not in log, log
