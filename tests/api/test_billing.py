"""The billing webhook: signatures, replays, each event once, plans (SPEC 2.10)."""

from __future__ import annotations

import json
import time

from tests.support.billing import WEBHOOK, deliver, sign, subscription_event
from tests.support.clients import World


async def test_bad_signatures_and_stale_timestamps_are_refused(world: World) -> None:
    person = await world.individual()
    event = subscription_event("created", {"raasel_user_id": person.user_id})
    payload = json.dumps(event).encode()
    api = world.anonymous
    for headers in (
        {},
        {"Stripe-Signature": "t=1,v1=deadbeef"},
        {"Stripe-Signature": sign(payload, secret="whsec_someone_else")},
        {"Stripe-Signature": sign(payload, at=int(time.time()) - 3600)},  # a replay, too old
        {"Stripe-Signature": sign(payload + b" ")},  # the body was changed
    ):
        refused = await api.call("POST", WEBHOOK, expect=400, content=payload, headers=headers)
        assert refused["error"]["code"] == "invalid_signature", headers
    assert (await person.api.get("/api/v1/me/plan"))["plan"] == "free"


async def test_subscription_events_change_an_individuals_plan_once(world: World) -> None:
    person = await world.individual()
    api = world.anonymous
    created = subscription_event("created", {"raasel_user_id": person.user_id})
    assert (await deliver(api, created))["outcome"] == "applied"
    plan = await person.api.get("/api/v1/me/plan")
    assert plan["plan"] == "plus"
    assert plan["entitlements"]["search_groups_across_organizations"] is True

    # The same event again (a provider retry or a replay inside the window): nothing more.
    again = await deliver(api, created)
    assert again == {"received": True, "duplicate": True, "outcome": "duplicate"}

    deleted = subscription_event(
        "deleted", {"raasel_user_id": person.user_id}, created=created["created"] + 10
    )
    assert (await deliver(api, deleted))["outcome"] == "applied"
    assert (await person.api.get("/api/v1/me/plan"))["plan"] == "free"

    # A late, older "updated: active" must not undo the newer cancellation.
    late = subscription_event(
        "updated", {"raasel_user_id": person.user_id}, created=created["created"] + 5
    )
    assert (await deliver(api, late))["outcome"] == "stale"
    assert (await person.api.get("/api/v1/me/plan"))["plan"] == "free"

    unpaid = subscription_event(
        "updated",
        {"raasel_user_id": person.user_id},
        status="unpaid",
        created=created["created"] + 20,
    )
    assert (await deliver(api, unpaid))["outcome"] == "applied"
    history = (await person.api.get("/api/v1/me/plan"))["events"]
    assert [e["outcome"] for e in history] == ["applied", "applied", "stale", "applied"]


async def test_org_plans_are_promoted_by_events_and_visible_to_admins(world: World) -> None:
    tenant = await world.tenant(agents=1)
    api = world.anonymous
    event = subscription_event("created", {"raasel_org_id": tenant.org_id})
    assert (await deliver(api, event))["outcome"] == "applied"
    plan = await tenant.owner.api.get(f"/api/v1/orgs/{tenant.org_id}/plan")
    assert plan["plan"] == "promoted" and plan["events"][0]["event_id"] == event["id"]
    denied = await tenant.agents[0].api.get(f"/api/v1/orgs/{tenant.org_id}/plan", expect=403)
    assert denied["error"]["code"] == "forbidden"
    other = await world.tenant(agents=0)
    hidden = await other.owner.api.get(f"/api/v1/orgs/{tenant.org_id}/plan", expect=404)
    assert hidden["error"]["code"] == "not_found"
    audit = await tenant.owner.api.get(f"/api/v1/orgs/{tenant.org_id}/audit")
    assert any(entry["action"] == "plan.change" for entry in audit)


async def test_events_that_name_nobody_or_other_types_are_recorded_not_applied(
    world: World,
) -> None:
    api = world.anonymous
    unknown = subscription_event("created", {"raasel_org_id": "999999999999"})
    assert (await deliver(api, unknown))["outcome"] == "unknown_subject"
    invoice = subscription_event("created", {})
    invoice["type"] = "invoice.paid"
    assert (await deliver(api, invoice))["outcome"] == "ignored"
    bad_plan = subscription_event("created", {"raasel_user_id": "1", "raasel_plan": "gold"})
    assert (await deliver(api, bad_plan))["outcome"] == "ignored"
    malformed = b'{"id": 5}'
    refused = await api.call(
        "POST",
        WEBHOOK,
        expect=422,
        content=malformed,
        headers={"Stripe-Signature": sign(malformed)},
    )
    assert refused["error"]["code"] == "validation_error"
