"""Social channels: connecting them (admins), their webhooks (public, signed), and what
the console shows of a conversation from one (docs/channels.md, docs/protocol.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field, StringConstraints

from raasel.actions import channel_conversations, channel_webhooks, channels
from raasel.api.deps import ActorDep, ServicesDep
from raasel.api.schemas import ClientId, Id, Strict

router = APIRouter(prefix="/api/v1", tags=["channels"])

ChannelId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
Secret = Annotated[str, StringConstraints(min_length=8, max_length=1024, pattern=r"^[\x21-\x7e]+$")]
AccountId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Throughput = Annotated[int, Field(ge=1, le=1000)]


class ChannelCreateBody(Strict):
    platform: Annotated[str, StringConstraints(pattern=r"^(whatsapp|messenger|instagram)$")]
    name: Name
    external_id: AccountId  # phone number id, Page id, or Instagram account id
    business_account_id: AccountId | None = None  # WhatsApp Business account (templates)
    access_token: Secret
    app_secret: Secret
    verify_token: Secret
    group_id: Id | None = None
    throughput_per_second: Throughput | None = None


class ChannelUpdateBody(Strict):
    name: Name | None = None
    access_token: Secret | None = None
    app_secret: Secret | None = None
    verify_token: Secret | None = None
    group_id: Id | None = None
    throughput_per_second: Throughput | None = None
    is_enabled: bool | None = None


TemplateParameter = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TemplateSendBody(Strict):
    client_id: ClientId
    name: Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")]
    parameters: list[TemplateParameter] = Field(default_factory=list, max_length=20)


@router.post("/orgs/{org_id}/channels", status_code=201)
async def create_channel(
    org_id: Id, body: ChannelCreateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Connect a WhatsApp number, a Facebook Page or an Instagram account (admins). The
    token, app secret and verify token are sealed at rest and never returned."""
    return await channels.do_create_channel(svc, actor, org_id, body.model_dump())


@router.get("/orgs/{org_id}/channels")
async def list_channels(org_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    return await channels.list_channels(svc, actor, org_id)


@router.get("/orgs/{org_id}/channels/{channel_id}")
async def get_channel(
    org_id: Id, channel_id: ChannelId, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """One channel, with its webhook queue's counts (pending / done / failed)."""
    return await channels.get_channel(svc, actor, org_id, channel_id)


@router.patch("/orgs/{org_id}/channels/{channel_id}")
async def update_channel(
    org_id: Id, channel_id: ChannelId, body: ChannelUpdateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return await channels.do_update_channel(svc, actor, org_id, channel_id, changes)


@router.delete("/orgs/{org_id}/channels/{channel_id}", status_code=204)
async def delete_channel(
    org_id: Id, channel_id: ChannelId, actor: ActorDep, svc: ServicesDep
) -> Response:
    """Disconnect a channel (admins): secrets destroyed, its webhook refused from now on,
    its conversations kept."""
    await channels.do_delete_channel(svc, actor, org_id, channel_id)
    return Response(status_code=204)


@router.get("/channels/{channel_id}/webhook", response_class=PlainTextResponse)
async def verify_webhook(
    channel_id: ChannelId,
    svc: ServicesDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=1024)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> str:
    """Meta's subscription check: answers ``hub.challenge`` when ``hub.verify_token`` is
    the channel's."""
    return await channel_webhooks.verify_subscription(svc, channel_id, mode, token, challenge)


@router.post("/channels/{channel_id}/webhook")
async def receive_webhook(
    channel_id: ChannelId,
    request: Request,
    svc: ServicesDep,
    x_hub_signature_256: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """A delivery: signature checked on the raw body, stored, then answered 200; it is
    processed from the database afterwards."""
    body = await request.body()
    return await channel_webhooks.do_receive_webhook(svc, channel_id, body, x_hub_signature_256)


@router.get("/conversations/{conversation_id}/channel")
async def conversation_channel(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """The channel a conversation came from, its window, failed sends and replies."""
    return await channel_conversations.conversation_channel(svc, actor, conversation_id)


@router.get("/conversations/{conversation_id}/channel/templates")
async def list_templates(
    conversation_id: Id, actor: ActorDep, svc: ServicesDep
) -> list[dict[str, Any]]:
    """WhatsApp: the organization's approved templates (from the provider)."""
    return await channel_conversations.list_templates(svc, actor, conversation_id)


@router.post("/conversations/{conversation_id}/channel/templates", status_code=201)
async def send_template(
    conversation_id: Id, body: TemplateSendBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """WhatsApp: send an approved template (allowed outside the 24-hour window)."""
    return await channel_conversations.do_send_template(
        svc,
        actor,
        conversation_id,
        name=body.name,
        language=body.language,
        parameters=body.parameters,
        client_id=body.client_id,
    )
