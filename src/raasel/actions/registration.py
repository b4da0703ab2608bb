"""Signing up: an account exists only once its holder proved the address.

``POST /auth/register`` answers the same whatever the address (no enumeration oracle):
for a new address it mails a verification link and keeps the registration pending
(its password hash and name wait in the link's row); for an address that has an account
it mails the holder that someone tried. ``POST /auth/verify-email`` with the link's token
*and the password chosen* creates the account and logs in: a link clicked by someone
who did not sign up (an attacker registered their address) creates nothing.
``POST /auth/verify-email/resend`` mails the link again, the same answer for every
address: a pending sign-up gets a fresh link to the same registration, an account whose
address was never proved (made before verification existed) a link that proves it
with the account's password. docs/security.md, "Accounts".
"""

from __future__ import annotations

from typing import Any

from raasel.actions.auth import issue_session
from raasel.actions.context import Services
from raasel.actions.email_links import VERIFY_EMAIL, issue_email_token, read_email_token, spend
from raasel.actions.limits import check_rate
from raasel.actions.mail import link, mail_committed, may_mail, queue_mail
from raasel.actions.members import insert_person
from raasel.domain import UserKind
from raasel.errors import Conflict, Unauthenticated
from raasel.lib import passwords
from raasel.lib.clock import utcnow
from raasel.storage.metadata import email_tokens, people
from raasel.storage.records import EmailToken
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx

REGISTERED = {"status": "verification_sent"}


async def do_register_individual(
    svc: Services, email: str, password: str, display_name: str, client_ip: str
) -> dict[str, Any]:
    """Start a registration; the answer never tells whether the address has an account."""
    await check_rate(svc, "register", f"ip:{client_ip}", what="sign-ups from your network")
    # Hashed on both paths, so both take the same time.
    password_hash = await passwords.hash_password(password, kind="new")
    if not await may_mail(svc, email):
        return {**REGISTERED, "email": email}
    ttl = svc.settings.email_token_ttl_seconds

    async def work(conn: Tx) -> None:
        if await people.get_user_by_email(conn, email) is not None:
            await queue_mail(conn, svc, "account_exists", email, {})
            return
        token = await issue_email_token(
            conn,
            svc,
            VERIFY_EMAIL,
            email,
            ttl_seconds=ttl,
            payload={"password_hash": password_hash, "display_name": display_name},
        )
        fields = {
            "name": display_name,
            "link": link(svc, "verify-email", token),
            "hours": str(max(1, ttl // 3600)),
        }
        await queue_mail(conn, svc, "verify_email", email, fields)

    await svc.db.write(work)
    mail_committed(svc)
    return {**REGISTERED, "email": email}


async def do_resend_verification(svc: Services, email: str, client_ip: str) -> dict[str, Any]:
    """Mail the verification link again; the answer never tells whether there was one."""
    await check_rate(
        svc, "verification_resend", f"ip:{client_ip}", what="verification mails from your network"
    )
    if not await may_mail(svc, email):
        return {**REGISTERED, "email": email}
    ttl = svc.settings.email_token_ttl_seconds

    async def work(conn: Tx) -> None:
        user = await people.get_user_by_email(conn, email)
        if user is not None:
            if user.kind != UserKind.PERSON or user.is_verified:
                return  # nothing to prove: no mail
            token = await issue_email_token(
                conn, svc, VERIFY_EMAIL, email, ttl_seconds=ttl, user_id=user.id
            )
            template, name = "confirm_address", user.display_name
        else:
            pending = await email_tokens.newest_live(conn, email, VERIFY_EMAIL, utcnow())
            if pending is None or pending.user_id is not None:
                return  # no sign-up waits for this address
            token = await issue_email_token(
                conn, svc, VERIFY_EMAIL, email, ttl_seconds=ttl, payload=pending.payload
            )
            template, name = "verify_email", str(pending.payload.get("display_name", ""))
        fields = {
            "name": name,
            "link": link(svc, "verify-email", token),
            "hours": str(max(1, ttl // 3600)),
        }
        await queue_mail(conn, svc, template, email, fields)

    await svc.db.write(work)
    mail_committed(svc)
    return {**REGISTERED, "email": email}


async def do_verify_email(
    svc: Services, token: str, password: str, client_ip: str
) -> dict[str, Any]:
    """Create the account the link's registration described and log in (or, for a link
    to an existing account, prove its address)."""
    await check_rate(svc, "login", f"ip:{client_ip}")
    record = await read_email_token(svc, token, VERIFY_EMAIL)
    if record.user_id is not None:
        return await _confirm_address(svc, record, password)
    password_hash = record.payload.get("password_hash")
    display_name = record.payload.get("display_name")
    if not isinstance(password_hash, str) or not isinstance(display_name, str):
        raise Unauthenticated("wrong password", code="invalid_credentials")
    if not await passwords.verify_password(password_hash, password):
        raise Unauthenticated("wrong password for this sign-up", code="invalid_credentials")

    async def work(conn: Tx) -> dict[str, Any]:
        await spend(conn, record)
        if await people.get_user_by_email(conn, record.email) is not None:
            # Only the address's holder can get here (the link came to it).
            raise Conflict("this address already has an account: log in", code="email_taken")
        user_id = await insert_person(
            conn,
            email=record.email,
            password_hash=password_hash,
            display_name=display_name,
            is_verified=True,
        )
        await email_tokens.spend_all(conn, record.email, VERIFY_EMAIL, utcnow())
        user = await people.get_user(conn, user_id)
        assert user is not None
        return await issue_session(conn, svc, user, None)

    return await svc.db.write(work)


async def _confirm_address(svc: Services, record: EmailToken, password: str) -> dict[str, Any]:
    """An existing account proves its address: the link, and the account's password."""
    async with svc.db.read(CrossTenant("a mailed link, read before sign-in")) as conn:
        user = await people.get_user(conn, record.user_id) if record.user_id else None
    if user is None or user.email != record.email or user.password_hash is None:
        raise Unauthenticated("wrong password", code="invalid_credentials")
    if not await passwords.verify_password(user.password_hash, password):
        raise Unauthenticated("wrong password for this account", code="invalid_credentials")

    async def work(conn: Tx) -> dict[str, Any]:
        await spend(conn, record)
        now = utcnow()
        verified = {"email_verified_at": user.email_verified_at or now}
        await people.update_user(conn, user.id, verified)
        await email_tokens.spend_all(conn, record.email, VERIFY_EMAIL, now)
        fresh = await people.get_user(conn, user.id)
        assert fresh is not None
        return await issue_session(conn, svc, fresh, None)

    return await svc.db.write(work)
