"""The node's operators: ``raasel create-operator``.

An operator is the node's own staff: they answer organizations' platform-support
conversations and those a supervisor escalated, from the operator console (/operator).
"""

from __future__ import annotations

from typing import Annotated

import typer

from raasel.cli.base import STDIN_HELP, app, example, read_password, with_services


@app.command(
    "create-operator",
    epilog=example(
        'printf %s "$OPERATOR_PASSWORD" | raasel create-operator \\',
        '    --email ops@node.example --name "Olga Ops" --password-stdin',
    ),
)
def create_operator(
    email: Annotated[str, typer.Option(help="The operator's account (created if new)")],
    name: Annotated[str, typer.Option(help="The operator's display name")] = "Operator",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="RAASEL_OPERATOR_PASSWORD",
            help="The password if the account is new (visible to `ps`: prefer the variable "
            "or --password-stdin). Asked for on a terminal if not given",
            show_default=False,
        ),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
    attach_existing: Annotated[
        bool,
        typer.Option("--attach-existing", help="Make the existing account with that email one"),
    ] = False,
) -> None:
    """Create a platform operator: a new account, verified (you vouch for the address), or
    with --attach-existing an existing one. Operators sign in at /operator."""
    from raasel.actions.platform_operators import create_operator_cli

    secret = read_password(password, password_stdin, "--password", "RAASEL_OPERATOR_PASSWORD")
    if len(secret) < 8:
        raise typer.BadParameter("the password needs at least 8 characters")
    user_id = with_services(
        lambda svc: create_operator_cli(svc, email, name, secret, attach_existing=attach_existing)
    )
    typer.echo(f"operator {email.strip().lower()} created: {user_id}")
