"""Billing webhook events signed like the payment provider does (Stripe's scheme)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from tests.support.clients import Api
from tests.support.server import TEST_ENV

SECRET = TEST_ENV["RAASEL_BILLING_WEBHOOK_SECRET"]
WEBHOOK = "/api/v1/billing/webhook"


def subscription_event(
    kind: str,
    metadata: dict[str, str],
    *,
    status: str = "active",
    created: int | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": f"customer.subscription.{kind}",
        "created": created if created is not None else int(time.time()),
        "data": {"object": {"id": "sub_123", "status": status, "metadata": metadata}},
    }


def sign(payload: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    timestamp = at if at is not None else int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def deliver(api: Api, event: dict[str, Any], expect: int | None = 200, **sign_kw: Any) -> Any:
    payload = json.dumps(event).encode()
    return await api.call(
        "POST",
        WEBHOOK,
        expect=expect,
        content=payload,
        headers={"Stripe-Signature": sign(payload, **sign_kw), "Content-Type": "application/json"},
    )


async def make_plus(api: Api, user_id: str) -> None:
    answer = await deliver(api, subscription_event("created", {"raasel_user_id": user_id}))
    assert answer["outcome"] == "applied", answer


async def make_promoted(api: Api, org_id: str) -> None:
    answer = await deliver(api, subscription_event("created", {"raasel_org_id": org_id}))
    assert answer["outcome"] == "applied", answer
