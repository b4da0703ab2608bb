"""Row-level security for the second organization of a ``b2b`` conversation
(storage/b2b_ddl.py): the peer's reader sees the conversation and its messages, which
are rows of the opener's partition; a third organization sees none of them; the peer's
group and assignee must be the peer's own (composite keys).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from raasel.actions import b2b, messages
from raasel.actions.context import Services
from raasel.domain import MessageKind
from raasel.storage import schema
from raasel.storage.metadata import conversations
from tests.storage.test_tenancy import EVERYTHING, _rows, _tenant, services

__all__ = ["services"]


async def _list(svc: Services, org_id: str) -> None:
    """Only the directory's organizations take b2b conversations."""
    listed = update(schema.organizations).where(schema.organizations.c.id == org_id)
    await svc.db.write(lambda conn: conn.execute(listed.values(is_listed=True)))


async def test_the_peer_reads_through_its_policy_and_a_third_sees_nothing(
    services: Services,
) -> None:
    a, b, c = [await _tenant(services, tag) for tag in ("alpha", "beta", "gamma")]
    await _list(services, b.org_id)
    opened = await b2b.do_open_b2b(
        services,
        a.agent,
        peer_org_id=b.org_id,
        peer_group_id=None,
        subject="Invoice",
        text="hello B",
        client_id="b2b-1",
    )
    cid = opened.result["conversation"]["id"]
    await messages.do_send_message(
        services, a.agent, cid, client_id="n1", text="A's note", kind=MessageKind.NOTE
    )
    await messages.do_send_message(services, b.agent, cid, client_id="r1", text="hello A")
    await services.db.drain_published()

    everything = await _rows(services, EVERYTHING)
    assert len([m for m in everything["messages"] if m["conversation_id"] == cid]) >= 3

    peer = await _rows(services, b.agent.scope)
    assert cid in [r["id"] for r in peer["conversations"]]
    assert {r["side"] for r in peer["conversation_sides"] if r["conversation_id"] == cid} == {
        "org",
        "peer",
    }
    assert len([m for m in peer["messages"] if m["conversation_id"] == cid]) >= 3
    # Nothing else of A's partition: A's customer conversation stays A's.
    assert a.conversation_id not in [r["id"] for r in peer["conversations"]]
    assert not [m for m in peer["messages"] if m["conversation_id"] == a.conversation_id]

    for outsider in (c.agent, c.customer, b.customer):
        seen = await _rows(services, outsider.scope)
        assert cid not in [r["id"] for r in seen["conversations"]], outsider
        leaked = [
            t for t, rows in seen.items() if any(r.get("conversation_id") == cid for r in rows)
        ]
        assert leaked == [], outsider
    async with services.db.read(c.agent.scope) as conn:
        assert await conversations.find_conversation(conn, cid) is None
    async with services.db.read(b.agent.scope) as conn:
        assert await conversations.find_conversation(conn, cid, peer_org_id=b.org_id)


async def test_the_peer_side_holds_only_the_peers_group_and_members(services: Services) -> None:
    a, b, c = [await _tenant(services, tag) for tag in ("alpha", "beta", "gamma")]
    await _list(services, b.org_id)
    opened = await b2b.do_open_b2b(
        services,
        a.agent,
        peer_org_id=b.org_id,
        peer_group_id=None,
        subject="Invoice",
        text="hello B",
        client_id="b2b-2",
    )
    cid = opened.result["conversation"]["id"]
    for values in ({"peer_group_id": c.group_id}, {"peer_assignee_id": c.agent.user_id}):
        attack = (
            update(schema.conversations).where(schema.conversations.c.id == cid).values(**values)
        )
        with pytest.raises(IntegrityError):
            await services.db.write(lambda conn, q=attack: conn.execute(q))
