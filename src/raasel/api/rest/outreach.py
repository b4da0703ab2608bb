"""Outreach (an organization writes first) and an individual's mute/block of organizations.

docs/protocol.md, "Outreach".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raasel.actions import contacts, outreach
from raasel.api.deps import ActorDep, BusDep, ServicesDep
from raasel.api.schemas import ContactBody, Id, OutreachBody

router = APIRouter(tags=["outreach"])


@router.post("/api/v1/outreach", status_code=201)
async def start_outreach(
    body: OutreachBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """An agent starts a conversation with a person (idempotent by ``client_id``)."""
    outcome = await outreach.do_start_outreach(
        svc,
        actor,
        email=str(body.email) if body.email is not None else None,
        handle=body.handle,
        customer_id=body.customer_id,
        group_id=body.group_id,
        text=body.text,
        subject=body.subject,
        client_id=body.client_id,
    )
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result


@router.get("/api/v1/contacts")
async def list_contacts(actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """The organizations the individual muted or blocked (or has a standing with)."""
    return await contacts.list_contacts(svc, actor)


@router.put("/api/v1/contacts/{org_id}")
async def set_contact(
    org_id: Id, body: ContactBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Mute or block one organization (or undo it); every device of the person is told."""
    outcome = await contacts.do_set_contact(
        svc, actor, org_id, is_muted=body.is_muted, is_blocked=body.is_blocked
    )
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result
