"""Commands on one conversation never interleave: the races of issue 8, run for real.

Each race runs on SQLite and PostgreSQL, on one node and on two (two committers on
the same database, as two processes would have).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from raasel.actions import lifecycle, messages, receipts
from raasel.actions.assignment import do_claim
from raasel.actions.context import Services
from raasel.domain import MessageKind, Side
from raasel.errors import Conflict
from raasel.storage.database import Database
from raasel.storage.message_log import MessageLog
from raasel.storage.metadata import conversations
from raasel.storage.tenancy import CrossTenant
from tests.actions.conftest import Cast

INSPECT = CrossTenant("a test looks at the stored rows")

ROUNDS = 6


@pytest.fixture(params=["one-node", "two-nodes"])
async def other(request: pytest.FixtureRequest, services: Services) -> AsyncIterator[Services]:
    """The services of a second node (its own committer), or the same node again."""
    if request.param == "one-node":
        yield services
        return
    db = Database(services.db.url, window_ms=1)
    db.shares_messages = services.db.shares_messages
    node = replace(services, db=db, message_log=MessageLog(services.messages, db))
    try:
        yield node
    finally:
        await db.close()


async def _open(services: Services, cast: Cast, tag: str) -> str:
    opened = await lifecycle.do_open_conversation(
        services,
        cast.customer,
        org_id=cast.org_id,
        group_id=None,
        text="hi",
        client_id=f"open-{tag}",
        subject="",
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    await do_claim(services, cast.agent, cid)
    return cid


async def _all_messages(services: Services, cast: Cast, cid: str) -> list[dict[str, object]]:
    page = await messages.list_history(services, cast.agent, cid, before=None, limit=100)
    found: list[dict[str, object]] = page["messages"]
    return found


async def test_a_closed_conversation_never_takes_a_customer_message(
    services: Services, other: Services, cast: Cast
) -> None:
    for round_ in range(ROUNDS):
        cid = await _open(services, cast, f"close{round_}")
        results = await asyncio.gather(
            messages.do_send_message(
                services, cast.customer, cid, client_id=f"c{round_}", text="still there?"
            ),
            lifecycle.do_close(other, cast.agent, cid),
            return_exceptions=True,
        )
        sent, closed = results
        assert not isinstance(closed, BaseException), closed
        history = await _all_messages(services, cast, cid)
        closing = next(m for m in history if "closed the conversation" in str(m["text"]))
        late = [
            m
            for m in history
            if m["sender_side"] == Side.CUSTOMER
            and int(str(m["position"])) > int(str(closing["position"]))
        ]
        assert late == [], "a customer message was stored after the close"
        if isinstance(sent, BaseException):
            assert isinstance(sent, Conflict) and sent.code == "conversation_closed"
        positions = [int(str(m["position"])) for m in history]
        assert positions == list(range(1, len(history) + 1)), "positions are dense, in order"


async def test_concurrent_writes_into_a_resolved_conversation_all_succeed_and_reopen_once(
    services: Services, other: Services, cast: Cast
) -> None:
    for round_ in range(ROUNDS):
        cid = await _open(services, cast, f"reopen{round_}")
        await lifecycle.do_resolve(services, cast.agent, cid)
        first, second = await asyncio.gather(
            messages.do_send_message(
                services, cast.customer, cid, client_id=f"d1-{round_}", text="one more thing"
            ),
            messages.do_send_message(
                other, cast.customer, cid, client_id=f"d2-{round_}", text="and another"
            ),
        )
        assert first.result["id"] != second.result["id"]
        history = await _all_messages(services, cast, cid)
        reopened = [m for m in history if "reopened the conversation" in str(m["text"])]
        assert len(reopened) == 1
        view = await lifecycle.get_conversation(services, cast.customer, cid)
        assert view["status"] in ("queued", "active")


async def test_unread_counts_stay_exact_under_concurrent_send_and_read(
    services: Services, other: Services, cast: Cast
) -> None:
    cid = await _open(services, cast, "unread")
    for round_ in range(ROUNDS):
        sends = [
            messages.do_send_message(
                services if i % 2 else other,
                cast.customer,
                cid,
                client_id=f"u{round_}-{i}",
                text=f"m{i}",
            )
            for i in range(4)
        ]
        async with services.db.read(INSPECT) as conn:
            current = await conversations.find_conversation(conn, cid)
        assert current is not None
        read = receipts.do_mark(
            other, cast.agent, cid, field="read", up_to_position=current.last_position + 2
        )
        await asyncio.gather(*sends, read)
        history = await _all_messages(services, cast, cid)
        async with services.db.read(INSPECT) as conn:
            sides = await conversations.get_sides(conn, cid)
        org = sides[Side.ORG]
        expected = sum(
            1
            for m in history
            if m["sender_side"] == Side.CUSTOMER
            and m["kind"] == MessageKind.TEXT
            and int(str(m["position"])) > org.read_position
        )
        assert org.unread == expected, f"round {round_}: stored {org.unread}, true {expected}"
