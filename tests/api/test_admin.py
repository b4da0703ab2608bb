"""Organization administration: roles, groups, members, directory listing, audit log."""

from __future__ import annotations

import asyncio

from tests.support.clients import PASSWORD, World, unique


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
    await tenant.owner.api.post(
        f"{org}/members",
        {"email": admin_email, "display_name": "Ada", "password": PASSWORD, "role": "admin"},
        expect=201,
    )
    admin = await world.login(admin_email, tenant.org["slug"])
    await admin.api.post(
        f"{org}/members",
        {
            "email": f"{unique('x')}@example.com",
            "display_name": "X",
            "password": PASSWORD,
            "role": "owner",
        },
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
    assert actions[:6] == [
        "member.update",
        "member.create",
        "member.update",
        "group.create",
        "org.update",
        "member.create",
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
    for query in [slug, f"{slug}.example", "swift parcels", "damaged boxes"]:
        found = await world.anonymous.get(
            "/api/v1/directory/orgs", params={"q": query, "limit": 50}
        )
        assert org["id"] in [o["id"] for o in found], query
    found = await world.anonymous.get(
        "/api/v1/directory/orgs", params={"q": f"{slug} quantum-physics"}
    )
    assert found == []


async def test_logout_and_membership_changes_disconnect_live_sockets(world: World) -> None:
    tenant = await world.tenant(agents=1)
    agent = tenant.agents[0]
    console = await world.socket(agent)
    await tenant.owner.api.patch(
        f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}",
        {"group_ids": [tenant.groups["billing"]["id"]]},
    )
    for _ in range(50):
        if not console.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not console.sio.connected, "a changed membership must reconnect the console"
    customer = await world.individual()
    device = await world.socket(customer)
    await customer.api.post("/api/v1/auth/logout", expect=204)
    for _ in range(50):
        if not device.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not device.sio.connected, "logout ends the session's sockets"
