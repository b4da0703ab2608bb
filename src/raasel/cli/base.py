"""The Typer app every ``raasel`` command registers on, and what the commands share:
help examples, passwords from a script, private files under ``var/``, quiet libraries,
and running one coroutine against the node's services."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from raasel.actions.context import Services
from raasel.config import Settings
from raasel.errors import RaaselError

T = TypeVar("T")

STDIN_HELP = "Read the password from the first line of standard input"


def example(*lines: str) -> str:
    """A help epilog; ``\b`` keeps click from rewrapping the lines."""
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


app = typer.Typer(
    help="Raasel: multi-tenant real-time support chat. `raasel COMMAND --help` for each.",
    epilog=example("raasel doctor && raasel serve"),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,  # a traceback must not print a password
)


def read_password(given: str | None, from_stdin: bool, option: str, envvar: str) -> str:
    """The password from the option/variable, standard input, or a prompt on a terminal."""
    if from_stdin:
        if given is not None:
            raise typer.BadParameter(f"give {option} (or {envvar}) or --password-stdin, not both")
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise typer.BadParameter("--password-stdin: standard input has no password")
        return line
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise typer.BadParameter(
            f"no password: pass --password-stdin, set {envvar}, or give {option}"
        )
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def private_files(settings: Settings) -> None:
    """Everything the node writes under ``var/`` (database, WAL, keys, attachments, mail)
    is its user's alone: files 0600 and folders 0700 from now on (umask), and what an
    older version left there is tightened (docs/security.md)."""
    os.umask(0o077)
    var = settings.var_dir
    if not var.is_dir():
        return
    var.chmod(0o700)
    for child in var.iterdir():
        if child.is_symlink():
            continue
        child.chmod(0o700 if child.is_dir() else 0o600)


def quiet_libraries(level: str) -> None:
    """Alembic's INFO lines (plugin set-up, each revision applied) only at debug level."""
    quiet = logging.DEBUG if level.lower() == "debug" else logging.WARNING
    logging.getLogger("alembic").setLevel(quiet)


def with_services(fn: Callable[[Services], Awaitable[T]]) -> T:
    from raasel.app import build_services

    settings = Settings()
    private_files(settings)

    async def run() -> T:
        svc = build_services(settings)
        try:
            return await fn(svc)
        finally:
            await svc.messages.close()
            await svc.ephemeral.close()
            if svc.channels is not None:
                await svc.channels.graph.close()
            await svc.db.close()

    try:
        return asyncio.run(run())
    except RaaselError as exc:  # a refusal (no such organization...): one line, exit 1
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
