"""Organizations, people and plans by hand: ``raasel create-org``, ``create-agent``,
``set-plan`` (the node operator's; organizations' admins use the API)."""

from __future__ import annotations

from typing import Annotated

import typer

from raasel.cli.base import STDIN_HELP, app, example, read_password, with_services
from raasel.domain import Role


@app.command(
    "create-org",
    epilog=example(
        'printf %s "$OWNER_PASSWORD" | raasel create-org globex "Globex Corp" \\',
        "    --owner-email hank@globex.example --owner-name Hank --password-stdin",
    ),
)
def create_org(
    slug: Annotated[str, typer.Argument(help="The organization's address: lowercase, digits, -")],
    name: Annotated[str, typer.Argument(help="Its display name")],
    owner_email: Annotated[str, typer.Option(help="The owner's account (created if new)")],
    owner_password: Annotated[
        str | None,
        typer.Option(
            envvar="RAASEL_OWNER_PASSWORD",
            help="The owner's password if the account is new (visible to `ps`: prefer the "
            "variable or --password-stdin). Asked for on a terminal if not given",
            show_default=False,
        ),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
    owner_name: Annotated[str, typer.Option()] = "Owner",
    attach_existing: Annotated[
        bool,
        typer.Option(
            "--attach-existing", help="Make an existing account with that email the owner"
        ),
    ] = False,
) -> None:
    """Create an organization and its owner (a new account, verified: you vouch for it)."""
    from raasel.actions.operator import create_org_cli

    password = read_password(
        owner_password, password_stdin, "--owner-password", "RAASEL_OWNER_PASSWORD"
    )
    org_id = with_services(
        lambda svc: create_org_cli(
            svc, slug, name, owner_email, password, owner_name, attach_existing=attach_existing
        )
    )
    typer.echo(f"organization {slug} created: {org_id}")


@app.command(
    "create-agent",
    epilog=example(
        'RAASEL_AGENT_PASSWORD="$(cat alice.pw)" raasel create-agent acme alice@acme.example \\',
        '    "Alice Smith" --role supervisor --capacity 8 --group billing --group sales',
    ),
)
def create_agent(
    org_slug: Annotated[str, typer.Argument(help="The organization's slug")],
    email: Annotated[str, typer.Argument(help="The agent's account (created if new)")],
    name: Annotated[str, typer.Argument(help="The agent's display name")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="RAASEL_AGENT_PASSWORD",
            help="The agent's password if the account is new (visible to `ps`: prefer the "
            "variable or --password-stdin). Asked for on a terminal if not given",
            show_default=False,
        ),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
    role: Annotated[Role, typer.Option()] = Role.AGENT,
    capacity: Annotated[int, typer.Option(min=1, max=100)] = 5,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Group slug; repeat for several (none: the default group)"),
    ] = None,
    attach_existing: Annotated[
        bool,
        typer.Option(
            "--attach-existing",
            help="Add the existing account with that email (people invited through the API "
            "accept by mail instead)",
        ),
    ] = False,
) -> None:
    """Add an agent (or supervisor, admin, owner) to an organization directly: a new
    account, verified (you vouch for the address), or with --attach-existing an existing
    one. Organizations' admins invite through the API instead."""
    from raasel.actions.operator import create_agent_cli

    secret = read_password(password, password_stdin, "--password", "RAASEL_AGENT_PASSWORD")
    user_id = with_services(
        lambda svc: create_agent_cli(
            svc,
            org_slug,
            email,
            name,
            secret,
            role,
            capacity,
            group or [],
            attach_existing=attach_existing,
        )
    )
    typer.echo(f"{role} {email} added to {org_slug}: {user_id}")


@app.command(
    "set-plan",
    epilog=example(
        "raasel set-plan promoted --org acme", "raasel set-plan plus --user a@b.example"
    ),
)
def set_plan(
    plan: Annotated[str, typer.Argument(help="free | promoted (organizations) | plus (people)")],
    org: Annotated[str | None, typer.Option(help="The organization's slug")] = None,
    user: Annotated[str | None, typer.Option(help="The individual's email")] = None,
) -> None:
    """Change a plan by hand (the node operator; payments normally do it via the webhook)."""
    from raasel.actions.billing import do_set_plan_cli

    if (org is None) == (user is None):
        raise typer.BadParameter("give exactly one of --org or --user")
    typer.echo(with_services(lambda svc: do_set_plan_cli(svc, org_slug=org, email=user, plan=plan)))
