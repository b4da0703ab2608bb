"""Organization <-> organization conversations (``b2b``): open, the peer's answer to a
request, closing one's side, both sides' lists. Messages, history, sync, receipts and
typing use the conversation routes and events. docs/protocol.md, "Organization to
organization".
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raasel.actions import b2b
from raasel.actions.context import Outcome
from raasel.api.deps import ActorDep, BusDep, ServicesDep
from raasel.api.schemas import B2BOpenBody, Id
from raasel.realtime.bus import EventBus as Bus

router = APIRouter(prefix="/api/v1/b2b", tags=["b2b"])


async def _answer(outcome: Outcome, bus: Bus) -> dict[str, Any]:
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/conversations", status_code=201)
async def open_b2b(
    body: B2BOpenBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """An agent opens a conversation with another organization (idempotent by
    ``client_id``)."""
    outcome = await b2b.do_open_b2b(
        svc,
        actor,
        peer_org_id=body.org_id,
        peer_group_id=body.group_id,
        subject=body.subject,
        text=body.text,
        client_id=body.client_id,
    )
    return await _answer(outcome, bus)


@router.get("/conversations")
async def list_b2b(actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Both directions, each from the caller's side; requests waiting for it included."""
    return await b2b.list_b2b(svc, actor)


@router.get("/conversations/{conversation_id}")
async def get_b2b(conversation_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await b2b.get_b2b(svc, actor, conversation_id)


@router.post("/conversations/{conversation_id}/accept")
async def accept(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    return await _answer(await b2b.do_accept(svc, actor, conversation_id), bus)


@router.post("/conversations/{conversation_id}/decline")
async def decline(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    return await _answer(await b2b.do_decline(svc, actor, conversation_id), bus)


@router.post("/conversations/{conversation_id}/close")
async def close_side(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Close the caller's side only."""
    return await _answer(await b2b.do_close_side(svc, actor, conversation_id), bus)
