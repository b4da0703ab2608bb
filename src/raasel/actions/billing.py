"""Plans and the billing webhook (SPEC 2.10).

The payment provider (Stripe's scheme) calls ``POST /api/v1/billing/webhook``. We check
its ``Stripe-Signature`` (HMAC-SHA256 over ``timestamp.payload`` with the shared secret,
timestamp within the tolerance window) with the ``stripe`` package, record each event id
once (a replay of a valid event changes nothing), and map subscription events to plans:

- ``customer.subscription.created|updated`` with status ``active``, ``trialing`` or
  ``past_due`` (the provider's grace period) -> the paid plan; any other status -> free;
- ``customer.subscription.deleted`` -> free.

The subscription's ``metadata`` names the subject: ``raasel_org_id`` (plan ``promoted``)
or ``raasel_user_id`` (plan ``plus``); ``raasel_plan`` may name the plan explicitly.
An event older than the newest one already applied to the same subject is recorded as
``stale`` and changes nothing, so out-of-order deliveries cannot undo a newer state.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import audit
from raasel.actions.access import require_role
from raasel.actions.context import Actor, Services
from raasel.domain import Plan, Role, UserKind
from raasel.errors import InvalidSignature, NotFound, Unavailable, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.storage.metadata import billing, organizations, people

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
PAYING_STATUSES = frozenset({"active", "trialing", "past_due"})
PLANS = {"org": (Plan.FREE, Plan.PROMOTED), "user": (Plan.FREE, Plan.PLUS)}
PAID = {"org": Plan.PROMOTED, "user": Plan.PLUS}
BILLING_ACTOR = "billing"


def verify_event(
    payload: bytes, signature: str | None, secret: str, tolerance: int
) -> dict[str, Any]:
    """The event, if the signature is the provider's and recent; else InvalidSignature."""
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=tolerance
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature("bad or expired billing signature") from exc
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # deeply nested: refused, not a crash
        raise ValidationFailed("the event is not JSON (or is nested too deeply)") from exc
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= 255
        and isinstance(event.get("type"), str)
        and len(event["type"]) <= 64
        and isinstance(event.get("created"), int)
        and not isinstance(event.get("created"), bool)
        and 0 <= event["created"] < 2**33
    ):
        raise ValidationFailed("the event lacks id, type or created")
    return event


def _subject(event: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, id, paid plan) named by the subscription's metadata, or None."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(metadata, dict):
        return None
    for kind, key in (("org", "raasel_org_id"), ("user", "raasel_user_id")):
        subject_id = metadata.get(key)
        if isinstance(subject_id, str) and subject_id.isdigit() and len(subject_id) <= 20:
            plan = metadata.get("raasel_plan", PAID[kind])
            if plan not in PLANS[kind]:
                return None
            return kind, subject_id, str(plan)
    return None


def _target_plan(event: dict[str, Any], paid_plan: str) -> str:
    if event["type"] == "customer.subscription.deleted":
        return Plan.FREE
    status = event["data"]["object"].get("status")
    return paid_plan if status in PAYING_STATUSES else Plan.FREE


async def do_process_billing_event(
    svc: Services, payload: bytes, signature: str | None
) -> dict[str, Any]:
    """Verify, record once, and apply one webhook event. Returns what happened."""
    secret = svc.settings.billing_webhook_secret
    if not secret:
        raise Unavailable("billing is not configured on this node")
    event = verify_event(payload, signature, secret, svc.settings.billing_webhook_tolerance_seconds)
    created = datetime.fromtimestamp(event["created"], UTC)

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        subject = _subject(event) if event["type"] in SUBSCRIPTION_EVENTS else None
        outcome, plan = "ignored", None
        if subject is not None:
            kind, subject_id, paid_plan = subject
            if not await _subject_exists(conn, kind, subject_id):
                outcome = "unknown_subject"
            else:
                newest = await billing.newest_applied(conn, kind, subject_id)
                if newest is not None and newest > created:
                    outcome = "stale"
                else:
                    outcome, plan = "applied", _target_plan(event, paid_plan)
        try:
            async with conn.begin_nested():
                await billing.insert_event(
                    conn,
                    {
                        "event_id": event["id"],
                        "event_type": event["type"],
                        "subject_kind": subject[0] if subject else None,
                        "subject_id": subject[1] if subject else None,
                        "plan": plan,
                        "outcome": outcome,
                        "event_created": created,
                        "processed_at": utcnow(),
                    },
                )
        except IntegrityError:
            return {"received": True, "duplicate": True, "outcome": "duplicate"}
        if subject is not None and plan is not None:
            await _apply_plan(conn, subject[0], subject[1], plan, BILLING_ACTOR, event["id"])
        return {"received": True, "duplicate": False, "outcome": outcome}

    return await svc.db.write(work)


async def _subject_exists(conn: AsyncConnection, kind: str, subject_id: str) -> bool:
    if kind == "org":
        return await organizations.get_org(conn, subject_id) is not None
    user = await people.get_user(conn, subject_id)
    return user is not None and user.kind == UserKind.PERSON


async def _apply_plan(
    conn: AsyncConnection, kind: str, subject_id: str, plan: str, actor_id: str, source: str
) -> None:
    if kind == "org":
        await organizations.update_org(conn, subject_id, {"plan": plan})
        # The audit entry also tells every node's directory index to refresh.
        await audit.record(
            conn, subject_id, actor_id, "plan.change", subject_id, {"plan": plan, "source": source}
        )
    else:
        await people.update_user(conn, subject_id, {"plan": plan})


async def org_plan(svc: Services, actor: Actor, org_id: str) -> dict[str, Any]:
    """An organization's plan and its billing history (owners and admins)."""
    require_role(actor, org_id, Role.ADMIN)
    async with svc.db.read(actor.scope) as conn:
        org = await organizations.get_org(conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        events = await billing.events_of(conn, "org", org_id, 20)
    return {"org_id": org_id, "plan": org.plan, "events": [_event_view(e) for e in events]}


async def my_plan(svc: Services, actor: Actor) -> dict[str, Any]:
    """The caller's own plan and what it entitles them to."""
    async with svc.db.read(actor.scope) as conn:
        user = await people.get_user(conn, actor.user_id)
        events = await billing.events_of(conn, "user", actor.user_id, 20)
    if user is None:
        raise NotFound("account not found")
    return {
        "plan": user.plan,
        "entitlements": {"search_groups_across_organizations": user.plan == Plan.PLUS},
        "events": [_event_view(e) for e in events],
        # What the app's plan page offers (RAASEL_PLUS_CHECKOUT_URL; None: not on sale here).
        "plus": {
            "checkout_url": svc.settings.plus_checkout_url or None,
            "gives": [
                "recommended teams across every organization for what you need",
                "search every organization's teams by what they handle",
            ],
        },
    }


def _event_view(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event["event_id"],
        "type": event["event_type"],
        "plan": event["plan"],
        "outcome": event["outcome"],
        "created": event["event_created"].isoformat(),
        "processed_at": event["processed_at"].isoformat(),
    }


async def do_set_plan_cli(
    svc: Services, *, org_slug: str | None, email: str | None, plan: str
) -> str:
    """The node operator sets a plan by hand (``raasel set-plan``); audited for orgs."""

    async def work(conn: AsyncConnection) -> str:
        if org_slug is not None:
            org = await organizations.get_org_by_slug(conn, org_slug)
            if org is None:
                raise NotFound(f"no organization {org_slug}")
            if plan not in PLANS["org"]:
                raise ValidationFailed("an organization's plan is free or promoted")
            await _apply_plan(conn, "org", org.id, plan, "operator", "cli")
            return f"organization {org_slug}: {plan}"
        user = await people.get_user_by_email(conn, (email or "").lower())
        if user is None:
            raise NotFound(f"no account {email}")
        if plan not in PLANS["user"]:
            raise ValidationFailed("an individual's plan is free or plus")
        await _apply_plan(conn, "user", user.id, plan, "operator", "cli")
        return f"account {email}: {plan}"

    return await svc.db.write(work)
