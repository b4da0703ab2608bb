"""What the console knows of a conversation from a social channel: which channel, the
customer's platform identity, the window, failed sends, replies; and WhatsApp templates
(listed from the provider, sent as a message of the conversation)."""

from __future__ import annotations

import re
from typing import Any

from raasel.actions.access import access_conversation, require_member
from raasel.actions.channel_inbound import _account
from raasel.actions.channel_runtime import runtime_of
from raasel.actions.context import Actor, Services
from raasel.actions.conversation_units import append, author_of, load_for, sender_of
from raasel.actions.limits import check_rate
from raasel.actions.views import message_view
from raasel.channels.graph import GraphError
from raasel.channels.platforms import LABEL, Platform
from raasel.channels.window import window_at
from raasel.domain import MessageKind, Side
from raasel.errors import Conflict, NotFound, Unavailable, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.rules.conversations import check_may_send
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import channels as store
from raasel.storage.unit_batch import Sent, UnitBatch

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


async def _linked(
    svc: Services, actor: Actor, conversation_id: str
) -> tuple[store.ChannelConversation, store.Channel]:
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
        link = await store.channel_conversation(conn, conversation.id, org_id=org_id)
        channel = await store.get_channel(conn, link.channel_id, org_id=org_id) if link else None
    if link is None or channel is None:
        raise NotFound("this conversation did not come from a social channel")
    return link, channel


async def conversation_channel(svc: Services, actor: Actor, conversation_id: str) -> dict[str, Any]:
    link, channel = await _linked(svc, actor, conversation_id)
    async with svc.db.read(actor.scope) as conn:
        failures = await store.failures_in(conn, conversation_id)
        replies = await store.replies_in(conn, conversation_id)
        times = await store.provider_times_in(conn, conversation_id)
    window = window_at(channel.platform, link.last_inbound_at, utcnow())
    return {
        "conversation_id": conversation_id,
        "channel": {
            "id": channel.id,
            "platform": channel.platform,
            "platform_label": LABEL[Platform(channel.platform)],
            "name": channel.name,
            "status": channel.status,
            "last_error": channel.last_error,
        },
        "contact_id": link.contact_id,
        "last_inbound_at": link.last_inbound_at.isoformat(),
        "window": {
            "state": window.state,
            "closes_at": window.closes_at.isoformat() if window.closes_at else None,
            "allows_free_text": window.allows_free_text,
        },
        "sent_position": link.sent_position,
        "failures": [{"position": f.position, "error": f.error} for f in failures],
        "replies": [{"position": p, "replies_to": t} for p, t in sorted(replies.items())],
        # The platform's own time of each customer message (the message's created_at is
        # the server's); the conversation is ordered by position, not by these.
        "provider_times": [
            {"position": p, "provider_sent_at": t.isoformat()} for p, t in sorted(times.items())
        ],
    }


def _template_view(template: dict[str, Any]) -> dict[str, Any] | None:
    name, language = template.get("name"), template.get("language")
    if not isinstance(name, str) or not isinstance(language, str):
        return None
    body = ""
    for component in template.get("components") or []:
        if isinstance(component, dict) and component.get("type") == "BODY":
            body = str(component.get("text") or "")
    return {
        "name": name,
        "language": language,
        "category": template.get("category"),
        "body": body,
        "parameters": len(set(_PLACEHOLDER.findall(body))),
    }


async def list_templates(svc: Services, actor: Actor, conversation_id: str) -> list[dict[str, Any]]:
    """The WhatsApp Business account's approved templates, as the provider lists them."""
    runtime = runtime_of(svc)
    _, channel = await _linked(svc, actor, conversation_id)
    if channel.platform != Platform.WHATSAPP:
        raise Conflict("templates exist on WhatsApp only", code="not_whatsapp")
    try:
        found = await runtime.graph.approved_templates(await _account(svc, runtime, channel))
    except GraphError as exc:
        raise Unavailable(f"WhatsApp did not list the templates: {exc.failure.describe()}") from exc
    return [v for t in found if (v := _template_view(t)) is not None]


def render(body: str, parameters: list[str]) -> str:
    return _PLACEHOLDER.sub(
        lambda m: parameters[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(parameters) else "",
        body,
    )


async def do_send_template(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    name: str,
    language: str,
    parameters: list[str],
    client_id: str,
) -> dict[str, Any]:
    """Send an approved template (the only message WhatsApp takes outside the 24-hour
    window): stored as the agent's message with the rendered text, sent as the template."""
    await check_rate(svc, "send", f"user:{actor.user_id}")
    templates = await list_templates(svc, actor, conversation_id)
    chosen = next((t for t in templates if t["name"] == name and t["language"] == language), None)
    if chosen is None:
        raise NotFound("no approved template of that name and language")
    if len(parameters) != chosen["parameters"]:
        raise ValidationFailed(f"this template takes {chosen['parameters']} parameters")
    _, channel = await _linked(svc, actor, conversation_id)
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    text = render(chosen["body"], parameters) or f"[template {name}]"
    ref = (conversation_id, actor.user_id, client_id)

    async def unit(batch: UnitBatch) -> StoredMessage | Sent:
        conversation = await load_for(batch, actor, conversation_id)
        sent = await batch.find_sent(ref)
        if sent is not None:
            return sent
        check_may_send(conversation, sender_of(actor, conversation), MessageKind.TEXT)
        _, message = await append(
            batch,
            conversation,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
            sender_name=author_of(actor),
        )
        await store.upsert_outbound(
            batch.conn,
            {
                "conversation_id": conversation.id,
                "position": message.position,
                "channel_id": channel.id,
                "provider_message_id": None,
                "template": template,
                "status": "pending",
                "error": None,
                "sent_at": None,
            },
        )
        return message

    stored = await svc.db.run(unit, keys=[conversation_id], client_refs=[ref])
    runtime_of(svc).wake_outbound()
    if isinstance(stored, Sent):
        if stored.message is None:
            return {"position": stored.position, "duplicate": True}
        stored = stored.message
    return message_view(stored, sender_name=author_of(actor)) | {"template": name}
