"""Directory search and the AI router over the API (SPEC 2.1), with plan entitlements."""

from __future__ import annotations

from typing import Any

from raasel.search import reranker
from tests.support.billing import make_plus, make_promoted
from tests.support.clients import Person, World, unique

GROUPS = [
    (
        "billing",
        "Billing",
        "Invoices, payments, refunds, double charges, card charged twice, receipts and "
        "subscription renewals.",
    ),
    (
        "tech",
        "Technical support",
        "Login problems, password resets, app crashes, error messages, bugs and installation.",
    ),
    (
        "delivery",
        "Deliveries",
        "Parcels that are late, lost or damaged, tracking numbers and delivery addresses.",
    ),
]


async def shop(world: World, *, name: str, tags: list[str], **extra: Any) -> dict[str, Any]:
    """A listed organization with three well described groups; returns it with its owner."""
    founder = await world.individual("Founder")
    slug = unique("shop")
    org = await founder.api.post(
        "/api/v1/orgs",
        {
            "slug": slug,
            "name": name,
            "description": f"{name} sells gadgets online.",
            "tags": tags,
            **extra,
        },
        expect=201,
    )
    owner = await world.login(founder.email, slug)
    groups = {}
    for group_slug, group_name, description in GROUPS:
        groups[group_slug] = await owner.api.post(
            f"/api/v1/orgs/{org['id']}/groups",
            {"slug": group_slug, "name": group_name, "description": description},
            expect=201,
        )
    # Routing only picks groups somebody is in (issue 12): the owner answers them all.
    every = await owner.api.get(f"/api/v1/orgs/{org['id']}/groups")
    await owner.api.patch(
        f"/api/v1/orgs/{org['id']}/members/{owner.user_id}",
        {"group_ids": [g["id"] for g in every]},
    )
    return {"org": org, "owner": owner, "groups": groups}


async def test_router_recommends_groups_inside_an_org_with_reasons(world: World) -> None:
    s = await shop(world, name="Gizmo Store", tags=["gadgets"])
    answer = await world.anonymous.post(
        "/api/v1/directory/route",
        {"text": "I was charged twice for my order", "org_id": s["org"]["id"]},
    )
    top = answer["groups"][0]
    assert top["group"]["id"] == s["groups"]["billing"]["id"]
    assert top["reason"].startswith("matches:") and "charge" in top["reason"].lower()
    assert 0 <= answer["groups"][1]["confidence"] < top["confidence"] <= 1
    assert len(answer["groups"]) == 3 and "orgs" not in answer
    assert answer["auto_route"] is (answer["confidence"] >= answer["threshold"])
    assert answer["threshold"] == reranker.shipped().threshold  # the reranker's, in an org

    crash = await world.anonymous.post(
        "/api/v1/directory/route",
        {"text": "the app crashes when i log in", "org_id": s["org"]["id"], "limit": 1},
    )
    assert [g["group"]["slug"] for g in crash["groups"]] == ["tech"]
    missing = await world.anonymous.post(
        "/api/v1/directory/route", {"text": "hello", "org_id": "999999999"}, expect=404
    )
    assert missing["error"]["code"] == "not_found"


async def test_searching_across_organizations_needs_plan_plus(world: World) -> None:
    s = await shop(world, name="Gadget Galaxy", tags=["electronics"])
    body = {"text": "my parcel arrived damaged"}
    anonymous = await world.anonymous.post("/api/v1/directory/route", body, expect=401)
    assert anonymous["error"]["code"] == "unauthenticated"
    person = await world.individual()
    for method, path, kwargs in (
        ("POST", "/api/v1/directory/route", {"json": body}),
        ("GET", "/api/v1/directory/groups", {"params": {"q": "damaged parcel"}}),
    ):
        refused = await person.api.call(method, path, expect=402, **kwargs)
        assert refused["error"]["code"] == "upgrade_required"

    await make_plus(world.anonymous, person.user_id)
    plus = await world.login(person.email)
    answer = await plus.api.post("/api/v1/directory/route", body | {"limit": 10})
    assert answer["orgs"] and answer["groups"]
    slugs = [(g["org"]["id"], g["group"]["slug"]) for g in answer["groups"]]
    assert (s["org"]["id"], "delivery") in slugs
    found = await plus.api.get("/api/v1/directory/groups", params={"q": "damaged parcel"})
    assert s["groups"]["delivery"]["id"] in [g["group"]["id"] for g in found]


async def test_search_ranks_filters_and_hides_unlisted(world: World) -> None:
    marker = unique("zq")  # a word only these organizations share
    free = await shop(world, name=f"Alpha {marker}", tags=[marker], languages=["en"])
    paid = await shop(
        world, name=f"Beta {marker}", tags=[marker], languages=["fr"], category="retail"
    )
    hidden = await shop(world, name=f"Gamma {marker}", tags=[marker], is_listed=False)
    found = await world.anonymous.get("/api/v1/directory/orgs", params={"q": marker})
    ids = [o["id"] for o in found]
    assert set(ids) == {free["org"]["id"], paid["org"]["id"]}, "unlisted never appear"
    assert all(o["groups"] and "score" in o and "reason" in o for o in found)
    assert all(o["matching_group"] is None for o in found), "a name is no need"
    need = await world.anonymous.get(
        "/api/v1/directory/orgs", params={"q": f"my card was charged twice {marker}"}
    )
    ours = [o for o in need if o["id"] in {free["org"]["id"], paid["org"]["id"]}]
    assert ours and all(o["matching_group"]["slug"] == "billing" for o in ours), need
    assert all(o["matching_group"]["id"] in {g["id"] for g in o["groups"]} for o in ours)

    # Equally relevant: the promoted one comes first.
    await make_promoted(world.anonymous, paid["org"]["id"])
    found = await world.anonymous.get("/api/v1/directory/orgs", params={"q": marker})
    assert found[0]["id"] == paid["org"]["id"] and found[0]["plan"] == "promoted"

    by_language = await world.anonymous.get(
        "/api/v1/directory/orgs", params={"q": marker, "language": "en"}
    )
    assert [o["id"] for o in by_language] == [free["org"]["id"]]
    by_category = await world.anonymous.get(
        "/api/v1/directory/orgs", params={"q": marker, "category": "retail"}
    )
    assert [o["id"] for o in by_category] == [paid["org"]["id"]]
    assert hidden["org"]["id"] not in ids


async def test_promoted_org_stays_below_a_clearly_more_relevant_one(world: World) -> None:
    marker = unique("zr")
    relevant = await shop(world, name=f"Refund Desk {marker}", tags=[marker, "refunds"])
    weak = await shop(world, name=f"Other {marker}", tags=[marker])
    await make_promoted(world.anonymous, weak["org"]["id"])
    found = await world.anonymous.get(
        "/api/v1/directory/orgs", params={"q": f"{marker} refund desk"}
    )
    assert found[0]["id"] == relevant["org"]["id"], found


async def open_without_group(person: Person, org_id: str, text: str) -> dict[str, Any]:
    opened = await person.api.post(
        "/api/v1/conversations",
        {"org_id": org_id, "text": text, "client_id": unique("c")},
        expect=201,
    )
    conversation: dict[str, Any] = opened["conversation"]
    return conversation


async def test_opening_without_a_group_routes_the_first_message(world: World) -> None:
    s = await shop(world, name="Routed Shop", tags=["gadgets"])
    customer = await world.individual()
    confident = await open_without_group(
        customer, s["org"]["id"], "refund please, my card was charged twice for one invoice"
    )
    assert confident["group_id"] == s["groups"]["billing"]["id"]
    assert confident["routing"]["is_auto_routed"] is True
    assert confident["routing"]["group"]["name"] == "Billing"
    assert confident["routing"]["reason"].startswith("matches:")

    vague = await open_without_group(customer, s["org"]["id"], "hello?")
    default = (await world.anonymous.get(f"/api/v1/directory/orgs/{s['org']['slug']}"))["groups"]
    general = next(g for g in default if g["is_default"])
    assert vague["group_id"] == general["id"]
    assert vague["routing"]["is_auto_routed"] is False
    assert vague["routing"]["group"]["name"] == general["name"]

    # A new group is routed to as soon as it exists (the index follows the directory)
    # and somebody is in it (issue 12: never a group nobody sees).
    new = await s["owner"].api.post(
        f"/api/v1/orgs/{s['org']['id']}/groups",
        {
            "slug": "warranty",
            "name": "Warranty",
            "description": "Warranty claims, broken screens, repairs and replacement devices.",
        },
        expect=201,
    )
    nobody = await open_without_group(
        customer, s["org"]["id"], "warranty claim for a broken screen, need a repair"
    )
    assert nobody["group_id"] != new["id"], "nobody is in Warranty yet"
    every = await s["owner"].api.get(f"/api/v1/orgs/{s['org']['id']}/groups")
    await s["owner"].api.patch(
        f"/api/v1/orgs/{s['org']['id']}/members/{s['owner'].user_id}",
        {"group_ids": [g["id"] for g in every]},
    )
    repaired = await open_without_group(
        customer, s["org"]["id"], "warranty claim for a broken screen, need a repair"
    )
    assert repaired["group_id"] == new["id"]


async def test_example_requests_of_a_group_are_kept_checked_and_routed_on(world: World) -> None:
    s = await shop(world, name="Widget Hall", tags=["widgets"])
    org_id, owner = s["org"]["id"], s["owner"]
    counter = await owner.api.post(
        f"/api/v1/orgs/{org_id}/groups",
        {"slug": "counter", "name": "Counter B", "description": "Front desk staff."},
        expect=201,
    )
    assert counter["examples"] == []
    examples = ["where do I pick up my click and collect order", "  ¿dónde recojo mi pedido?  "]
    changed = await owner.api.patch(
        f"/api/v1/orgs/{org_id}/groups/{counter['id']}", {"examples": examples}
    )
    assert changed["examples"] == [examples[0], "¿dónde recojo mi pedido?"]  # trimmed
    listed = await owner.api.get(f"/api/v1/orgs/{org_id}/groups")
    assert next(g for g in listed if g["id"] == counter["id"])["examples"] == changed["examples"]
    await owner.api.patch(
        f"/api/v1/orgs/{org_id}/members/{owner.user_id}",
        {"group_ids": [g["id"] for g in listed]},
    )
    answer = await world.anonymous.post(
        "/api/v1/directory/route",
        {"text": "came by to pick up my click and collect order", "org_id": org_id},
    )
    assert answer["groups"][0]["group"]["id"] == counter["id"]  # only its examples say so

    url = f"/api/v1/orgs/{org_id}/groups/{counter['id']}"
    for bad in (["x" * 301], ["ok?"] * 11, [""], "one string", [3]):
        await owner.api.patch(url, {"examples": bad}, expect=422)
    await owner.api.patch(url, {"examples": None}, expect=422)
    other = await shop(world, name="Other Hall", tags=["widgets"])
    await other["owner"].api.patch(url, {"examples": ["mine now"]}, expect=404)
    after = await owner.api.get(f"/api/v1/orgs/{org_id}/groups")
    assert next(g for g in after if g["id"] == counter["id"])["examples"] == changed["examples"]
