"""Organization administration: profile, groups, members, audit log (SPEC 2.7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from raasel.actions import audit, domains, invitations, members, orgs, presence
from raasel.api.deps import ActorDep, BusDep, ClientIp, ConnectionsDep, ServicesDep
from raasel.api.schemas import (
    AvailabilityBody,
    GroupCreateBody,
    GroupUpdateBody,
    Id,
    InvitationBody,
    MemberUpdateBody,
    OrgCreateBody,
    OrgUpdateBody,
)
from raasel.realtime.connections import Revocation

router = APIRouter(prefix="/api/v1", tags=["organizations"])


@router.post("/orgs", status_code=201)
async def create_org(
    body: OrgCreateBody, actor: ActorDep, svc: ServicesDep, ip: ClientIp
) -> dict[str, Any]:
    """Create an organization; the caller becomes its owner (log in again with its slug)."""
    fields = body.model_dump()
    fields["settings"] = {k: v for k, v in fields["settings"].items() if v is not None}
    return await orgs.do_create_org(svc, actor, fields, ip)


@router.get("/orgs/{org_id}")
async def get_org(org_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await orgs.get_org(svc, actor, org_id)


@router.patch("/orgs/{org_id}")
async def update_org(
    org_id: Id, body: OrgUpdateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await orgs.do_update_org(svc, actor, org_id, body.changes())


Domain = Annotated[
    str, Path(min_length=3, max_length=253, pattern=r"^[a-z0-9.-]+$", description="a domain")
]


@router.get("/orgs/{org_id}/domains")
async def list_domains(org_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """The claimed domains, which are verified, and how to prove each (owners, admins)."""
    return await domains.list_domains(svc, actor, org_id)


@router.post("/orgs/{org_id}/domains/{domain}/verify")
async def verify_domain(
    org_id: Id, domain: Domain, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Check now for the DNS TXT record or the HTTPS .well-known file; a proved domain is
    shown and searched from then on, and the organization gets its badge."""
    return await domains.do_verify_domain(svc, actor, org_id, domain)


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


@router.post("/orgs/{org_id}/invitations", status_code=201)
async def invite(
    org_id: Id, body: InvitationBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Invite an address: a signed, single-use link goes to it by mail. The person joins
    only by accepting (an existing account with its password). The answer is the same
    whether or not the address has an account."""
    fields = body.model_dump()
    fields["email"] = fields["email"].lower()
    return await invitations.do_invite_member(svc, actor, org_id, fields)


@router.post("/orgs/{org_id}/members", status_code=201)
async def create_member(
    org_id: Id, body: InvitationBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Adding a member is inviting them (same as ``POST .../invitations``): nobody's
    account is attached, and no password is set, without its holder."""
    return await invite(org_id, body, actor, svc)


@router.get("/orgs/{org_id}/invitations")
async def list_invitations(org_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Pending invitations (owners, admins)."""
    return await invitations.list_invitations(svc, actor, org_id)


@router.delete("/orgs/{org_id}/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    org_id: Id, invitation_id: Id, actor: ActorDep, svc: ServicesDep
) -> None:
    """Withdraw a pending invitation: its link stops working."""
    await invitations.do_revoke_invitation(svc, actor, org_id, invitation_id)


@router.patch("/orgs/{org_id}/members/{user_id}")
async def update_member(
    org_id: Id,
    user_id: Id,
    body: MemberUpdateBody,
    actor: ActorDep,
    svc: ServicesDep,
    connections: ConnectionsDep,
) -> dict[str, Any]:
    """Role, capacity, groups, or deactivation. The member's consoles, on every node, move
    to the rooms of their new role and groups, or are disconnected if deactivated."""
    member = await members.do_update_member(
        svc, actor, org_id, user_id, body.model_dump(exclude_unset=True)
    )
    if body.model_fields_set & {"role", "group_ids", "is_active"}:
        await connections.revoke(Revocation.member(org_id, user_id))
    return member


@router.put("/me/availability")
async def set_availability(
    body: AvailabilityBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """An agent's own availability: online, away or offline."""
    outcome = await presence.do_set_availability(
        svc, actor, body.availability, restores_availability=body.restores_availability
    )
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
