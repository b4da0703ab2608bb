"""The committer's error paths: one bad unit fails alone, its events are never published."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError

from raasel.actions import messages
from raasel.actions.context import Event, Services
from raasel.storage.metadata import conversations
from raasel.storage.tenancy import CrossTenant
from raasel.storage.unit_batch import UnitBatch
from tests.actions.conftest import Cast, Published
from tests.actions.test_races import _open

INSPECT = CrossTenant("a test looks at the stored rows")


async def test_a_batch_that_fails_at_its_flush_is_retried_unit_by_unit(
    services: Services, cast: Cast, published: Published
) -> None:
    """A unit whose change breaks a constraint only when written makes the whole batch's
    flush fail; the committer then runs each unit alone: the good send commits and is
    announced, the bad unit raises, and nothing of it is published."""
    cid = await _open(services, cast, "flush")
    await published.take()

    async def bad(batch: UnitBatch) -> None:
        conversation = await batch.conversation(cid)
        assert conversation is not None
        batch.put(conversation, status=None)  # NOT NULL: refused at the flush
        batch.emit(Event("never", {}, ("leads:x",)))

    batches = services.db.batches
    failures = REGISTRY.get_sample_value("raasel_commit_failures_total") or 0.0
    stored = REGISTRY.get_sample_value("raasel_messages_stored_total", {"kind": "text"}) or 0.0
    good, broken = await asyncio.gather(
        messages.do_send_message(services, cast.customer, cid, client_id="ok", text="hello"),
        services.db.run(bad, keys=[cid], fresh=False),
        return_exceptions=True,
    )
    assert isinstance(broken, IntegrityError)
    assert not isinstance(good, BaseException)
    assert services.db.batches - batches >= 1
    after = REGISTRY.get_sample_value("raasel_commit_failures_total") or 0.0
    assert after - failures >= 1, "a failed batch transaction is counted"
    now = REGISTRY.get_sample_value("raasel_messages_stored_total", {"kind": "text"}) or 0.0
    assert now - stored == 1, "the good send counted once, after its own commit"
    names = [e.name for e in await published.take()]
    assert "never" not in names and "message:new" in names
    async with services.db.read(INSPECT) as conn:
        current = await conversations.find_conversation(conn, cid)
    assert current is not None and current.status == "active"
    assert current.last_position == int(good.result["position"])


async def test_a_failing_hot_unit_is_undone_without_touching_its_neighbours(
    services: Services, cast: Cast, published: Published
) -> None:
    """Two units on one conversation in one batch: the second fails after changing the
    record in memory; its change is undone, the first one's stays and is written."""
    cid = await _open(services, cast, "snapshot")
    await published.take()

    async def raises_after_change(batch: UnitBatch) -> None:
        conversation = await batch.conversation(cid)
        assert conversation is not None
        batch.put(conversation, subject="should not stay")
        raise RuntimeError("refused after the change")

    sent, failed = await asyncio.gather(
        messages.do_send_message(services, cast.customer, cid, client_id="a", text="one"),
        services.db.run(raises_after_change, keys=[cid], fresh=False),
        return_exceptions=True,
    )
    assert isinstance(failed, RuntimeError)
    assert not isinstance(sent, BaseException)
    async with services.db.read(INSPECT) as conn:
        current = await conversations.find_conversation(conn, cid)
    assert current is not None and current.subject != "should not stay"
    assert current.last_position == int(sent.result["position"])
    with pytest.raises(RuntimeError):
        await services.db.run(raises_after_change, keys=[cid], fresh=False)


async def test_a_batch_of_replies_is_indexed_and_counts_one_first_response(
    services: Services, cast: Cast
) -> None:
    """The messages of a batch are one insert; its triggers (per statement on PostgreSQL,
    per row on SQLite) index every text for search and note the conversation's first
    response once, at the earliest reply, as if the rows came one at a time."""
    from datetime import datetime

    from sqlalchemy import select, text

    from raasel.storage.schema import report_events

    cid = await _open(services, cast, "indexed")
    batches = services.db.batches
    replies = await asyncio.gather(
        *(
            messages.do_send_message(
                services, cast.agent, cid, client_id=f"reply-{i}", text=f"answer{i} here"
            )
            for i in range(4)
        )
    )
    assert services.db.batches - batches < 4  # some of them shared a batch
    async with services.db.read(INSPECT) as conn:
        firsts = (
            await conn.execute(
                select(report_events.c.at).where(
                    report_events.c.conversation_id == cid,
                    report_events.c.kind == "first_response",
                )
            )
        ).all()
        searchable = (
            await conn.execute(
                text("SELECT body FROM message_search WHERE conversation_id = :c"), {"c": cid}
            )
        ).all()
    earliest = min(replies, key=lambda r: r.result["position"]).result["created_at"]
    assert [row.at for row in firsts] == [datetime.fromisoformat(earliest)]
    assert {row.body for row in searchable} >= {f"answer{i} here" for i in range(4)}
