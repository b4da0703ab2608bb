"""The directory actions in process: the demo's directory, routing, plans set by the
operator, and the index following changes."""

from __future__ import annotations

import pytest

from raasel.actions import directory
from raasel.actions.billing import do_set_plan_cli
from raasel.actions.context import Services
from raasel.actions.demo import seed_demo
from raasel.errors import NotFound, ValidationFailed


async def test_demo_directory_search_route_and_operator_plans(services: Services) -> None:
    assert await seed_demo(services)
    listed = await directory.search_directory(services, "", 50)
    slugs = {o["slug"] for o in listed}
    assert "acme" in slugs and "northwind-bank" in slugs and len(slugs) == 25
    assert listed[0]["plan"] == "promoted"  # an empty query lists promoted ones first

    acme = next(o for o in listed if o["slug"] == "acme")
    answer = await directory.recommend(
        services, None, "I was charged twice for my order", org_id=acme["id"], limit=3
    )
    assert answer["groups"][0]["group"]["slug"] == "billing"

    flights = await directory.search_directory(services, "my flight was cancelled", 5)
    assert flights[0]["slug"] == "aeroverde-airlines"
    assert flights[0]["reason"].startswith("matches:")

    # The operator promotes an organization: the next search sees it (no restart).
    before = await directory.search_directory(services, "parcel", 5)
    swift = next(o for o in before if o["slug"] == "swiftparcel")
    assert swift["plan"] == "free"
    assert "promoted" in await do_set_plan_cli(
        services, org_slug="swiftparcel", email=None, plan="promoted"
    )
    index = await directory.current_index(services)
    assert index.orgs[index.org_position[swift["id"]]].plan == "promoted"

    assert "plus" in await do_set_plan_cli(
        services, org_slug=None, email="customer@example.com", plan="plus"
    )
    with pytest.raises(ValidationFailed):
        await do_set_plan_cli(services, org_slug="acme", email=None, plan="plus")
    with pytest.raises(NotFound):
        await do_set_plan_cli(services, org_slug=None, email="nobody@example.com", plan="plus")
