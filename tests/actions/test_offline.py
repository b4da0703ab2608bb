"""Business hours and offline handling (issue 12, item 3), time injected, never slept:
a conversation opened outside hours shows the offline message and the next opening, is
kept and queued, and is routed when the team opens; a visitor may leave an email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from raasel.actions import away, lifecycle, messages, offline, orgs, presence
from raasel.actions.auth import do_start_visitor
from raasel.actions.context import Actor, Services
from raasel.domain import Availability
from raasel.errors import Forbidden, NotFound
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Conversation
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx
from tests.actions.conftest import Cast

INSPECT = CrossTenant("a test looks at the stored rows")

SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOURS = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


async def with_hours(services: Services, cast: Cast, offline_message: str) -> None:
    async def work(conn: Tx) -> None:
        await organizations.update_group(
            conn, cast.org_id, cast.group_id, {"business_hours": HOURS | {"timezone": "UTC"}}
        )
        await organizations.update_org(
            conn, cast.org_id, {"settings": {"offline_message": offline_message}}
        )

    await services.db.write(work)


async def open_at(services: Services, cast: Cast, customer: Actor, at: datetime) -> dict[str, Any]:
    opened = await lifecycle.do_open_conversation(
        services,
        customer,
        org_id=cast.org_id,
        group_id=None,
        text="where is my parcel?",
        client_id=f"open-{at.isoformat()}",
        subject="",
        client_ip="127.0.0.1",
        now=at,
    )
    view: dict[str, Any] = opened.result["conversation"]
    return view


async def record(services: Services, conversation_id: str) -> Conversation:
    async with services.db.read(INSPECT) as conn:
        found = await conversations.find_conversation(conn, conversation_id)
    assert found is not None
    return found


async def test_outside_hours_the_customer_is_told_and_the_message_waits_for_opening(
    services: Services, cast: Cast
) -> None:
    await with_hours(services, cast, "We are closed for the weekend.")
    # The agent is online and connected on Saturday: a closed team still routes nothing.
    await presence.agent_connected(services, cast.agent)
    await presence.do_set_availability(services, cast.agent, Availability.ONLINE)
    view = await open_at(services, cast, cast.customer, SATURDAY_NOON)
    assert view["status"] == "queued" and view["routing"]["group"]["id"] == cast.group_id
    assert view["offline"] == {
        "reason": "closed",
        "message": "We are closed for the weekend.",
        "opens_at": MONDAY_9.isoformat(),
        "expected_reply_at": MONDAY_9.isoformat(),
        "can_leave_email": False,  # an account: replies go to its verified address
    }
    history = await messages.list_history(
        services, cast.customer, view["id"], before=None, limit=10
    )
    assert [m["text"] for m in history["messages"]] == ["where is my parcel?"], "kept"
    waiting = await record(services, view["id"])
    shown = await offline.notice_for_waiting(services, cast.customer, waiting, SATURDAY_NOON)
    assert shown is not None and shown["reason"] == "closed", "on every device, while it waits"

    # The groups' list says the team is closed (the console's queue shows it).
    [group] = await orgs.list_groups(services, cast.agent, cast.org_id)
    assert group["has_members"] is True and group["hours"]["timezone"] == "UTC"

    # Sunday: still closed, nothing moves; Monday 09:00 the team opens and it is routed.
    sunday = SATURDAY_NOON + timedelta(days=1)
    assert await away.route_opened_teams(services, SATURDAY_NOON, sunday) == 0
    assert await away.route_opened_teams(services, MONDAY_9 - timedelta(seconds=5), MONDAY_9) == 1
    async with services.db.read(INSPECT) as conn:
        found = await conversations.find_conversation(conn, view["id"])
    assert found is not None and (found.status, found.assignee_id) == (
        "active",
        cast.agent.user_id,
    )


async def test_inside_hours_with_nobody_online_the_customer_is_told_too(
    services: Services, cast: Cast
) -> None:
    await with_hours(services, cast, "")
    view = await open_at(services, cast, cast.customer, MONDAY_9 + timedelta(hours=1))
    assert view["status"] == "queued"
    assert view["offline"]["reason"] == "nobody_available"
    assert view["offline"]["opens_at"] is None
    assert view["offline"]["message"].startswith("Nobody can answer right now")


async def test_a_visitor_leaves_an_email_for_the_answers(services: Services, cast: Cast) -> None:
    await with_hours(services, cast, "Closed.")
    async with services.db.read(INSPECT) as conn:
        org = await organizations.get_org(conn, cast.org_id)
    assert org is not None
    session = await do_start_visitor(services, org.slug, "Vera", "127.0.0.1")
    visitor = Actor(session["user"]["id"], "visitor", "Vera", "sv", org_id=cast.org_id)
    view = await open_at(services, cast, visitor, SATURDAY_NOON)
    assert view["offline"]["can_leave_email"] is True
    left = await offline.do_leave_email(services, visitor, view["id"], "Vera@Example.com")
    assert left == {"conversation_id": view["id"], "contact_email": "vera@example.com"}
    async with services.db.read(INSPECT) as conn:
        user = await people.get_user(conn, visitor.user_id)
    assert user is not None and user.contact_email == "vera@example.com"
    waiting = await record(services, view["id"])
    shown = await offline.notice_for_waiting(services, visitor, waiting, SATURDAY_NOON)
    assert shown is not None and shown["can_leave_email"] is False, "asked once"
    # Only for their own conversation; accounts cannot use it.
    with pytest.raises(NotFound):
        await offline.do_leave_email(services, visitor, "123456", "x@example.com")
    with pytest.raises(Forbidden):
        await offline.do_leave_email(services, cast.customer, view["id"], "x@example.com")
