"""Organization administration: roles, groups, members, directory listing, audit log."""

from __future__ import annotations

import asyncio

from tests.support.billing import make_promoted
from tests.support.clients import World, unique


async def test_admin_actions_are_role_checked_and_audited(world: World) -> None:
    tenant = await world.tenant(agents=1)
    org = f"/api/v1/orgs/{tenant.org_id}"
    agent = tenant.agents[0]

    # Agents may read their organization but not change it.
    assert (await agent.api.get(org))["id"] == tenant.org_id
    denied = await agent.api.patch(org, {"name": "Hijacked"}, expect=403)
    assert denied["error"]["code"] == "forbidden"
    await agent.api.post(f"{org}/groups", {"slug": "xx", "name": "X"}, expect=403)
    await agent.api.get(f"{org}/audit", expect=403)

    updated = await tenant.owner.api.patch(
        org, {"description": "We help", "is_listed": False, "settings": {"theme_color": "#112233"}}
    )
    assert updated["is_listed"] is False and updated["settings"]["theme_color"] == "#112233"
    hits = await world.anonymous.get("/api/v1/directory/orgs", params={"q": tenant.org["slug"]})
    assert hits == [], "unlisted organizations never appear in the directory"
    assert (await world.anonymous.get(f"/api/v1/directory/orgs/{tenant.org['slug']}"))[
        "id"
    ] == tenant.org_id

    group = await tenant.owner.api.post(
        f"{org}/groups",
        {"slug": "vip", "name": "VIP", "description": "Big accounts", "policy": "least_busy"},
        expect=201,
    )
    dup = await tenant.owner.api.post(
        f"{org}/groups", {"slug": "vip", "name": "VIP again"}, expect=409
    )
    assert dup["error"]["code"] == "slug_taken"
    changed = await tenant.owner.api.patch(
        f"{org}/members/{agent.user_id}",
        {"capacity": 9, "role": "supervisor", "group_ids": [group["id"]]},
    )
    assert (changed["capacity"], changed["role"], changed["group_ids"]) == (
        9,
        "supervisor",
        [group["id"]],
    )

    # An admin manages agents but cannot make owners; the last owner cannot leave.
    admin_email = f"{unique('admin')}@example.com"
    admin = await world.invite(
        tenant.owner, tenant.org_id, admin_email, display_name="Ada", role="admin"
    )
    await admin.api.post(
        f"{org}/invitations",
        {"email": f"{unique('x')}@example.com", "display_name": "X", "role": "owner"},
        expect=403,
    )
    last = await tenant.owner.api.patch(
        f"{org}/members/{tenant.owner.user_id}", {"role": "admin"}, expect=409
    )
    assert last["error"]["code"] == "last_owner"

    # Deactivated members can no longer use their tokens.
    await admin.api.patch(f"{org}/members/{tenant.supervisor.user_id}", {"is_active": False})
    await tenant.supervisor.api.get("/api/v1/me", expect=401)

    entries = await admin.api.get(f"{org}/audit")
    actions = [e["action"] for e in entries]
    assert actions[:7] == [
        "member.update",
        "member.join",
        "member.invite",
        "member.update",
        "group.create",
        "org.update",
        "member.join",
    ]
    assert all(e["actor_id"] for e in entries) and entries[0]["target"] == tenant.supervisor.user_id
    members = await admin.api.get(f"{org}/members")
    assert {m["email"] for m in members} >= {admin_email, agent.email}


async def test_directory_search_matches_names_tags_and_group_descriptions(world: World) -> None:
    owner = await world.individual("Founder")
    slug = unique("parcel")
    org = await owner.api.post(
        "/api/v1/orgs",
        {
            "slug": slug,
            "name": "Swift Parcels",
            "description": "Deliveries",
            "tags": ["logistics"],
            "domains": [f"{slug}.example"],
        },
        expect=201,
    )
    member = await world.login(owner.email, slug)
    await member.api.post(
        f"/api/v1/orgs/{org['id']}/groups",
        {
            "slug": "lost",
            "name": "Lost parcels",
            "description": "Parcels that never arrived, damaged boxes, claims",
        },
        expect=201,
    )
    # Its claimed domain is not searched until proved (docs/security.md, item 5).
    for query in [slug, "swift parcels", "damaged boxes"]:
        found = await world.anonymous.get(
            "/api/v1/directory/orgs", params={"q": query, "limit": 50}
        )
        assert org["id"] in [o["id"] for o in found], query
    found = await world.anonymous.get(
        "/api/v1/directory/orgs", params={"q": f"{slug} quantum-physics"}
    )
    assert found == []


async def test_membership_changes_move_live_sockets_and_logout_drops_them(world: World) -> None:
    tenant = await world.tenant(agents=1)
    agent = tenant.agents[0]
    console = await world.socket(agent)
    billing = tenant.groups["billing"]["id"]
    await tenant.owner.api.patch(
        f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}", {"group_ids": [billing]}
    )
    update = await console.wait_for("session:updated", within=5)
    assert update == {"org_id": tenant.org_id, "role": "agent", "group_ids": [billing]}
    assert console.sio.connected, "a changed membership moves the console, no reconnect"
    await tenant.owner.api.patch(
        f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}", {"is_active": False}
    )
    await console.wait_for("session:ended", lambda d: d["reason"] == "membership_ended")
    for _ in range(50):
        if not console.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not console.sio.connected, "a deactivated member's consoles are dropped"
    customer = await world.individual()
    device = await world.socket(customer)
    await customer.api.post("/api/v1/auth/logout", expect=204)
    for _ in range(50):
        if not device.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not device.sio.connected, "logout ends the session's sockets"
    assert device.received("session:ended") == [{"reason": "logged_out"}]


async def test_what_members_do_to_conversations_is_audited_in_sentences(world: World) -> None:
    """Issue 13, item 8: assignments, transfers, resolutions and plan changes are in the
    audit log itself, written in the command's own unit, read as sentences with names."""
    tenant = await world.tenant(policy="manual", agents=2)
    first, second = tenant.agents
    customer = await world.individual("Chris")
    opened = await customer.open_conversation(tenant, text="my invoice", group="support")
    cid = opened["conversation"]["id"]
    conversation = f"/api/v1/conversations/{cid}"
    await first.api.post(f"{conversation}/claim")
    await tenant.supervisor.api.post(f"{conversation}/assign", {"agent_id": second.user_id})
    await second.api.post(f"{conversation}/transfer", {"group_id": tenant.groups["billing"]["id"]})
    await tenant.supervisor.api.post(f"{conversation}/claim")
    await tenant.supervisor.api.post(f"{conversation}/resolve")
    await tenant.supervisor.api.post(f"{conversation}/reopen")
    await customer.api.post(f"{conversation}/close")  # the customer's own: not audited
    await make_promoted(world.anonymous, tenant.org_id)

    entries = await tenant.owner.api.get(f"/api/v1/orgs/{tenant.org_id}/audit")
    told = [
        (e["action"], e["summary"])
        for e in entries
        if e["action"].startswith("conversation.") or e["action"] == "plan.change"
    ]
    what = "Chris's conversation “my invoice”"
    assert told == [
        ("plan.change", "A payment changed the plan to promoted."),
        ("conversation.reopen", f"Supervisor 0 reopened {what}."),
        ("conversation.resolve", f"Supervisor 0 resolved {what} (assigned to Supervisor 0)."),
        ("conversation.claim", f"Supervisor 0 took {what} from the queue of Billing."),
        ("conversation.transfer", f"Agent 2 transferred {what} to the queue of Billing."),
        ("conversation.assign", f"Supervisor 0 assigned {what} to Agent 2 (was Agent 1)."),
        ("conversation.claim", f"Agent 1 took {what} from the queue of Support."),
    ]
    assert all(e["target"] == cid for e in entries if e["action"].startswith("conversation."))
    assert {e["actor_name"] for e in entries if e["action"] == "conversation.claim"} == {
        "Agent 1",
        "Supervisor 0",
    }
    # Another organization's log has none of it.
    other = await world.tenant(agents=0)
    theirs = await other.owner.api.get(f"/api/v1/orgs/{other.org_id}/audit")
    assert not [e for e in theirs if e["target"] == cid]
