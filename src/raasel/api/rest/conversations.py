"""Conversations, their messages and receipts, and the agents' commands on them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from raasel.actions import assignment, followup, lifecycle, messages, offline, receipts
from raasel.actions.context import Outcome
from raasel.api.deps import ActorDep, BusDep, ClientIp, ServicesDep
from raasel.api.schemas import (
    AssignBody,
    ConversationUpdateBody,
    EscalateBody,
    Id,
    LeaveEmailBody,
    OpenConversationBody,
    ResolveBody,
    SendMessageBody,
    TransferBody,
    WatermarkBody,
)
from raasel.realtime.bus import EventBus

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])

_NO_NOTE = ResolveBody()

Cursor = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


async def _answer(outcome: Outcome, bus: EventBus) -> Any:
    await bus.publish(outcome.events)
    return outcome.result


@router.post("", status_code=201)
async def open_conversation(
    body: OpenConversationBody, actor: ActorDep, svc: ServicesDep, bus: BusDep, ip: ClientIp
) -> dict[str, Any]:
    """Open a support conversation with its first message (idempotent by ``client_id``)."""
    outcome = await lifecycle.do_open_conversation(
        svc,
        actor,
        org_id=body.org_id,
        group_id=body.group_id,
        text=body.text,
        client_id=body.client_id,
        subject=body.subject,
        client_ip=ip,
        follows=body.follows,
    )
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


@router.get("")
async def list_conversations(
    actor: ActorDep,
    svc: ServicesDep,
    scope: Annotated[str, Query(pattern=r"^(mine|queue|all)$")] = "all",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[dict[str, Any]]:
    """Mine, with unread counts and last message, most recent first."""
    return await lifecycle.list_conversations(svc, actor, scope=scope, limit=limit)


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await lifecycle.get_conversation(svc, actor, conversation_id)


@router.patch("/{conversation_id}")
async def update_conversation(
    conversation_id: Id,
    body: ConversationUpdateBody,
    actor: ActorDep,
    svc: ServicesDep,
    bus: BusDep,
) -> dict[str, Any]:
    """Tags, priority, subject (agents)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    result: dict[str, Any] = await _answer(
        await lifecycle.do_update_conversation(svc, actor, conversation_id, changes), bus
    )
    return result


@router.get("/{conversation_id}/messages")
async def history(
    conversation_id: Id,
    actor: ActorDep,
    svc: ServicesDep,
    before: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """A page of history, oldest first; ``next_before`` fetches the page before it."""
    return await messages.list_history(svc, actor, conversation_id, before=before, limit=limit)


@router.get("/{conversation_id}/messages/after/{after_id}")
async def messages_after(
    conversation_id: Id, after_id: Id, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Resync: everything after a message id, oldest first (same as the socket ``sync``)."""
    return await messages.sync_conversation(svc, actor, conversation_id, after_id=int(after_id))


@router.get("/{conversation_id}/messages/after-position/{position}")
async def messages_after_position(
    conversation_id: Id,
    position: Annotated[int, Path(ge=0, le=2**62)],
    actor: ActorDep,
    svc: ServicesDep,
) -> dict[str, Any]:
    """Resync: everything after a position, oldest first (same as the socket ``sync``)."""
    return await messages.sync_conversation(svc, actor, conversation_id, after_position=position)


@router.post("/{conversation_id}/messages", status_code=201)
async def send_message(
    conversation_id: Id, body: SendMessageBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Send (idempotent by ``client_id``); answered once durably stored."""
    outcome = await messages.do_send_message(
        svc,
        actor,
        conversation_id,
        client_id=body.client_id,
        text=body.text,
        kind=body.kind,
        attachment_id=body.attachment_id,
    )
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


@router.post("/{conversation_id}/delivered")
async def delivered(
    conversation_id: Id, body: WatermarkBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    outcome = await receipts.do_mark(svc, actor, conversation_id, field="delivered", **body.marks())
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


@router.post("/{conversation_id}/read")
async def read(
    conversation_id: Id, body: WatermarkBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    outcome = await receipts.do_mark(svc, actor, conversation_id, field="read", **body.marks())
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


@router.post("/{conversation_id}/claim")
async def claim(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Take a queued conversation; the first claim wins, later ones get ``already_assigned``."""
    result: dict[str, Any] = await _answer(
        await assignment.do_claim(svc, actor, conversation_id), bus
    )
    return result


@router.post("/{conversation_id}/assign")
async def assign(
    conversation_id: Id, body: AssignBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    result: dict[str, Any] = await _answer(
        await assignment.do_assign(svc, actor, conversation_id, body.agent_id), bus
    )
    return result


@router.post("/{conversation_id}/transfer")
async def transfer(
    conversation_id: Id, body: TransferBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    result: dict[str, Any] = await _answer(
        await assignment.do_transfer(
            svc, actor, conversation_id, agent_id=body.agent_id, group_id=body.group_id
        ),
        bus,
    )
    return result


@router.post("/{conversation_id}/escalate")
async def escalate(
    conversation_id: Id, body: EscalateBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    result: dict[str, Any] = await _answer(
        await lifecycle.do_escalate(svc, actor, conversation_id, body.supervisor_id), bus
    )
    return result


@router.post("/{conversation_id}/resolve")
async def resolve(
    conversation_id: Id,
    actor: ActorDep,
    svc: ServicesDep,
    bus: BusDep,
    body: ResolveBody = _NO_NOTE,
) -> dict[str, Any]:
    """Resolve; an optional ``resolution_note`` is kept for the organization (the body
    may be left out)."""
    result: dict[str, Any] = await _answer(
        await lifecycle.do_resolve(svc, actor, conversation_id, body.resolution_note), bus
    )
    return result


@router.post("/{conversation_id}/close")
async def close(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    result: dict[str, Any] = await _answer(
        await lifecycle.do_close(svc, actor, conversation_id), bus
    )
    return result


@router.post("/{conversation_id}/reopen")
async def reopen(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    result: dict[str, Any] = await _answer(
        await lifecycle.do_reopen(svc, actor, conversation_id), bus
    )
    return result


@router.post("/{conversation_id}/contact")
async def leave_email(
    conversation_id: Id, body: LeaveEmailBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """A widget visitor leaves an address for the answers (docs/protocol.md, "Offline")."""
    return await offline.do_leave_email(svc, actor, conversation_id, str(body.email))


@router.post("/{conversation_id}/transcript")
async def mail_transcript(conversation_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """The customer gets the conversation by mail (their address, or the one they left)."""
    return await followup.do_mail_transcript(svc, actor, conversation_id)
