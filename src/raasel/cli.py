"""The operator's command line: ``raasel serve|migrate|seed-demo|create-org|create-agent``
and ``raasel set-plan``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from raasel.actions.context import Services
from raasel.config import Settings
from raasel.domain import Role

app = typer.Typer(help="Raasel: multi-tenant real-time support chat.", no_args_is_help=True)
T = TypeVar("T")


def _with_services(fn: Callable[[Services], Awaitable[T]]) -> T:
    from raasel.app import build_services

    async def run() -> T:
        svc = build_services(Settings())
        try:
            return await fn(svc)
        finally:
            await svc.messages.close()
            await svc.ephemeral.close()
            await svc.db.close()

    return asyncio.run(run())


@app.command()
def migrate() -> None:
    """Apply the migrations: Alembic on RAASEL_DATABASE_URL, CQL on the Cassandra keyspace."""
    from raasel.storage.migrate import upgrade_all

    for store in upgrade_all(Settings()):
        typer.echo(f"{store} is up to date")


def _print_demo() -> None:
    from raasel.actions.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    typer.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for role, email in DEMO_ACCOUNTS.items():
        org = "" if role == "individual" else "  (organization: acme)"
        typer.echo(f"  {role:<11} {email}{org}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo organization Acme and its accounts if the database is empty."""
    from raasel.actions.demo import seed_demo as seed

    created = _with_services(seed)
    typer.echo("demo data created" if created else "database already has data; nothing seeded")
    _print_demo()


@app.command("create-org")
def create_org(
    slug: str,
    name: str,
    owner_email: Annotated[str, typer.Option(help="The owner's account (created if new)")],
    owner_password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    owner_name: Annotated[str, typer.Option()] = "Owner",
) -> None:
    """Create an organization and its owner."""
    from raasel.actions.operator import create_org_cli

    org_id = _with_services(
        lambda svc: create_org_cli(svc, slug, name, owner_email, owner_password, owner_name)
    )
    typer.echo(f"organization {slug} created: {org_id}")


@app.command("create-agent")
def create_agent(
    org_slug: str,
    email: str,
    name: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[Role, typer.Option()] = Role.AGENT,
    capacity: Annotated[int, typer.Option(min=1, max=100)] = 5,
    group: Annotated[list[str] | None, typer.Option(help="Group slug; repeat for several")] = None,
) -> None:
    """Add an agent (or supervisor, admin, owner) to an organization."""
    from raasel.actions.operator import create_agent_cli

    user_id = _with_services(
        lambda svc: create_agent_cli(
            svc, org_slug, email, name, password, role, capacity, group or []
        )
    )
    typer.echo(f"{role} {email} added to {org_slug}: {user_id}")


@app.command("set-plan")
def set_plan(
    plan: Annotated[str, typer.Argument(help="free | promoted (organizations) | plus (people)")],
    org: Annotated[str | None, typer.Option(help="The organization's slug")] = None,
    user: Annotated[str | None, typer.Option(help="The individual's email")] = None,
) -> None:
    """Change a plan by hand (the node operator; payments normally do it via the webhook)."""
    from raasel.actions.billing import do_set_plan_cli

    if (org is None) == (user is None):
        raise typer.BadParameter("give exactly one of --org or --user")
    typer.echo(
        _with_services(lambda svc: do_set_plan_cli(svc, org_slug=org, email=user, plan=plan))
    )


@app.command()
def serve(
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Serve HTTPS + WSS (and the HTTP redirect), migrating and seeding the demo first."""
    from raasel.observability import configure_logging
    from raasel.server import run as run_server

    settings = Settings()
    configure_logging(settings.log_level)
    if migrate_first:
        from raasel.storage.migrate import upgrade_all

        upgrade_all(settings)
    if settings.seed_demo:
        from raasel.actions.demo import seed_demo as seed

        if _with_services(seed):
            typer.echo("demo data created")
        _print_demo()
    typer.echo(f"serving https://{settings.public_host}:{settings.https_port}/")
    run_server(settings)


if __name__ == "__main__":
    app()
