"""Links mailed to an address: email verification and password resets.

A link's token is ``id.signature`` (lib/signing.py): the row's id and an HMAC, with the
node's secret, over the purpose, the id and the row's random nonce. It works once
(``used_at``) and until ``expires_at``; forged, used and expired links answer alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from raasel.actions.context import Services
from raasel.errors import InvalidLink
from raasel.lib import signing
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import email_tokens
from raasel.storage.records import EmailToken
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose's name, not a secret


async def issue_email_token(
    conn: Tx,
    svc: Services,
    purpose: str,
    email: str,
    *,
    ttl_seconds: int,
    user_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Store a new link for ``email``; returns the token the mail carries."""
    token_id, nonce = new_str_id(), signing.new_nonce()
    now = utcnow()
    await email_tokens.insert_token(
        conn,
        {
            "id": token_id,
            "purpose": purpose,
            "email": email,
            "user_id": user_id,
            "nonce": nonce,
            "payload": payload or {},
            "expires_at": now + timedelta(seconds=ttl_seconds),
            "created_at": now,
        },
    )
    return signing.link_token(svc.settings.resolved_secret_key, purpose, token_id, nonce)


async def read_email_token(svc: Services, token: str, purpose: str) -> EmailToken:
    """The live link ``token`` names, or InvalidLink. Spend it (``use_token``) in the
    transaction that acts on it."""
    parts = signing.split_link_token(token)
    if parts is not None:
        token_id, signature = parts
        async with svc.db.read(CrossTenant("a mailed link, read before sign-in")) as conn:
            record = await email_tokens.get_token(conn, token_id, purpose)
        if (
            record is not None
            and signing.matches(
                svc.settings.resolved_secret_key, purpose, signature, record.id, record.nonce
            )
            and record.used_at is None
            and record.expires_at > utcnow()
        ):
            return record
    raise InvalidLink("this link is invalid, used or expired")


async def spend(conn: Tx, record: EmailToken) -> None:
    """Use the link now; InvalidLink if someone used it first (it works once)."""
    if not await email_tokens.use_token(conn, record.id, utcnow()):
        raise InvalidLink("this link is invalid, used or expired")
