"""Forgot password: a single-use, expiring link by mail; a reset ends every session.

``POST /auth/password/forgot`` answers the same whether or not the address has an
account; it is limited per IP (visible) and per address (silently, so it cannot flood a
mailbox). ``POST /auth/password/reset`` sets the new password, revokes every refresh
family of the account (the REST layer then drops their sockets on every node), marks
the address verified (the link came to it) and logs in. docs/security.md, "Accounts".
"""

from __future__ import annotations

from typing import Any

from raasel.actions.auth import issue_session
from raasel.actions.context import Services
from raasel.actions.email_links import (
    RESET_PASSWORD,
    issue_email_token,
    read_email_token,
    spend,
)
from raasel.actions.limits import check_rate
from raasel.actions.mail import link, mail_committed, may_mail, queue_mail
from raasel.domain import UserKind
from raasel.errors import InvalidLink
from raasel.lib import passwords
from raasel.lib.clock import utcnow
from raasel.storage.metadata import email_tokens, people, sessions
from raasel.storage.transaction import Tx

REQUESTED = {"status": "reset_sent"}


async def do_request_password_reset(svc: Services, email: str, client_ip: str) -> dict[str, Any]:
    await check_rate(
        svc, "password_reset", f"ip:{client_ip}", what="password reset requests from your network"
    )
    if not await may_mail(svc, email):
        return REQUESTED
    ttl = svc.settings.password_reset_ttl_seconds

    async def work(conn: Tx) -> None:
        user = await people.get_user_by_email(conn, email)
        if user is None or user.kind != UserKind.PERSON:
            return
        now = utcnow()
        await email_tokens.spend_all(conn, email, RESET_PASSWORD, now)  # only the newest works
        token = await issue_email_token(
            conn, svc, RESET_PASSWORD, email, ttl_seconds=ttl, user_id=user.id
        )
        fields = {
            "name": user.display_name,
            "link": link(svc, "reset-password", token),
            "minutes": str(max(1, ttl // 60)),
        }
        await queue_mail(conn, svc, "reset_password", email, fields)

    await svc.db.write(work)
    mail_committed(svc)
    return REQUESTED


async def do_reset_password(
    svc: Services, token: str, password: str, client_ip: str
) -> tuple[dict[str, Any], list[str]]:
    """The new session, and the ids of the sessions the reset revoked."""
    await check_rate(svc, "login", f"ip:{client_ip}")
    record = await read_email_token(svc, token, RESET_PASSWORD)
    password_hash = await passwords.hash_password(password, kind="new")

    async def work(conn: Tx) -> tuple[dict[str, Any], list[str]]:
        await spend(conn, record)
        user = await people.get_user(conn, record.user_id) if record.user_id else None
        if user is None or user.email != record.email:
            raise InvalidLink("this link is invalid, used or expired")
        now = utcnow()
        await people.update_user(
            conn,
            user.id,
            {"password_hash": password_hash, "email_verified_at": user.email_verified_at or now},
        )
        revoked = await sessions.revoke_all_of_user(conn, user.id, now)
        await email_tokens.spend_all(conn, record.email, RESET_PASSWORD, now)
        fresh = await people.get_user(conn, user.id)
        assert fresh is not None
        return await issue_session(conn, svc, fresh, None), revoked

    return await svc.db.write(work)
