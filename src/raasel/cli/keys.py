"""Encryption keys: ``raasel rotate-encryption-key`` (docs/security.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from raasel.cli.base import app, example, with_services
from raasel.config import Settings


@app.command(
    "rotate-encryption-key",
    epilog=example(
        "raasel rotate-encryption-key",
        "RAASEL_NEW_ENCRYPTION_KEY=$(openssl rand -base64 32 | tr '+/' '-_') "
        "raasel rotate-encryption-key",
    ),
)
def rotate_encryption_key(
    new_key: Annotated[
        str | None,
        typer.Option(
            envvar="RAASEL_NEW_ENCRYPTION_KEY",
            help="With RAASEL_ENCRYPTION_KEY: the new key (32 bytes, base64); else generated",
        ),
    ] = None,
) -> None:
    """New data keys for every organization, every channel secret re-sealed with them, and
    the data keys wrapped by a new key-encryption key, in one transaction.

    With the key file (var/encryption.key) the new key replaces it (the old one is kept
    as encryption.key.previous until you delete it). With RAASEL_ENCRYPTION_KEY, give the
    new key and set it as RAASEL_ENCRYPTION_KEY on every node afterwards."""
    from raasel.actions.channel_keys import rotate_encryption_key as rotate
    from raasel.lib.secret_box import decode_key

    settings = Settings()
    if settings.encryption_key and not new_key:
        raise typer.BadParameter(
            "RAASEL_ENCRYPTION_KEY is set: give the new key (--new-key or "
            "RAASEL_NEW_ENCRYPTION_KEY), then set it on every node"
        )
    try:
        kek = decode_key(new_key) if new_key else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    result = with_services(lambda svc: rotate(settings, svc.db, kek))
    typer.echo(
        f"rotated: {result['organizations']} organizations, {result['channels']} channels; "
        f"key-encryption key {result['key_id']}"
    )
    if settings.encryption_key:
        typer.echo("now set RAASEL_ENCRYPTION_KEY to the new key on every node and restart them")
