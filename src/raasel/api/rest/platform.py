"""Platform support: an organization's conversations with the node's operators, the
supervisor's escalation, and the operators' own console routes.

The ``/api/v1/platform/...`` routes take an operator's session only (anyone else:
404); an operator's session reaches no other route but logout (api/deps.py).
docs/protocol.md, "Platform support".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import EmailStr, StringConstraints

from raasel.actions import messages, platform_support
from raasel.actions.platform_operators import do_operator_login
from raasel.api.deps import ActorDep, BusDep, ClientIp, OperatorDep, ServicesDep
from raasel.api.schemas import ClientId, Id, MessageText, Strict

router = APIRouter(tags=["platform"])

Cursor = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class OperatorLoginBody(Strict):
    email: EmailStr
    password: Annotated[str, StringConstraints(max_length=128)]


class PlatformOpenBody(Strict):
    category: platform_support.PlatformCategory
    subject: Annotated[str, StringConstraints(max_length=200)] = ""
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    client_id: ClientId


class PlatformEscalateBody(Strict):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class OperatorSendBody(Strict):
    client_id: ClientId
    text: MessageText


@router.post("/api/v1/platform/login")
async def operator_login(body: OperatorLoginBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """An operator's session (refresh it with ``/api/v1/auth/refresh``)."""
    return await do_operator_login(svc, str(body.email), body.password, ip)


@router.post("/api/v1/orgs/{org_id}/platform/conversations", status_code=201)
async def open_platform_conversation(
    org_id: Id, body: PlatformOpenBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """The organization's admin asks the platform (idempotent by ``client_id``)."""
    outcome = await platform_support.do_open_platform_conversation(
        svc,
        actor,
        org_id,
        category=body.category,
        subject=body.subject,
        text=body.text,
        client_id=body.client_id,
    )
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result


@router.get("/api/v1/orgs/{org_id}/platform/conversations")
async def org_platform_conversations(
    org_id: Id,
    actor: ActorDep,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[dict[str, Any]]:
    """The organization's conversations with the platform (its leads)."""
    return await platform_support.list_org_platform_conversations(svc, actor, org_id, limit)


@router.post("/api/v1/conversations/{conversation_id}/platform-escalation")
async def escalate_to_platform(
    conversation_id: Id, body: PlatformEscalateBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """A supervisor hands the conversation to the platform team as well."""
    outcome = await platform_support.do_escalate_to_platform(
        svc, actor, conversation_id, body.reason
    )
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result


@router.get("/api/v1/platform/conversations")
async def operator_conversations(
    actor: OperatorDep,
    svc: ServicesDep,
    status: Literal["queued", "active", "resolved", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[dict[str, Any]]:
    """What was opened or escalated to the platform, every organization's."""
    return await platform_support.list_platform_conversations(
        svc, actor, status=status, limit=limit
    )


@router.get("/api/v1/platform/conversations/{conversation_id}")
async def operator_conversation(
    conversation_id: Id, actor: OperatorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await platform_support.get_platform_conversation(svc, actor, conversation_id)


@router.get("/api/v1/platform/conversations/{conversation_id}/messages")
async def operator_history(
    conversation_id: Id,
    actor: OperatorDep,
    svc: ServicesDep,
    before: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """History as the customer sees it (no internal notes), oldest first."""
    return await messages.list_history(svc, actor, conversation_id, before=before, limit=limit)


@router.post("/api/v1/platform/conversations/{conversation_id}/join")
async def operator_join(
    conversation_id: Id, actor: OperatorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Join to write (audited in the organization's log); joining again changes nothing."""
    outcome = await platform_support.do_join(svc, actor, conversation_id)
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/api/v1/platform/conversations/{conversation_id}/messages", status_code=201)
async def operator_send(
    conversation_id: Id, body: OperatorSendBody, actor: OperatorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Write as the platform (after joining); idempotent by ``client_id``. The socket's
    ``message:send`` does the same."""
    outcome = await messages.do_send_message(
        svc, actor, conversation_id, client_id=body.client_id, text=body.text
    )
    await bus.publish(outcome.events)
    result: dict[str, Any] = outcome.result
    return result
