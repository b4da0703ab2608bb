"""A channel's webhook: the subscription check (GET) and deliveries (POST).

A delivery is verified (``X-Hub-Signature-256`` over the raw body, constant time) before
a byte of it is parsed, then stored in the durable queue (``channel_webhooks``) and
only then answered 200: a node killed after the answer has it on disk, and the next
start (or another node) processes it (actions/channel_inbound_queue.py). The very same body
delivered again (a replay, or Meta retrying) is stored once.
"""

from __future__ import annotations

import hashlib
from typing import Any

import structlog

from raasel.actions.channel_runtime import runtime_of
from raasel.actions.context import Services
from raasel.channels.payloads import contact_keys
from raasel.channels.signature import SignatureProblem, check_signature
from raasel.errors import Forbidden, InvalidSignature, NotFound
from raasel.lib.clock import utcnow
from raasel.lib.secret_box import constant_time_equal
from raasel.storage.metadata import channels as store
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx

_SCOPE = CrossTenant("a social platform's webhook, before its organization is known")

log = structlog.get_logger(__name__)


async def verify_subscription(
    svc: Services, channel_id: str, mode: str | None, token: str | None, challenge: str | None
) -> str:
    """Meta's GET: answer ``hub.challenge`` if ``hub.verify_token`` is the channel's."""
    secrets = runtime_of(svc).secrets
    async with svc.db.read(_SCOPE) as conn:
        channel = await store.get_channel(conn, channel_id)
        if channel is None or channel.status in ("disabled", "deleted"):
            raise NotFound("channel not found")
        expected = await secrets.open_field(conn, channel, "verify_token")
    if mode != "subscribe" or not token or not constant_time_equal(token, expected):
        log.warning("webhook verification refused", channel_id=channel_id)
        raise Forbidden("the verify token does not match", code="invalid_verify_token")
    return challenge or ""


async def do_receive_webhook(
    svc: Services, channel_id: str, body: bytes, signature: str | None
) -> dict[str, Any]:
    runtime = runtime_of(svc)
    async with svc.db.read(_SCOPE) as conn:
        channel = await store.get_channel(conn, channel_id)
        if channel is None or channel.status in ("disabled", "deleted"):
            raise NotFound("channel not found")
        app_secret = await runtime.secrets.open_field(conn, channel, "app_secret")
    try:
        check_signature(app_secret, body, signature)
    except SignatureProblem as exc:
        log.warning("webhook refused", channel_id=channel_id, reason=exc.code)
        raise InvalidSignature(exc.message, code=exc.code) from exc
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignature("the body is not UTF-8", code="malformed_payload") from exc
    now = utcnow()
    values = {
        "channel_id": channel_id,
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body": text,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_by": None,
        "last_error": None,
        "received_at": now,
        "processed_at": None,
        # Read here, after the signature: the queue keeps each contact's order by it.
        "contact_keys": "\n".join(contact_keys(channel.platform, text)) or None,
    }

    async def work(conn: Tx) -> bool:
        return await store.enqueue_webhook(conn, values)

    is_new = await svc.db.write(work)  # on disk before the 200
    if is_new:
        runtime.wake_inbound()
    else:
        log.info("webhook replayed: stored once", channel_id=channel_id)
    return {"received": True, "duplicate": not is_new}
