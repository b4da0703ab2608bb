"""Shared set-up for the social-channel tests: a node pointed at our fake Graph API, and
helpers to connect a channel and post signed webhooks to it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import channel_payloads as p
from tests.support.clients import Tenant, World, unique
from tests.support.fake_graph import FakeGraph


def graph_env(graph: FakeGraph) -> dict[str, str]:
    return {"RAASEL_GRAPH_BASE_URL": graph.base_url, "RAASEL_CHANNEL_POLL_SECONDS": "0.2"}


@dataclass
class Connected:
    tenant: Tenant
    view: dict[str, Any]
    platform: str
    account: str
    waba: str
    token: str
    app_secret: str
    verify_token: str

    @property
    def id(self) -> str:
        return str(self.view["id"])

    @property
    def hook(self) -> str:
        return f"/api/v1/channels/{self.id}/webhook"


def digits() -> str:
    return str(secrets.randbelow(10**14) + 10**14)


async def connect(world: World, tenant: Tenant, platform: str, **extra: Any) -> Connected:
    token = f"EAAG{secrets.token_hex(16)}"
    app_secret = f"appsecret{secrets.token_hex(12)}"
    verify = f"verify{secrets.token_hex(8)}"
    account, waba = digits(), digits()
    body = {
        "platform": platform,
        "name": f"{platform} line",
        "external_id": account,
        "access_token": token,
        "app_secret": app_secret,
        "verify_token": verify,
    } | extra
    if platform == "whatsapp":
        body["business_account_id"] = waba
    view = await tenant.owner.api.post(f"/api/v1/orgs/{tenant.org_id}/channels", body, expect=201)
    return Connected(tenant, view, platform, account, waba, token, app_secret, verify)


async def post(
    world: World, channel: Connected, payload: dict[str, Any] | bytes, **headers: str
) -> httpx.Response:
    body, signed_headers = p.signed(channel.app_secret, payload)
    return await world.anonymous.http.post(
        channel.hook, content=body, headers=signed_headers | headers
    )


async def settled(world: World, channel: Connected, within: float = 60) -> dict[str, int]:
    """Wait until the channel's webhook queue has nothing pending; its counts."""
    path = f"/api/v1/orgs/{channel.tenant.org_id}/channels/{channel.id}"
    deadline = asyncio.get_running_loop().time() + within
    while True:
        counts: dict[str, int] = (await channel.tenant.owner.api.get(path))["webhooks"]
        if not counts.get("pending"):
            return counts
        assert asyncio.get_running_loop().time() < deadline, counts
        await asyncio.sleep(0.05)


def text_payload(
    channel: Connected, contact: str, mid: str, text: str, **kw: Any
) -> dict[str, Any]:
    if channel.platform == "whatsapp":
        return p.wa_payload(
            channel.waba,
            p.wa_change(
                channel.account,
                contacts=[p.wa_contact(contact, f"Customer {contact[-4:]}")],
                messages=[p.wa_text(contact, mid, text, **kw)],
            ),
        )
    return p.messaging_payload(
        channel.platform, channel.account, p.m_text(contact, channel.account, mid, text, **kw)
    )


def status_payload(channel: Connected, contact: str, mid: str, status: str) -> dict[str, Any]:
    if channel.platform == "whatsapp":
        return p.wa_payload(
            channel.waba,
            p.wa_change(channel.account, statuses=[p.wa_status(mid, status, contact)]),
        )
    if status == "delivered":
        event = p.m_delivery(contact, channel.account, [mid])
    elif channel.platform == "instagram":
        event = p.m_read(contact, channel.account, mid=mid)
    else:
        event = p.m_read(contact, channel.account)  # Messenger: a watermark (now)
    return p.messaging_payload(channel.platform, channel.account, event)


def contact_id(channel: Connected) -> str:
    return digits() if channel.platform == "whatsapp" else unique("psid")


async def wait(predicate: Callable[[], Any], within: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)
