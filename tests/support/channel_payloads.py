"""Webhook bodies as Meta sends them (WhatsApp Cloud API, Messenger, Instagram), signed
like Meta signs them: raw bytes and the X-Hub-Signature-256 header."""

from __future__ import annotations

import json
import time
from typing import Any

from raasel.channels.signature import sign


def signed(app_secret: str, payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"X-Hub-Signature-256": sign(app_secret, body), "Content-Type": "application/json"}


def now_s(offset: float = 0) -> int:
    return int(time.time() + offset)


def now_ms() -> int:
    return int(time.time() * 1000)


# -- WhatsApp --------------------------------------------------------------------------


def wa_change(
    phone_number_id: str,
    *,
    messages: list[Any] = (),
    statuses: list[Any] = (),
    contacts: list[Any] = (),
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "some_future_field": {"ignored": True},
    }
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"field": "messages", "value": value}


def wa_payload(waba_id: str, *changes: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """``changes`` spread over ``entries`` entries (each entry gets its share)."""
    per = max(1, len(changes) // entries)
    grouped = [list(changes[i : i + per]) for i in range(0, len(changes), per)]
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": group} for group in grouped],
    }


def wa_contact(wa_id: str, name: str, bsuid: str | None = None) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": name}, "wa_id": wa_id}
    if bsuid:
        contact["user_id"] = bsuid
    return contact


def wa_text(
    wa_id: str, mid: str, text: str, *, ts: int | None = None, reply_to: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": wa_id,
        "id": mid,
        "timestamp": str(ts or now_s()),
        "type": "text",
        "text": {"body": text},
    }
    if reply_to:
        message["context"] = {"from": "15550001111", "id": reply_to}
    return message


def wa_media(
    wa_id: str,
    mid: str,
    kind: str,
    media_id: str,
    *,
    caption: str = "",
    mime: str = "image/png",
    filename: str | None = None,
) -> dict[str, Any]:
    media: dict[str, Any] = {"id": media_id, "mime_type": mime, "sha256": "x"}
    if caption:
        media["caption"] = caption
    if filename:
        media["filename"] = filename
    return {"from": wa_id, "id": mid, "timestamp": str(now_s()), "type": kind, kind: media}


def wa_status(mid: str, status: str, wa_id: str, *, code: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": mid,
        "status": status,
        "timestamp": str(now_s()),
        "recipient_id": wa_id,
    }
    if code is not None:
        item["errors"] = [{"code": code, "title": "Message failed to send"}]
    return item


# -- Messenger and Instagram -----------------------------------------------------------


def messaging_payload(
    platform: str, account: str, *events: dict[str, Any], entries: int = 1
) -> dict[str, Any]:
    per = max(1, len(events) // entries)
    grouped = [list(events[i : i + per]) for i in range(0, len(events), per)]
    return {
        "object": "page" if platform == "messenger" else "instagram",
        "entry": [{"id": account, "time": now_ms(), "messaging": group} for group in grouped],
    }


def m_text(
    psid: str,
    account: str,
    mid: str,
    text: str,
    *,
    reply_to: str | None = None,
    ts_ms: int | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid, "text": text, "nlp": {"future": "ignored"}}
    if reply_to:
        message["reply_to"] = {"mid": reply_to}
    return {
        "sender": {"id": psid},
        "recipient": {"id": account},
        "timestamp": ts_ms or now_ms(),
        "message": message,
    }


def m_attachment(psid: str, account: str, mid: str, kind: str, url: str) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": account},
        "timestamp": now_ms(),
        "message": {"mid": mid, "attachments": [{"type": kind, "payload": {"url": url}}]},
    }


def m_delivery(psid: str, account: str, mids: list[str]) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": account},
        "timestamp": now_ms(),
        "delivery": {"mids": mids, "watermark": now_ms()},
    }


def m_read(
    psid: str, account: str, *, mid: str | None = None, watermark_ms: int | None = None
) -> dict[str, Any]:
    read: dict[str, Any] = {"mid": mid} if mid else {"watermark": watermark_ms or now_ms()}
    return {
        "sender": {"id": psid},
        "recipient": {"id": account},
        "timestamp": now_ms(),
        "read": read,
    }
