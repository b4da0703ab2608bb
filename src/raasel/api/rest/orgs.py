"""Organization administration: profile, groups, members, audit log (SPEC 2.7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from raasel.actions import audit, members, orgs, presence
from raasel.api.deps import ActorDep, BusDep, ServicesDep, SocketsDep
from raasel.api.schemas import (
    AvailabilityBody,
    GroupCreateBody,
    GroupUpdateBody,
    Id,
    MemberCreateBody,
    MemberUpdateBody,
    OrgCreateBody,
    OrgUpdateBody,
)

router = APIRouter(prefix="/api/v1", tags=["organizations"])


@router.post("/orgs", status_code=201)
async def create_org(body: OrgCreateBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Create an organization; the caller becomes its owner (log in again with its slug)."""
    fields = body.model_dump()
    fields["settings"] = {k: v for k, v in fields["settings"].items() if v is not None}
    return await orgs.do_create_org(svc, actor, fields)


@router.get("/orgs/{org_id}")
async def get_org(org_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await orgs.get_org(svc, actor, org_id)


@router.patch("/orgs/{org_id}")
async def update_org(
    org_id: Id, body: OrgUpdateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await orgs.do_update_org(svc, actor, org_id, body.changes())


@router.get("/orgs/{org_id}/groups")
async def list_groups(org_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    return await orgs.list_groups(svc, actor, org_id)


@router.post("/orgs/{org_id}/groups", status_code=201)
async def create_group(
    org_id: Id, body: GroupCreateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await orgs.do_create_group(svc, actor, org_id, body.model_dump())


@router.patch("/orgs/{org_id}/groups/{group_id}")
async def update_group(
    org_id: Id, group_id: Id, body: GroupUpdateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await orgs.do_update_group(
        svc, actor, org_id, group_id, body.model_dump(exclude_unset=True)
    )


@router.get("/orgs/{org_id}/members")
async def list_members(org_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    return await members.list_members(svc, actor, org_id)


@router.post("/orgs/{org_id}/members", status_code=201)
async def create_member(
    org_id: Id, body: MemberCreateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Create an agent account (or add the existing account with that email)."""
    fields = body.model_dump()
    fields["email"] = fields["email"].lower()
    return await members.do_create_member(svc, actor, org_id, fields)


@router.patch("/orgs/{org_id}/members/{user_id}")
async def update_member(
    org_id: Id,
    user_id: Id,
    body: MemberUpdateBody,
    actor: ActorDep,
    svc: ServicesDep,
    sockets: SocketsDep,
) -> dict[str, Any]:
    """Role, capacity, groups, or deactivation. The member's consoles reconnect to pick up
    their new rooms (or are refused, if deactivated)."""
    member = await members.do_update_member(
        svc, actor, org_id, user_id, body.model_dump(exclude_unset=True)
    )
    if body.model_fields_set & {"role", "group_ids", "is_active"}:
        await sockets.drop(lambda a: a.org_id == org_id and a.user_id == user_id and a.is_member)
    return member


@router.put("/me/availability")
async def set_availability(
    body: AvailabilityBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """An agent's own availability: online, away or offline."""
    outcome = await presence.do_set_availability(svc, actor, body.availability)
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result


@router.get("/orgs/{org_id}/audit")
async def audit_log(
    org_id: Id,
    actor: ActorDep,
    svc: ServicesDep,
    before: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Administrative actions, newest first (owners and admins)."""
    return await audit.list_audit(svc, actor, org_id, before, limit)
