"""Sessions: login, rotating refresh tokens, logout, widget visitors, who a token is.

Accounts are made elsewhere: registration with a mailed link (actions/registration.py),
accepting an invitation (actions/invitations.py), the operator's CLI.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from raasel.actions.context import Actor, Services
from raasel.actions.limits import (
    check_bucket,
    check_login_backoff,
    check_rate,
    login_failed,
    login_succeeded,
)
from raasel.actions.views import user_view
from raasel.domain import Plan, UserKind
from raasel.errors import NotFound, Unauthenticated
from raasel.lib import passwords, tokens
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.rules.prechat import Prechat, check_visitor
from raasel.storage.metadata import organizations, people, platform, sessions
from raasel.storage.records import User
from raasel.storage.tenancy import CrossTenant, TenantScope
from raasel.storage.transaction import Tx

# The ``org`` claim (and refresh token column) of a platform operator's session: no
# organization's id can be this (ids are 24-character random strings).
OPERATOR_SESSION = "platform"


async def issue_session(
    conn: Tx,
    svc: Services,
    user: User,
    org_id: str | None,
    family_id: str | None = None,
) -> dict[str, Any]:
    """A new access token and refresh token (in ``family_id``, or a new family)."""
    family_id = family_id or new_str_id()
    refresh = tokens.new_refresh_secret()
    now = utcnow()
    await sessions.insert_refresh_token(
        conn,
        {
            "id": new_str_id(),
            "family_id": family_id,
            "user_id": user.id,
            "org_id": org_id,
            "token_digest": tokens.digest(refresh),
            "expires_at": now + timedelta(seconds=svc.settings.refresh_token_ttl_seconds),
            "created_at": now,
        },
    )
    access = tokens.issue_access_token(
        svc.settings.resolved_secret_key,
        user.id,
        org_id,
        family_id,
        svc.settings.access_token_ttl_seconds,
    )
    session: dict[str, Any] = {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": svc.settings.access_token_ttl_seconds,
        "user": user_view(user),
        "org_id": org_id,
    }
    if org_id == OPERATOR_SESSION:
        session["role"] = "operator"
    elif org_id is not None:
        membership = await people.get_membership(conn, org_id, user.id)
        session["role"] = membership.role if membership else None
    return session


async def do_login(
    svc: Services, email: str, password: str, org_slug: str | None, client_ip: str
) -> dict[str, Any]:
    """Log in as an individual or, with ``org_slug``, as a member of that organization.

    Attempts are limited per IP and per (email, IP) pair; failures also count per email
    from every address together, at a slower pace (``login_email_rate``), and past that
    only the addresses the account logged in from before may try: guessing one
    account's password from many addresses stays slow, and a stranger cannot lock its
    holder out (docs/security.md).
    """
    await check_rate(svc, "login", f"ip:{client_ip}", f"pair:{email}|{client_ip}")
    await check_login_backoff(svc, email, client_ip)
    async with svc.db.read(CrossTenant("sign-in: the account by address")) as conn:
        user = await people.get_user_by_email(conn, email)
        org = await organizations.get_org_by_slug(conn, org_slug) if org_slug else None
    is_valid = await passwords.verify_password(user.password_hash if user else None, password)
    if not is_valid or not user:
        await login_failed(svc, email)
        raise Unauthenticated("wrong email or password", code="invalid_credentials")
    await login_succeeded(svc, email, client_ip)

    async def work(conn: Tx) -> dict[str, Any]:
        org_id = None
        if org_slug is not None:
            membership = await people.get_membership(conn, org.id, user.id) if org else None
            if membership is None or not membership.is_active:
                raise Unauthenticated(
                    "not a member of that organization", code="invalid_credentials"
                )
            org_id = membership.org_id
        return await issue_session(conn, svc, user, org_id)

    return await svc.db.write(work)


class SessionRevoked(Unauthenticated):
    """A used refresh token came back: its family (the session) is revoked. The caller
    ends the session's live sockets on every node (``session_id``)."""

    def __init__(self, session_id: str) -> None:
        super().__init__("refresh token was already used; session revoked", code="token_reused")
        self.session_id = session_id


async def do_refresh_session(svc: Services, refresh_token: str) -> dict[str, Any]:
    """Rotate a refresh token. Presenting a used one revokes its whole family (theft):
    raises ``SessionRevoked``."""
    digest = tokens.digest(refresh_token)

    async def work(conn: Tx) -> dict[str, Any] | None:
        now = utcnow()
        token = await sessions.get_by_digest(conn, digest)
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        if not await sessions.mark_used(conn, token.id, now):
            await sessions.revoke_family(conn, token.family_id, now)
            return {"reused": token.family_id}
        user = await people.get_user(conn, token.user_id)
        if user is None:
            return None
        if token.org_id == OPERATOR_SESSION:
            if not await platform.is_operator(conn, user.id):
                return None
        elif token.org_id is not None:
            membership = await people.get_membership(conn, token.org_id, user.id)
            if membership is None or not membership.is_active:
                return None
        return await issue_session(conn, svc, user, token.org_id, token.family_id)

    result = await svc.db.write(work)
    if result is None:
        raise Unauthenticated("refresh token is invalid or expired", code="invalid_token")
    if result.get("reused"):
        raise SessionRevoked(result["reused"])
    return result


async def do_logout(svc: Services, actor: Actor) -> None:
    async def work(conn: Tx) -> None:
        await sessions.revoke_family(conn, actor.session_id, utcnow())

    await svc.db.write(work)


async def do_start_visitor(
    svc: Services,
    org_slug: str,
    display_name: str | None,
    client_ip: str,
    *,
    email: str | None = None,
) -> dict[str, Any]:
    """An anonymous widget visitor, scoped to one organization. Limited per IP apart from
    logins, by a token bucket with a large burst: many people share an office's or a
    carrier's address (docs/security.md)."""
    await check_bucket(svc, "visitor", f"ip:{client_ip}", what="new chats from your network")

    async def work(conn: Tx) -> dict[str, Any]:
        org = await organizations.get_org_by_slug(conn, org_slug)
        if org is None:
            raise NotFound("no such organization")
        # The organization's pre-chat form (rules/prechat.py), checked on its row here.
        check_visitor(Prechat.of(org.settings), display_name, email)
        user_id = new_str_id()
        await people.insert_user(
            conn,
            {
                "id": user_id,
                "email": None,
                "contact_email": email.lower() if email else None,
                "password_hash": None,
                "display_name": display_name or "Visitor",
                "kind": UserKind.VISITOR,
                "visitor_org_id": org.id,
                "plan": Plan.FREE,
                "created_at": utcnow(),
                "email_verified_at": None,
            },
        )
        user = await people.get_user(conn, user_id)
        assert user is not None
        return await issue_session(conn, svc, user, None)

    return await svc.db.write(work)


async def resolve_actor(svc: Services, access_token: str) -> Actor:
    """The caller behind an access token; refused if forged, expired or logged out."""
    try:
        claims = tokens.read_access_token(svc.settings.resolved_secret_key, access_token)
    except tokens.InvalidToken as exc:
        raise Unauthenticated("invalid or expired access token", code="invalid_token") from exc
    actor = await _load_actor(svc, claims.user_id, claims.org_id, claims.session_id)
    return replace(actor, token_expires_at=claims.expires_at)


async def reload_actor(svc: Services, actor: Actor) -> Actor | None:
    """``actor`` as its session stands now: its role and groups re-read, or None if the
    session was revoked or the membership ended (a live socket's re-check)."""
    org_id = OPERATOR_SESSION if actor.is_operator else actor.org_id if actor.is_member else None
    try:
        fresh = await _load_actor(svc, actor.user_id, org_id, actor.session_id)
    except Unauthenticated:
        return None
    return replace(fresh, token_expires_at=actor.token_expires_at)


async def _load_actor(svc: Services, user_id: str, org_id: str | None, session_id: str) -> Actor:
    if org_id == OPERATOR_SESSION:
        return await _load_operator(svc, user_id, session_id)
    # Held to what the signed token claims: its user and, for a member, its organization.
    async with svc.db.read(TenantScope(org_id=org_id, user_id=user_id)) as conn:
        user = await people.get_user(conn, user_id)
        if user is None or not await sessions.is_family_live(conn, session_id):
            raise Unauthenticated("session has ended", code="invalid_token")
        if org_id is None:
            return Actor(
                user_id=user.id,
                kind=user.kind,
                display_name=user.display_name,
                session_id=session_id,
                org_id=user.visitor_org_id,
                plan=user.plan,
            )
        membership = await people.get_membership(conn, org_id, user.id)
        if membership is None or not membership.is_active:
            raise Unauthenticated("membership has ended", code="invalid_token")
        group_ids = await people.group_ids_of_member(conn, org_id, user.id)
    return Actor(
        user_id=user.id,
        kind=user.kind,
        display_name=user.display_name,
        session_id=session_id,
        org_id=org_id,
        role=membership.role,
        group_ids=tuple(group_ids),
        plan=user.plan,
    )


async def _load_operator(svc: Services, user_id: str, session_id: str) -> Actor:
    """An operator's session: refused once the account is no longer an operator."""
    # The account's own rows (its sessions); the operators' list is the node's.
    async with svc.db.read(TenantScope(user_id=user_id)) as conn:
        user = await people.get_user(conn, user_id)
        is_live = await sessions.is_family_live(conn, session_id) if user else False
        if user is None or not is_live or not await platform.is_operator(conn, user_id):
            raise Unauthenticated("session has ended", code="invalid_token")
    return Actor(
        user_id=user.id,
        kind=user.kind,
        display_name=user.display_name,
        session_id=session_id,
        is_operator=True,
    )


async def describe_actor(svc: Services, actor: Actor) -> dict[str, Any]:
    """The caller's account, the organization and role it acts in, and its memberships."""
    async with svc.db.read(actor.scope) as conn:
        user = await people.get_user(conn, actor.user_id)
        memberships = await people.memberships_of_user(conn, actor.user_id)
    if user is None:
        raise NotFound("account not found")
    return user_view(user) | {
        "org_id": actor.org_id,
        "role": actor.role,
        "group_ids": list(actor.group_ids),
        "memberships": [{"org_id": m.org_id, "role": m.role} for m in memberships if m.is_active],
    }
