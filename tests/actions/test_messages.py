"""Hot paths have fixed costs: statements per send and per history page."""

from __future__ import annotations

import pytest

from raasel.actions import lifecycle, messages
from raasel.actions.assignment import do_claim
from raasel.actions.context import Services
from raasel.domain import Side
from raasel.errors import Conflict
from tests.actions.conftest import Cast, Published, StatementCounter


async def open_with_history(services: Services, cast: Cast, length: int) -> str:
    opened = await lifecycle.do_open_conversation(
        services,
        cast.customer,
        org_id=cast.org_id,
        group_id=None,
        text="hi",
        client_id=f"open{length}",
        subject="",
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    for i in range(length):
        await messages.do_send_message(
            services, cast.customer, cid, client_id=f"h{length}-{i}", text=str(i)
        )
    return cid


async def test_send_costs_the_same_statements_whatever_the_history(
    services: Services, cast: Cast, published: Published
) -> None:
    costs = []
    for length in (3, 120):
        cid = await open_with_history(services, cast, length)
        await published.take()
        with StatementCounter(services) as counter:
            await messages.do_send_message(
                services, cast.customer, cid, client_id=f"probe{length}", text="x"
            )
        costs.append(counter.count)
        events = await published.take()
        assert [e.name for e in events] == ["message:new", "message:new", "unread:update"]
    assert costs[0] == costs[1]
    assert costs[0] <= 16, f"a send should stay a handful of statements, took {costs[0]}"


async def test_history_page_costs_the_same_statements_whatever_the_history(
    services: Services, cast: Cast
) -> None:
    costs = []
    for length in (30, 150):
        cid = await open_with_history(services, cast, length)
        with StatementCounter(services) as counter:
            page = await messages.list_history(services, cast.customer, cid, before=None, limit=20)
        assert len(page["messages"]) == 20 and page["has_more"]
        costs.append(counter.count)
    assert costs[0] == costs[1]


async def test_note_events_never_address_the_customer(
    services: Services, cast: Cast, published: Published
) -> None:
    cid = await open_with_history(services, cast, 0)
    await do_claim(services, cast.agent, cid)
    await published.take()
    await messages.do_send_message(
        services, cast.agent, cid, client_id="n1", text="internal", kind="note"
    )
    [event] = await published.take()
    assert event.name == "message:new"
    assert f"user:{cast.customer.user_id}" not in event.rooms
    assert set(event.rooms) == {
        f"leads:{cast.org_id}",
        f"group:{cast.group_id}",
        f"agent:{cast.org_id}:{cast.agent.user_id}",
    }
    await messages.do_send_message(services, cast.agent, cid, client_id="r1", text="public")
    reply = await published.take()
    to_customer = [e for e in reply if f"user:{cast.customer.user_id}" in e.rooms]
    assert [e.name for e in to_customer] == ["message:new"]
    # The customer's count rides on their copy; unread:update goes to the sockets that
    # did not declare the message_unread feature (the ~unread twin room).
    assert to_customer[0].payload["unread"] == {"side": Side.CUSTOMER, "unread": 1}
    assert f"user:{cast.customer.user_id}" not in reply[0].rooms  # the consoles' copy
    # The customer never saw the note: their copy points back past it.
    assert to_customer[0].payload["previous_position"] == to_customer[0].payload["position"] - 2
    unread = [e for e in reply if e.name == "unread:update"]
    assert unread[0].payload == {
        "conversation_id": cid,
        "side": Side.CUSTOMER,
        "unread": 1,
        "position": to_customer[0].payload["position"],
    }
    assert unread[0].rooms == (f"user:{cast.customer.user_id}~unread",)


async def test_retry_after_the_conversation_changed_returns_the_copy_and_changes_nothing(
    services: Services, cast: Cast, published: Published
) -> None:
    cid = await open_with_history(services, cast, 0)
    await do_claim(services, cast.agent, cid)
    first = await messages.do_send_message(
        services, cast.customer, cid, client_id="keep", text="once"
    )
    await lifecycle.do_resolve(services, cast.agent, cid)
    await published.take()
    # A retry into the resolved conversation does not reopen it...
    again = await messages.do_send_message(
        services, cast.customer, cid, client_id="keep", text="once"
    )
    assert again.result == first.result and await published.take() == []
    view = await lifecycle.get_conversation(services, cast.customer, cid)
    assert view["status"] == "resolved"
    # ...nor is a retry into a closed one refused; a new message is.
    await lifecycle.do_close(services, cast.agent, cid)
    closed_retry = await messages.do_send_message(
        services, cast.customer, cid, client_id="keep", text="once"
    )
    assert closed_retry.result["id"] == first.result["id"]
    with pytest.raises(Conflict) as refused:
        await messages.do_send_message(services, cast.customer, cid, client_id="new", text="hello?")
    assert refused.value.code == "conversation_closed"
