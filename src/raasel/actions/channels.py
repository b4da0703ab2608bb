"""Connecting social channels (admins): a WhatsApp number, a Facebook Page, an Instagram
account (docs/channels.md). Secrets are sealed before they are written and never shown
again: a view says only which of them are set."""

from __future__ import annotations

import secrets as random
from typing import Any

import structlog

from raasel.actions import audit
from raasel.actions.access import access_group, require_role
from raasel.actions.channel_keys import SECRET_FIELDS
from raasel.actions.channel_runtime import runtime_of
from raasel.actions.context import Actor, Services
from raasel.channels.platforms import LABEL, Platform
from raasel.domain import Role
from raasel.errors import Conflict, NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.storage.metadata import channels as store
from raasel.storage.transaction import Tx, UniqueViolation

log = structlog.get_logger(__name__)

STATUSES = ("active", "token_expired", "disabled", "deleted")


def new_channel_id() -> str:
    """96 random bits: the id is in the webhook's URL, so it must not be guessable."""
    return random.token_hex(12)


def channel_view(svc: Services, channel: store.Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "org_id": channel.org_id,
        "platform": channel.platform,
        "platform_label": LABEL[Platform(channel.platform)],
        "name": channel.name,
        "external_id": channel.external_id,
        "business_account_id": channel.business_account_id,
        "group_id": channel.group_id,
        "throughput_per_second": channel.throughput_per_second,
        "status": channel.status,
        "last_error": channel.last_error,
        # Set, never shown: the API has no way to read a secret back.
        "secrets": {field: True for field in SECRET_FIELDS},
        "webhook_url": f"{svc.settings.resolved_public_url}/api/v1/channels/{channel.id}/webhook",
        "created_at": channel.created_at.isoformat(),
        "updated_at": channel.updated_at.isoformat(),
    }


async def do_create_channel(
    svc: Services, actor: Actor, org_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    require_role(actor, org_id, Role.ADMIN)
    keys = runtime_of(svc).secrets
    platform = fields["platform"]
    if platform == Platform.WHATSAPP and not fields.get("business_account_id"):
        raise ValidationFailed("a WhatsApp channel needs its business account id (WABA id)")
    channel_id = new_channel_id()
    now = utcnow()

    async def work(conn: Tx) -> store.Channel:
        if fields.get("group_id"):
            await access_group(conn, org_id, fields["group_id"])
        sealed = await keys.seal_fields(
            conn, org_id, channel_id, {f: fields[f] for f in SECRET_FIELDS}
        )
        values = {
            "id": channel_id,
            "org_id": org_id,
            "platform": platform,
            "name": fields["name"],
            "external_id": fields["external_id"],
            "business_account_id": fields.get("business_account_id"),
            "group_id": fields.get("group_id"),
            "throughput_per_second": fields.get("throughput_per_second") or 20,
            "status": "active",
            "last_error": None,
            "created_at": now,
            "updated_at": now,
            **sealed,
        }
        try:
            async with conn.begin_nested():
                await store.insert_channel(conn, values)
        except UniqueViolation as exc:
            raise Conflict("this account is connected already", code="channel_exists") from exc
        await audit.record(
            conn, org_id, actor.user_id, "channel.create", channel_id, {"platform": platform}
        )
        found = await store.get_channel(conn, channel_id, org_id=org_id)
        assert found is not None
        return found

    return channel_view(svc, await svc.db.write(work))


async def do_update_channel(
    svc: Services, actor: Actor, org_id: str, channel_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Rename, re-route, change the throughput, enable/disable, or replace secrets (a new
    token revives a channel whose token expired and retries its waiting replies)."""
    require_role(actor, org_id, Role.ADMIN)
    runtime = runtime_of(svc)
    now = utcnow()

    async def work(conn: Tx) -> store.Channel:
        channel = await store.get_channel(conn, channel_id, org_id=org_id)
        if channel is None or channel.status == "deleted":
            raise NotFound("channel not found")
        values: dict[str, Any] = {"updated_at": now}
        for name in ("name", "throughput_per_second"):
            if changes.get(name) is not None:
                values[name] = changes[name]
        if "group_id" in changes:
            if changes["group_id"] is not None:
                await access_group(conn, org_id, changes["group_id"])
            values["group_id"] = changes["group_id"]
        given = {f: changes[f] for f in SECRET_FIELDS if changes.get(f)}
        if given:
            # Re-seal all three under the newest data key (one key version per row).
            current = {f: await runtime.secrets.open_field(conn, channel, f) for f in SECRET_FIELDS}
            values |= await runtime.secrets.seal_fields(conn, org_id, channel_id, current | given)
        if changes.get("is_enabled") is False:
            values["status"] = "disabled"
        elif changes.get("is_enabled") is True or "access_token" in given:
            values |= {"status": "active", "last_error": None}
        await store.update_channel(conn, org_id, channel_id, values)
        if values.get("status") == "active":
            await store.wake_channel(conn, channel_id, now)
        await audit.record(
            conn,
            org_id,
            actor.user_id,
            "channel.update",
            channel_id,
            {"fields": sorted(k for k in changes if changes[k] is not None)},
        )
        found = await store.get_channel(conn, channel_id, org_id=org_id)
        assert found is not None
        return found

    updated = await svc.db.write(work)
    runtime.wake_outbound()
    return channel_view(svc, updated)


async def list_channels(svc: Services, actor: Actor, org_id: str) -> list[dict[str, Any]]:
    require_role(actor, org_id, Role.ADMIN)
    async with svc.db.read(actor.scope) as conn:
        found = await store.list_channels(conn, org_id)
    return [channel_view(svc, c) for c in found]


async def get_channel(svc: Services, actor: Actor, org_id: str, channel_id: str) -> dict[str, Any]:
    require_role(actor, org_id, Role.ADMIN)
    async with svc.db.read(actor.scope) as conn:
        channel = await store.get_channel(conn, channel_id, org_id=org_id)
        if channel is None or channel.status == "deleted":
            raise NotFound("channel not found")
        queue = await store.webhook_counts(conn, channel_id)
    return channel_view(svc, channel) | {"webhooks": queue}


async def do_delete_channel(svc: Services, actor: Actor, org_id: str, channel_id: str) -> None:
    """Disconnect a channel (admins): its token, app secret and verify token are destroyed
    (the sealed values overwritten, not kept), its webhook refuses every call, deliveries
    not yet processed are dropped, and nothing more is sent. Its conversations stay in the
    inbox with their history; the account may be connected again as a new channel."""
    require_role(actor, org_id, Role.ADMIN)
    now = utcnow()

    async def work(conn: Tx) -> int:
        channel = await store.get_channel(conn, channel_id, org_id=org_id)
        if channel is None or channel.status == "deleted":
            raise NotFound("channel not found")
        await store.update_channel(
            conn,
            org_id,
            channel_id,
            {
                "status": "deleted",
                "last_error": "disconnected by an admin",
                # Frees the account (unique per platform) for a new connection.
                "external_id": f"~{channel_id}",
                "business_account_id": None,
                "access_token_sealed": "",
                "app_secret_sealed": "",
                "verify_token_sealed": "",
                "updated_at": now,
            },
        )
        dropped = await store.drop_pending_webhooks(
            conn, channel_id, now, "the channel was disconnected"
        )
        await audit.record(
            conn,
            org_id,
            actor.user_id,
            "channel.delete",
            channel_id,
            {"platform": channel.platform, "external_id": channel.external_id},
        )
        return dropped

    dropped = await svc.db.write(work)
    log.info("channel deleted", channel_id=channel_id, dropped_webhooks=dropped)
