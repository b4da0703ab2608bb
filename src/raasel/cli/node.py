"""Running a node: ``raasel migrate``, ``seed-demo``, ``serve`` and ``doctor``."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from raasel.cli.base import app, example, private_files, quiet_libraries, with_services
from raasel.config import Settings


@app.command(
    epilog=example("RAASEL_DATABASE_URL=postgresql+asyncpg://raasel@db/raasel raasel migrate")
)
def migrate() -> None:
    """Apply the migrations: Alembic on RAASEL_DATABASE_URL, CQL on the Cassandra keyspace."""
    from raasel.storage.migrate import upgrade_all

    settings = Settings()
    quiet_libraries(settings.log_level)
    private_files(settings)
    for store in upgrade_all(settings):
        typer.echo(f"{store} is up to date")


def print_demo() -> None:
    from raasel.actions.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    typer.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for role, email in DEMO_ACCOUNTS.items():
        org = "" if role == "individual" else "  (organization: acme)"
        typer.echo(f"  {role:<11} {email}{org}")


def migrate_in_child() -> None:
    """``raasel migrate`` in a child process before serving: Alembic, Mako and the
    migration scripts never load into the node, whose memory they would hold for its life
    (13 MB of RSS before the first connection; docs/benchmarks.md, "Idle memory").
    Its output is shown only if it fails."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "raasel.cli", "migrate"], stdout=subprocess.PIPE, check=False
    )
    if done.returncode:
        sys.stdout.buffer.write(done.stdout)
        raise typer.Exit(done.returncode)


@app.command("seed-demo", epilog=example("raasel migrate && raasel seed-demo"))
def seed_demo() -> None:
    """Create the demo organization Acme and its accounts if the database is empty."""
    from raasel.actions.demo import seed_demo as seed

    created = with_services(seed)
    typer.echo("demo data created" if created else "database already has data; nothing seeded")
    print_demo()


@app.command(
    epilog=example(
        "RAASEL_SEED_DEMO=false RAASEL_PUBLIC_HOST=chat.example.com raasel serve --no-migrate"
    ),
)
def serve(
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply the migrations first")
    ] = True,
) -> None:
    """Serve HTTPS + WSS (and the HTTP redirect), migrating and seeding the demo first."""
    from raasel.observability import configure_logging
    from raasel.server import run as run_server

    settings = Settings()
    configure_logging(settings.log_level)
    quiet_libraries(settings.log_level)
    private_files(settings)
    if migrate_first:
        migrate_in_child()
    if settings.seed_demo:
        from raasel.actions.demo import seed_demo as seed

        if with_services(seed):
            typer.echo("demo data created")
        print_demo()
    typer.echo(f"serving https://{settings.public_host}:{settings.https_port}/")
    run_server(settings)


@app.command(
    epilog=example(
        "RAASEL_REDIS_URL=redis://redis:6379/0 raasel doctor || echo 'not ready'",
        "raasel doctor --json | jq -r '.[] | select(.status != \"ok\") | .detail'",
    ),
)
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list of findings")] = False,
) -> None:
    """Check this node's configuration: TLS, secret key, database, Redis, Cassandra, SMTP.

    Exits 1 if a check fails (the node would not work), 0 otherwise; warnings name what a
    production deployment should change. Nothing is created or written.
    """
    from raasel.doctor import run_checks

    settings = Settings()
    findings = asyncio.run(run_checks(settings))
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        width = max(len(f.check) for f in findings)
        for f in findings:
            typer.echo(f"{f.status.upper():<5} {f.check:<{width}}  {f.detail}")
    if any(f.status == "fail" for f in findings):
        raise typer.Exit(1)
