"""Organizations and their dispatch groups (SPEC 2.7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import audit
from raasel.actions.access import access_group, require_role
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.actions.offline import hours_view
from raasel.actions.views import group_view, org_view
from raasel.domain import Availability, Role, RoutingPolicy
from raasel.errors import Conflict, Forbidden, NotFound
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import organizations, people


async def create_org_with_owner(
    conn: AsyncConnection, owner_id: str, fields: dict[str, Any]
) -> str:
    """Insert an organization, its default group and its owner's membership."""
    if await organizations.get_org_by_slug(conn, fields["slug"]) is not None:
        raise Conflict("that slug is taken", code="slug_taken")
    org_id = new_str_id()
    now = utcnow()
    await organizations.insert_org(
        conn,
        {
            "id": org_id,
            "slug": fields["slug"],
            "name": fields["name"],
            "description": fields.get("description", ""),
            "category": fields.get("category", ""),
            "domains": fields.get("domains", []),
            "tags": fields.get("tags", []),
            "languages": fields.get("languages", []),
            "settings": fields.get("settings", {}),
            "logo_url": fields.get("logo_url"),
            "is_listed": fields.get("is_listed", True),
            "plan": "free",
            "created_at": now,
            "verified_domains": fields.get("verified_domains", []),
        },
    )
    general_id = new_str_id()
    await organizations.insert_group(
        conn,
        {
            "id": general_id,
            "org_id": org_id,
            "slug": "general",
            "name": "General",
            "description": "Everything no other team handles.",
            "policy": RoutingPolicy.ROUND_ROBIN,
            "business_hours": None,
            "is_default": True,
            "created_at": now,
        },
    )
    await people.insert_membership(
        conn,
        {
            "org_id": org_id,
            "user_id": owner_id,
            "role": Role.OWNER,
            "availability": Availability.OFFLINE,
            "capacity": 5,
            "is_active": True,
            "created_at": now,
        },
    )
    # The owner answers the default group until they choose otherwise: a new
    # organization's conversations reach someone (docs/protocol.md, "Routing").
    await people.set_member_groups(conn, org_id, owner_id, [general_id])
    await audit.record(conn, org_id, owner_id, "org.create", org_id, {"slug": fields["slug"]})
    return org_id


async def do_create_org(
    svc: Services, actor: Actor, fields: dict[str, Any], client_ip: str = "unknown"
) -> dict[str, Any]:
    """An individual with an account creates an organization and becomes its owner.

    Limited per account and per IP (``org_create_rate``), and unlisted until the owner's
    address is verified (accounts made before verification existed): the directory is
    not a place to plant look-alikes in bulk (docs/security.md).
    """
    if actor.is_visitor or actor.is_member:
        raise Forbidden("log in as an individual to create an organization")
    await check_rate(
        svc,
        "org_create",
        f"user:{actor.user_id}",
        f"ip:{client_ip}",
        what="new organizations; retry later",
    )

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        owner = await people.get_user(conn, actor.user_id)
        if owner is None or not owner.is_verified:
            fields["is_listed"] = False
        org_id = await create_org_with_owner(conn, actor.user_id, fields)
        org = await organizations.get_org(conn, org_id)
        assert org is not None
        return org_view(org, full=True)

    return await svc.db.write(work)


async def get_org(svc: Services, actor: Actor, org_id: str) -> dict[str, Any]:
    require_role(actor, org_id, Role.AGENT)
    async with svc.db.read(actor.scope) as conn:
        org = await organizations.get_org(conn, org_id)
    if org is None:
        raise NotFound("organization not found")
    return org_view(org, full=True)


async def do_update_org(
    svc: Services, actor: Actor, org_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    require_role(actor, org_id, Role.ADMIN)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        if changes.get("is_listed"):
            user = await people.get_user(conn, actor.user_id)
            if user is None or not user.is_verified:
                raise Forbidden(
                    "verify your email address (reset your password) to list the organization",
                    code="email_unverified",
                )
        if changes:
            await organizations.update_org(conn, org_id, changes)
            await audit.record(
                conn, org_id, actor.user_id, "org.update", org_id, _jsonable(changes)
            )
        org = await organizations.get_org(conn, org_id)
        assert org is not None
        return org_view(org, full=True)

    return await svc.db.write(work)


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in changes.items() if isinstance(v, str | int | bool | list | dict | None)
    }


async def list_groups(svc: Services, actor: Actor, org_id: str) -> list[dict[str, Any]]:
    """Each group with ``has_members`` (routing skips those without) and ``hours``:
    ``{is_open, opens_at, timezone}`` now (the console shows a closed team)."""
    require_role(actor, org_id, Role.AGENT)
    async with svc.db.read(actor.scope) as conn:
        org = await organizations.get_org(conn, org_id)
        staffing = await organizations.groups_with_staffing(conn, org_id)
    assert org is not None
    now = utcnow()
    by_id = sorted(staffing, key=lambda s: s.group.id)
    return [
        group_view(s.group) | {"has_members": s.has_members, "hours": hours_view(org, s.group, now)}
        for s in by_id
    ]


async def do_create_group(
    svc: Services, actor: Actor, org_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    require_role(actor, org_id, Role.ADMIN)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        existing = await organizations.list_groups(conn, [org_id])
        if any(g.slug == fields["slug"] for g in existing):
            raise Conflict("a group with this slug exists", code="slug_taken")
        group_id = new_str_id()
        await organizations.insert_group(
            conn,
            {
                "id": group_id,
                "org_id": org_id,
                "slug": fields["slug"],
                "name": fields["name"],
                "description": fields.get("description", ""),
                "policy": fields.get("policy", RoutingPolicy.ROUND_ROBIN),
                "business_hours": fields.get("business_hours"),
                "requeue_after_seconds": fields.get("requeue_after_seconds"),
                "examples": fields.get("examples") or [],
                "is_default": False,
                "created_at": utcnow(),
            },
        )
        await audit.record(
            conn, org_id, actor.user_id, "group.create", group_id, {"slug": fields["slug"]}
        )
        return group_view(await access_group(conn, org_id, group_id))

    return await svc.db.write(work)


async def do_update_group(
    svc: Services, actor: Actor, org_id: str, group_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    require_role(actor, org_id, Role.ADMIN)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        await access_group(conn, org_id, group_id)
        if changes:
            await organizations.update_group(conn, org_id, group_id, changes)
            await audit.record(
                conn, org_id, actor.user_id, "group.update", group_id, _jsonable(changes)
            )
        return group_view(await access_group(conn, org_id, group_id))

    return await svc.db.write(work)
