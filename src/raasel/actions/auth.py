"""Accounts and sessions: registration, login, rotating refresh tokens, visitors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.actions.members import insert_person
from raasel.actions.views import user_view
from raasel.domain import Plan, UserKind
from raasel.errors import Conflict, NotFound, Unauthenticated
from raasel.lib import passwords, tokens
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import organizations, people, sessions
from raasel.storage.records import User


async def _issue(
    conn: AsyncConnection,
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
    if org_id is not None:
        membership = await people.get_membership(conn, org_id, user.id)
        session["role"] = membership.role if membership else None
    return session


async def do_register_individual(
    svc: Services, email: str, password: str, display_name: str, client_ip: str
) -> dict[str, Any]:
    await check_rate(svc, "login", f"ip:{client_ip}")
    password_hash = await passwords.hash_password(password)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        if await people.get_user_by_email(conn, email) is not None:
            raise Conflict("an account with this email exists", code="email_taken")
        user_id = await insert_person(
            conn, email=email, password_hash=password_hash, display_name=display_name
        )
        user = await people.get_user(conn, user_id)
        assert user is not None
        return await _issue(conn, svc, user, None)

    return await svc.db.write(work)


async def do_login(
    svc: Services, email: str, password: str, org_slug: str | None, client_ip: str
) -> dict[str, Any]:
    """Log in as an individual or, with ``org_slug``, as a member of that organization."""
    await check_rate(svc, "login", f"ip:{client_ip}", f"email:{email}")
    async with svc.db.read() as conn:
        user = await people.get_user_by_email(conn, email)
        org = await organizations.get_org_by_slug(conn, org_slug) if org_slug else None
    is_valid = await passwords.verify_password(user.password_hash if user else None, password)
    if not is_valid or not user:
        raise Unauthenticated("wrong email or password", code="invalid_credentials")

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        org_id = None
        if org_slug is not None:
            membership = await people.get_membership(conn, org.id, user.id) if org else None
            if membership is None or not membership.is_active:
                raise Unauthenticated(
                    "not a member of that organization", code="invalid_credentials"
                )
            org_id = membership.org_id
        return await _issue(conn, svc, user, org_id)

    return await svc.db.write(work)


async def do_refresh_session(svc: Services, refresh_token: str) -> dict[str, Any]:
    """Rotate a refresh token. Presenting a used one revokes its whole family (theft)."""
    digest = tokens.digest(refresh_token)

    async def work(conn: AsyncConnection) -> dict[str, Any] | None:
        now = utcnow()
        token = await sessions.get_by_digest(conn, digest)
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        if not await sessions.mark_used(conn, token.id, now):
            await sessions.revoke_family(conn, token.family_id, now)
            return {"reused": True}
        user = await people.get_user(conn, token.user_id)
        if user is None:
            return None
        if token.org_id is not None:
            membership = await people.get_membership(conn, token.org_id, user.id)
            if membership is None or not membership.is_active:
                return None
        return await _issue(conn, svc, user, token.org_id, token.family_id)

    result = await svc.db.write(work)
    if result is None:
        raise Unauthenticated("refresh token is invalid or expired", code="invalid_token")
    if result.get("reused"):
        raise Unauthenticated(
            "refresh token was already used; session revoked", code="token_reused"
        )
    return result


async def do_logout(svc: Services, actor: Actor) -> None:
    async def work(conn: AsyncConnection) -> None:
        await sessions.revoke_family(conn, actor.session_id, utcnow())

    await svc.db.write(work)


async def do_start_visitor(
    svc: Services, org_slug: str, display_name: str, client_ip: str
) -> dict[str, Any]:
    """An anonymous widget visitor, scoped to one organization."""
    await check_rate(svc, "login", f"ip:{client_ip}")

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        org = await organizations.get_org_by_slug(conn, org_slug)
        if org is None:
            raise NotFound("no such organization")
        user_id = new_str_id()
        await people.insert_user(
            conn,
            {
                "id": user_id,
                "email": None,
                "password_hash": None,
                "display_name": display_name,
                "kind": UserKind.VISITOR,
                "visitor_org_id": org.id,
                "plan": Plan.FREE,
                "created_at": utcnow(),
            },
        )
        user = await people.get_user(conn, user_id)
        assert user is not None
        return await _issue(conn, svc, user, None)

    return await svc.db.write(work)


async def resolve_actor(svc: Services, access_token: str) -> Actor:
    """The caller behind an access token; refused if forged, expired or logged out."""
    try:
        claims = tokens.read_access_token(svc.settings.resolved_secret_key, access_token)
    except tokens.InvalidToken as exc:
        raise Unauthenticated("invalid or expired access token", code="invalid_token") from exc
    async with svc.db.read() as conn:
        user = await people.get_user(conn, claims.user_id)
        if user is None or not await sessions.is_family_live(conn, claims.session_id):
            raise Unauthenticated("session has ended", code="invalid_token")
        if claims.org_id is None:
            return Actor(
                user_id=user.id,
                kind=user.kind,
                display_name=user.display_name,
                session_id=claims.session_id,
                org_id=user.visitor_org_id,
                plan=user.plan,
            )
        membership = await people.get_membership(conn, claims.org_id, user.id)
        if membership is None or not membership.is_active:
            raise Unauthenticated("membership has ended", code="invalid_token")
        group_ids = await people.group_ids_of_member(conn, claims.org_id, user.id)
    return Actor(
        user_id=user.id,
        kind=user.kind,
        display_name=user.display_name,
        session_id=claims.session_id,
        org_id=claims.org_id,
        role=membership.role,
        group_ids=tuple(group_ids),
        plan=user.plan,
    )


async def describe_actor(svc: Services, actor: Actor) -> dict[str, Any]:
    """The caller's account, the organization and role it acts in, and its memberships."""
    async with svc.db.read() as conn:
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
