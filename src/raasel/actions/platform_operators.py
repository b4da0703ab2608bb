"""The node's operators: made with the CLI (``raasel create-operator``), signed in to
their own console (docs/protocol.md, "Platform support").

An operator is a person's account registered in ``platform_operators``; its session
carries ``OPERATOR_SESSION`` where a member's carries an organization, so it never acts
for any organization, and its reads are the narrow ``OperatorScope``.
"""

from __future__ import annotations

from typing import Any

from raasel.actions.auth import OPERATOR_SESSION, issue_session
from raasel.actions.context import Services
from raasel.actions.limits import check_login_backoff, check_rate, login_failed, login_succeeded
from raasel.actions.members import insert_person
from raasel.errors import Conflict, Unauthenticated
from raasel.lib import passwords
from raasel.lib.clock import utcnow
from raasel.storage.metadata import people, platform
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx


async def create_operator_cli(
    svc: Services,
    email: str,
    name: str,
    password: str,
    *,
    attach_existing: bool = False,
) -> str:
    """A new verified account (the CLI's runner vouches for it), or with
    ``attach_existing`` an existing one, becomes an operator; returns its id."""
    password_hash = await passwords.hash_password(password)
    address = email.strip().lower()

    async def work(conn: Tx) -> str:
        user = await people.get_user_by_email(conn, address)
        if user is not None and not attach_existing:
            raise Conflict(
                f"an account {address} exists: pass --attach-existing to make it an operator",
                code="email_taken",
            )
        user_id = (
            user.id
            if user is not None
            else await insert_person(
                conn,
                email=address,
                password_hash=password_hash,
                display_name=name,
                is_verified=True,
            )
        )
        if not await platform.insert_operator(conn, user_id, utcnow()):
            raise Conflict(f"{address} is an operator already", code="already_operator")
        return user_id

    return await svc.db.write(work)


async def do_operator_login(
    svc: Services, email: str, password: str, client_ip: str
) -> dict[str, Any]:
    """An operator's session; the same limits as every login, and one answer for a wrong
    password and for an account that is not an operator."""
    address = email.strip().lower()
    await check_rate(svc, "login", f"ip:{client_ip}", f"pair:{address}|{client_ip}")
    await check_login_backoff(svc, address, client_ip)
    async with svc.db.read(CrossTenant("sign-in: the account by address")) as conn:
        user = await people.get_user_by_email(conn, address)
        is_operator = await platform.is_operator(conn, user.id) if user else False
    is_valid = await passwords.verify_password(user.password_hash if user else None, password)
    if not is_valid or user is None or not is_operator:
        await login_failed(svc, address)
        raise Unauthenticated("wrong email or password", code="invalid_credentials")
    await login_succeeded(svc, address, client_ip)

    async def work(conn: Tx) -> dict[str, Any]:
        return await issue_session(conn, svc, user, OPERATOR_SESSION)

    return await svc.db.write(work)
