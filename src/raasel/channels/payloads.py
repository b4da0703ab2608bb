"""Webhook payloads of the three platforms, read into a few plain records (pure).

Every entry and every change or messaging item of a payload is read, not only the first.
Fields we do not know are ignored; items we cannot use (reactions, locations, echoes
of our own sends...) become ``Ignored`` with the provider's id, so they are logged.
Shapes: Meta's WhatsApp Cloud API and Messenger Platform webhook references.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from raasel.channels.platforms import WEBHOOK_OBJECT, Platform

MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker", "file"})
_STATUSES = frozenset({"sent", "delivered", "read", "failed"})


@dataclass(frozen=True, slots=True)
class InboundMessage:
    account_id: str  # the number's phone_number_id, the Page id, the Instagram account id
    message_id: str
    contact_id: str  # wa_id (or BSUID when no wa_id), PSID, IGSID
    alt_id: str | None  # WhatsApp: the BSUID beside a wa_id
    contact_name: str
    kind: str  # text, or one of MEDIA_KINDS
    text: str
    media_ref: str | None  # WhatsApp: a media id; Messenger/Instagram: a URL
    mime_type: str | None
    filename: str | None
    reply_to: str | None
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    account_id: str
    message_id: str
    status: str  # sent | delivered | read | failed
    contact_id: str
    at: datetime
    error: str | None


@dataclass(frozen=True, slots=True)
class Watermark:
    """Messenger: everything sent to ``contact_id`` before ``at`` was delivered/read."""

    account_id: str
    contact_id: str
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Ignored:
    ref: str
    reason: str


Item = InboundMessage | StatusUpdate | Watermark | Ignored


class MalformedPayload(Exception):
    pass


def _text(value: Any, limit: int = 4096) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seconds(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, UTC)


def _millis(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, UTC)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def parse(platform: str, payload: Any) -> list[Item]:
    """Every item of a verified webhook body (already JSON-decoded)."""
    if not isinstance(payload, dict):
        raise MalformedPayload("a webhook body is a JSON object")
    if payload.get("object") != WEBHOOK_OBJECT[Platform(platform)]:
        return [Ignored(str(payload.get("object"))[:64], "object of another platform")]
    items: list[Item] = []
    for entry in _dicts(payload.get("entry")):
        if platform == Platform.WHATSAPP:
            items += _whatsapp_entry(entry)
        else:
            items += _messaging_entry(entry)
    return items


def contact_keys(platform: str, body: str) -> list[str]:
    """The contacts whose messages or statuses a delivery carries, sorted (none if it
    cannot be read: processing it will say why)."""
    try:
        items = parse(platform, json.loads(body))
    except (ValueError, RecursionError, MalformedPayload):
        return []
    return sorted(
        {
            i.contact_id
            for i in items
            if isinstance(i, InboundMessage | StatusUpdate | Watermark) and i.contact_id
        }
    )


def _whatsapp_entry(entry: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    for change in _dicts(entry.get("changes")):
        value = change.get("value")
        if change.get("field") != "messages" or not isinstance(value, dict):
            items.append(Ignored(str(entry.get("id"))[:64], f"field {change.get('field')!r}"))
            continue
        metadata = _dict(value.get("metadata"))
        account = _text(metadata.get("phone_number_id"), 64)
        names: dict[str, tuple[str, str | None]] = {}
        for contact in _dicts(value.get("contacts")):
            profile = _dict(contact.get("profile"))
            wa_id, bsuid = _text(contact.get("wa_id"), 128), _text(contact.get("user_id"), 128)
            name = _text(profile.get("name"), 120)
            if wa_id:
                names[wa_id] = (name, bsuid or None)
            if bsuid:
                names.setdefault(bsuid, (name, None))
        for message in _dicts(value.get("messages")):
            items.append(_whatsapp_message(account, message, names))
        for status in _dicts(value.get("statuses")):
            items.append(_whatsapp_status(account, status))
    return items


def _whatsapp_message(
    account: str, message: dict[str, Any], names: dict[str, tuple[str, str | None]]
) -> Item:
    message_id = _text(message.get("id"), 255)
    contact = _text(message.get("from"), 128) or _text(message.get("from_user_id"), 128)
    kind = _text(message.get("type"), 32)
    if not message_id or not contact:
        return Ignored(message_id or "?", "message without id or sender")
    context = _dict(message.get("context"))
    name, alt = names.get(contact, ("", None))
    common: dict[str, Any] = {
        "account_id": account,
        "message_id": message_id,
        "contact_id": contact,
        "alt_id": alt,
        "contact_name": name,
        "reply_to": _text(context.get("id"), 255) or None,
        "sent_at": _seconds(message.get("timestamp")),
    }
    if kind == "text":
        body = _dict(message.get("text"))
        if not _text(body.get("body")).strip():
            return Ignored(message_id, "empty text")
        return InboundMessage(
            kind="text",
            text=_text(body.get("body")),
            media_ref=None,
            mime_type=None,
            filename=None,
            **common,
        )
    if kind in MEDIA_KINDS:
        media = _dict(message.get(kind))
        if not _text(media.get("id"), 128):
            return Ignored(message_id, f"{kind} without a media id")
        return InboundMessage(
            kind=kind,
            text=_text(media.get("caption")),
            media_ref=_text(media.get("id"), 128),
            mime_type=_text(media.get("mime_type"), 100) or None,
            filename=_text(media.get("filename"), 200) or None,
            **common,
        )
    return Ignored(message_id, f"message type {kind!r}")


def _whatsapp_status(account: str, status: dict[str, Any]) -> Item:
    message_id = _text(status.get("id"), 255)
    state = _text(status.get("status"), 16)
    if not message_id or state not in _STATUSES:
        return Ignored(message_id or "?", f"status {state!r}")
    errors = _dicts(status.get("errors"))
    error = None
    if errors:
        first = errors[0]
        error = f"{_text(first.get('title'), 200)} ({first.get('code')})"
    return StatusUpdate(
        account_id=account,
        message_id=message_id,
        status=state,
        contact_id=_text(status.get("recipient_id"), 128),
        at=_seconds(status.get("timestamp")),
        error=error,
    )


def _messaging_entry(entry: dict[str, Any]) -> list[Item]:
    """Messenger and Instagram: ``entry[].messaging[]`` items from a sender to a recipient."""
    account = _text(entry.get("id"), 64)
    items: list[Item] = []
    for event in _dicts(entry.get("messaging")):
        sender = _dict(event.get("sender"))
        contact = _text(sender.get("id"), 128)
        at = _millis(event.get("timestamp"))
        if isinstance(event.get("message"), dict):
            items += _messaging_message(account, contact, at, event["message"])
        elif isinstance(event.get("delivery"), dict):
            delivery = event["delivery"]
            given = delivery.get("mids")
            mids = [m for m in given if isinstance(m, str)] if isinstance(given, list) else []
            items += [StatusUpdate(account, m[:255], "delivered", contact, at, None) for m in mids]
            if not mids and delivery.get("watermark") is not None:
                items.append(
                    Watermark(account, contact, "delivered", _millis(delivery["watermark"]))
                )
        elif isinstance(event.get("read"), dict):
            read = event["read"]
            if isinstance(read.get("mid"), str):  # Instagram names the message
                items.append(StatusUpdate(account, read["mid"][:255], "read", contact, at, None))
            else:
                items.append(Watermark(account, contact, "read", _millis(read.get("watermark"))))
        else:
            kinds = sorted(k for k in event if k not in ("sender", "recipient", "timestamp"))
            items.append(Ignored(contact or "?", f"messaging event {kinds[:3]}"))
    return items


def _messaging_message(
    account: str, contact: str, at: datetime, message: dict[str, Any]
) -> list[Item]:
    message_id = _text(message.get("mid"), 255)
    if not message_id or not contact:
        return [Ignored(message_id or "?", "message without id or sender")]
    if message.get("is_echo"):
        return [Ignored(message_id, "echo of the page's own message")]
    reply = _dict(message.get("reply_to"))
    common: dict[str, Any] = {
        "account_id": account,
        "contact_id": contact,
        "alt_id": None,
        "contact_name": "",
        "reply_to": _text(reply.get("mid"), 255) or None,
        "sent_at": at,
    }
    attachments = _dicts(message.get("attachments"))
    text = _text(message.get("text"))
    items: list[Item] = []
    if text.strip() or not attachments:
        if not text.strip():
            return [Ignored(message_id, "message without text or attachments")]
        items.append(
            InboundMessage(
                message_id=message_id,
                kind="text",
                text=text,
                media_ref=None,
                mime_type=None,
                filename=None,
                **common,
            )
        )
    for index, attachment in enumerate(attachments):
        kind = _text(attachment.get("type"), 32)
        payload = _dict(attachment.get("payload"))
        url = _text(payload.get("url"), 2000)
        # One provider message may carry several files: each gets its own id.
        part_id = f"{message_id}#{index}" if (items or index) else message_id
        if kind not in MEDIA_KINDS or not url:
            items.append(Ignored(part_id, f"attachment type {kind!r}"))
            continue
        items.append(
            InboundMessage(
                message_id=part_id[:255],
                kind=kind,
                text="",
                media_ref=url,
                mime_type=None,
                filename=None,
                **common,
            )
        )
    return items
