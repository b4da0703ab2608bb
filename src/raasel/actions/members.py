"""Members of an organization: agents, supervisors, admins, owners.

People join an organization by accepting an invitation (actions/invitations.py); the
operator's CLI and the demo add them directly (``add_member``).
"""

from __future__ import annotations

from typing import Any

from raasel.actions import audit
from raasel.actions.access import require_role
from raasel.actions.context import Actor, Services
from raasel.actions.views import member_view
from raasel.domain import ROLE_RANK, Availability, Plan, Role, UserKind
from raasel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import organizations, people
from raasel.storage.transaction import Tx


async def insert_person(
    conn: Tx,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    is_verified: bool,
) -> str:
    """A person's account (free plan); returns its id. ``is_verified``: the address was
    proved (a mailed link) or vouched for by the operator (CLI, demo)."""
    user_id = new_str_id()
    now = utcnow()
    await people.insert_user(
        conn,
        {
            "id": user_id,
            "email": email,
            "password_hash": password_hash,
            "display_name": display_name,
            "kind": UserKind.PERSON,
            "plan": Plan.FREE,
            "created_at": now,
            "email_verified_at": now if is_verified else None,
        },
    )
    return user_id


def check_may_grant(actor: Actor, role: str) -> None:
    """Admins manage agents and supervisors; only owners make admins and owners."""
    if ROLE_RANK[Role(role)] >= ROLE_RANK[Role.ADMIN] and not actor.has_role(Role.OWNER):
        raise Forbidden("only an owner can grant or change the admin and owner roles")


async def check_groups(conn: Tx, org_id: str, group_ids: list[str]) -> None:
    known = {g.id for g in await organizations.list_groups(conn, [org_id])}
    if not set(group_ids) <= known:
        raise NotFound("group not found")


async def join_org(
    conn: Tx,
    org_id: str,
    user_id: str,
    *,
    role: str,
    capacity: int,
    group_ids: list[str],
) -> None:
    """Make ``user_id`` an active member (again, if it was deactivated) with this role."""
    current = await people.get_membership(conn, org_id, user_id)
    if current is None:
        await people.insert_membership(
            conn,
            {
                "org_id": org_id,
                "user_id": user_id,
                "role": role,
                "availability": Availability.OFFLINE,
                "capacity": capacity,
                "is_active": True,
                "created_at": utcnow(),
            },
        )
    else:
        await people.update_membership(
            conn, org_id, user_id, {"role": role, "capacity": capacity, "is_active": True}
        )
    await people.set_member_groups(conn, org_id, user_id, group_ids)


async def add_member(
    conn: Tx,
    org_id: str,
    *,
    email: str,
    display_name: str,
    password_hash: str | None,
    role: str,
    capacity: int,
    group_ids: list[str],
    attach_existing: bool = False,
) -> str:
    """The operator's direct path (CLI, demo; never the REST API): create the account,
    verified, and its membership. An existing account is added only when the operator
    says so (``attach_existing``); organizations invite (actions/invitations.py).

    ``password_hash`` comes from ``passwords.hash_password``, computed before the write.
    """
    user = await people.get_user_by_email(conn, email)
    if user is None:
        if password_hash is None:
            raise ValidationFailed("a password is needed for a new account")
        user_id = await insert_person(
            conn,
            email=email,
            password_hash=password_hash,
            display_name=display_name,
            is_verified=True,
        )
    else:
        if not attach_existing:
            raise Conflict(
                "an account with this email exists: add it explicitly (--attach-existing) "
                "or invite it",
                code="email_taken",
            )
        user_id = user.id
        if await people.get_membership(conn, org_id, user_id) is not None:
            raise Conflict("already a member", code="already_member")
    await check_groups(conn, org_id, group_ids)
    await join_org(conn, org_id, user_id, role=role, capacity=capacity, group_ids=group_ids)
    return user_id


async def member_view_of(conn: Tx, org_id: str, user_id: str) -> dict[str, Any]:
    membership = await people.get_membership(conn, org_id, user_id)
    user = await people.get_user(conn, user_id)
    if membership is None or user is None:
        raise NotFound("member not found")
    return member_view(membership, user, await people.group_ids_of_member(conn, org_id, user_id))


async def do_update_member(
    svc: Services, actor: Actor, org_id: str, user_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    require_role(actor, org_id, Role.ADMIN)

    async def work(conn: Tx) -> dict[str, Any]:
        current = await people.get_membership(conn, org_id, user_id)
        if current is None:
            raise NotFound("member not found")
        check_may_grant(actor, current.role)
        values = {k: v for k, v in changes.items() if k in {"role", "capacity", "is_active"}}
        if "role" in values:
            check_may_grant(actor, values["role"])
        if current.role == Role.OWNER and (
            values.get("role", Role.OWNER) != Role.OWNER or values.get("is_active") is False
        ):
            owners = [
                m
                for m in await people.list_memberships(conn, org_id)
                if m.role == Role.OWNER and m.is_active
            ]
            if len(owners) <= 1:
                raise Conflict("an organization keeps at least one owner", code="last_owner")
        if values:
            await people.update_membership(conn, org_id, user_id, values)
        if "group_ids" in changes:
            await check_groups(conn, org_id, changes["group_ids"])
            await people.set_member_groups(conn, org_id, user_id, changes["group_ids"])
        await audit.record(conn, org_id, actor.user_id, "member.update", user_id, dict(changes))
        return await member_view_of(conn, org_id, user_id)

    return await svc.db.write(work)


async def list_members(svc: Services, actor: Actor, org_id: str) -> list[dict[str, Any]]:
    require_role(actor, org_id, Role.AGENT)
    async with svc.db.read(actor.scope) as conn:
        memberships = await people.list_memberships(conn, org_id)
        users = await people.get_users(conn, [m.user_id for m in memberships])
        groups = await people.groups_by_member(conn, org_id)
    keys = {m.user_id: f"{org_id}:{m.user_id}" for m in memberships}
    connected = await svc.ephemeral.connected(list(keys.values()))
    views = []
    for membership in memberships:
        view = member_view(
            membership, users[membership.user_id], groups.get(membership.user_id, [])
        )
        view["is_connected"] = keys[membership.user_id] in connected
        views.append(view)
    return views
