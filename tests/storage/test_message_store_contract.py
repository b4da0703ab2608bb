"""The message-store contract, run against every back end by the ``message_store`` fixture.

A store keeps messages by ``(organization, conversation, position)`` in partitions of
``BUCKET_SIZE`` positions: an idempotent batch write, single-partition range reads, and
the history / resync walks the base class builds on them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from raasel.storage.message_store import BUCKET_SIZE, MessageStore, StoredMessage, bucket_of

ORG, OTHER_ORG, CONV = "1001", "1002", "2001"
START = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
#: Dense positions 1..LONG cross two bucket boundaries (BUCKET_SIZE and 2 * BUCKET_SIZE).
LONG = 2 * BUCKET_SIZE + 10


def message(
    position: int,
    *,
    org: str = ORG,
    conv: str = CONV,
    kind: str = "text",
    attachment_id: str | None = None,
) -> StoredMessage:
    return StoredMessage(
        org_id=org,
        conversation_id=conv,
        position=position,
        id=500_000_000_000 + position * 4099,  # ids grow with positions
        sender_id="3001",
        sender_side="customer",
        client_id=f"c{position}",
        kind=kind,
        body=f"body {position}",
        attachment_id=attachment_id,
        created_at=START + timedelta(seconds=position, microseconds=position % 997),
    )


async def fill(store: MessageStore, positions: Iterable[int], **kw: str) -> list[StoredMessage]:
    """Write in chunks of 500 (SQL caps the parameters of one statement)."""
    messages = [message(p, **kw) for p in positions]
    for start in range(0, len(messages), 500):
        await store.write(messages[start : start + 500])
    return messages


def positions(page: list[StoredMessage]) -> list[int]:
    return [m.position for m in page]


async def test_stored_fields_round_trip(message_store: MessageStore) -> None:
    with_file = replace(message(5), body="héllo 👋 <b>\n'quoted'", attachment_id="77")
    plain = message(6)
    await message_store.write([with_file, plain])
    back = await message_store.read_bucket(
        ORG, CONV, 0, after=0, before=10, limit=10, newest_first=False
    )
    assert back == [with_file, plain]
    assert back[1].attachment_id is None
    assert back[0].created_at.tzinfo is not None and back[0].created_at == with_file.created_at


async def test_read_bucket_is_an_exclusive_range_in_either_order(
    message_store: MessageStore,
) -> None:
    await fill(message_store, range(1, 21))

    async def read(after: int, before: int, limit: int, newest_first: bool) -> list[int]:
        page = await message_store.read_bucket(
            ORG, CONV, 0, after=after, before=before, limit=limit, newest_first=newest_first
        )
        return positions(page)

    assert await read(5, 12, 100, False) == list(range(6, 12))
    assert await read(5, 12, 100, True) == list(range(11, 5, -1))
    assert await read(5, 12, 3, False) == [6, 7, 8]
    assert await read(5, 12, 3, True) == [11, 10, 9]
    assert await read(0, 1_000, 100, True) == list(range(20, 0, -1))
    assert await read(7, 8, 10, True) == []
    assert await read(20, 30, 10, False) == []


async def test_each_bucket_is_its_own_partition(message_store: MessageStore) -> None:
    edges = [
        BUCKET_SIZE - 2,
        BUCKET_SIZE - 1,
        BUCKET_SIZE,
        BUCKET_SIZE + 1,
        2 * BUCKET_SIZE - 1,
        2 * BUCKET_SIZE,
    ]
    assert [bucket_of(p) for p in edges] == [0, 0, 1, 1, 1, 2]
    await fill(message_store, edges)
    found = {}
    for bucket in (0, 1, 2, 3):
        page = await message_store.read_bucket(
            ORG, CONV, bucket, after=0, before=10 * BUCKET_SIZE, limit=50, newest_first=False
        )
        assert all(m.bucket == bucket for m in page)
        found[bucket] = positions(page)
    assert found == {0: edges[:2], 1: edges[2:5], 2: edges[5:], 3: []}


async def test_history_walks_back_across_bucket_boundaries(message_store: MessageStore) -> None:
    await fill(message_store, range(1, LONG + 1))
    seen: list[int] = []
    before = LONG + 1
    while True:
        page = await message_store.history(ORG, CONV, before=before, limit=100, include_notes=True)
        if not page:
            break
        assert positions(page) == sorted(positions(page), reverse=True)
        seen += positions(page)
        before = page[-1].position
    assert seen == list(range(LONG, 0, -1))


async def test_a_history_page_at_a_boundary_reads_two_partitions(
    message_store: MessageStore,
) -> None:
    await fill(message_store, range(BUCKET_SIZE - 5, BUCKET_SIZE + 5))
    page = await message_store.history(
        ORG, CONV, before=BUCKET_SIZE + 2, limit=4, include_notes=True
    )
    assert positions(page) == [BUCKET_SIZE + 1, BUCKET_SIZE, BUCKET_SIZE - 1, BUCKET_SIZE - 2]
    exact = await message_store.history(ORG, CONV, before=BUCKET_SIZE, limit=2, include_notes=True)
    assert positions(exact) == [BUCKET_SIZE - 1, BUCKET_SIZE - 2]


async def test_after_walks_forward_across_bucket_boundaries(message_store: MessageStore) -> None:
    await fill(message_store, range(1, LONG + 1))
    got: list[int] = []
    cursor = 900
    while True:
        page = await message_store.after(
            ORG, CONV, after=cursor, up_to=LONG, limit=128, include_notes=True
        )
        if not page:
            break
        got += positions(page)
        cursor = page[-1].position
    assert got == list(range(901, LONG + 1))
    capped = await message_store.after(
        ORG, CONV, after=BUCKET_SIZE - 3, up_to=BUCKET_SIZE + 1, limit=50, include_notes=True
    )
    assert positions(capped) == list(range(BUCKET_SIZE - 2, BUCKET_SIZE + 2))
    exact = await message_store.after(
        ORG, CONV, after=BUCKET_SIZE - 1, up_to=LONG, limit=2, include_notes=True
    )
    assert positions(exact) == [BUCKET_SIZE, BUCKET_SIZE + 1]


async def test_notes_are_left_out_unless_asked(message_store: MessageStore) -> None:
    """Notes never reach customers, and a page of them does not cut history short."""
    top = BUCKET_SIZE + 20
    notes = set(range(BUCKET_SIZE - 30, top + 1)) | {3}
    messages = [message(p, kind="note" if p in notes else "text") for p in range(1, top + 1)]
    for start in range(0, len(messages), 500):
        await message_store.write(messages[start : start + 500])
    public = await message_store.history(ORG, CONV, before=top + 1, limit=3, include_notes=False)
    assert positions(public) == [BUCKET_SIZE - 31, BUCKET_SIZE - 32, BUCKET_SIZE - 33]
    everything = await message_store.history(ORG, CONV, before=top + 1, limit=3, include_notes=True)
    assert positions(everything) == [top, top - 1, top - 2]
    resync = await message_store.after(ORG, CONV, after=0, up_to=6, limit=10, include_notes=False)
    assert positions(resync) == [1, 2, 4, 5, 6]
    with_notes = await message_store.after(
        ORG, CONV, after=0, up_to=6, limit=10, include_notes=True
    )
    assert positions(with_notes) == [1, 2, 3, 4, 5, 6]
    assert with_notes[2].kind == "note"


async def test_rewriting_a_position_is_a_no_op(message_store: MessageStore) -> None:
    """The outbox may copy a message twice after a crash: one copy, same values."""
    first = await fill(message_store, range(1, 6))
    again = [message(p) for p in range(3, 9)]
    await message_store.write(again)
    await asyncio.gather(*(message_store.write(again) for _ in range(3)))
    page = await message_store.after(ORG, CONV, after=0, up_to=100, limit=50, include_notes=True)
    assert page == first + again[3:]


async def test_one_write_spans_conversations_and_buckets(message_store: MessageStore) -> None:
    """The engine copies a whole committed batch at once, in no particular order."""
    batch = [
        message(p, conv=conv)
        for conv in ("2001", "2002", "2003")
        for p in range(BUCKET_SIZE - 20, BUCKET_SIZE + 20)
    ]
    random.Random(7).shuffle(batch)
    await message_store.write(batch)
    for conv in ("2001", "2002", "2003"):
        page = await message_store.after(
            ORG, conv, after=0, up_to=BUCKET_SIZE + 19, limit=100, include_notes=True
        )
        assert positions(page) == list(range(BUCKET_SIZE - 20, BUCKET_SIZE + 20))
        assert {m.conversation_id for m in page} == {conv}


async def test_empty_conversations_read_as_empty(message_store: MessageStore) -> None:
    await fill(message_store, range(1, 4), conv="2002")
    assert await message_store.history(ORG, CONV, before=1, limit=10, include_notes=True) == []
    assert await message_store.history(ORG, CONV, before=50, limit=10, include_notes=True) == []
    assert (
        await message_store.after(ORG, CONV, after=0, up_to=50, limit=10, include_notes=True) == []
    )
    assert (
        await message_store.after(ORG, CONV, after=0, up_to=0, limit=10, include_notes=True) == []
    )
    assert (
        await message_store.read_bucket(
            ORG, CONV, 0, after=0, before=50, limit=10, newest_first=True
        )
        == []
    )
    await message_store.write([])


async def test_cursors_at_the_ends_return_nothing(message_store: MessageStore) -> None:
    await fill(message_store, range(1, 11))
    assert (
        await message_store.after(ORG, CONV, after=10, up_to=10, limit=10, include_notes=True) == []
    )
    assert await message_store.history(ORG, CONV, before=1, limit=10, include_notes=True) == []


async def test_partitions_of_two_organizations_never_mix(message_store: MessageStore) -> None:
    await fill(message_store, [1, 2], org=ORG)
    await fill(message_store, [1, 2, 3], org=OTHER_ORG)
    mine = await message_store.history(ORG, CONV, before=10, limit=10, include_notes=True)
    theirs = await message_store.after(
        OTHER_ORG, CONV, after=0, up_to=10, limit=10, include_notes=True
    )
    assert [(m.org_id, m.position) for m in mine] == [(ORG, 2), (ORG, 1)]
    assert [(m.org_id, m.position) for m in theirs] == [(OTHER_ORG, p) for p in (1, 2, 3)]


class ReadCounter:
    """Counts the partition reads a page costs (wraps the store's own method)."""

    def __init__(self, read: Callable[..., Awaitable[list[StoredMessage]]]) -> None:
        self.read = read
        self.reads = 0

    async def read_bucket(self, *args: object, **kw: object) -> list[StoredMessage]:
        self.reads += 1
        return await self.read(*args, **kw)


async def test_page_cost_does_not_grow_with_history(message_store: MessageStore) -> None:
    """The newest page is one partition read, however long (or idle) the conversation."""
    await fill(message_store, range(1, 21), conv="short")
    await fill(message_store, range(1, LONG + 1), conv="long")
    costs = {}
    for conv, count in (("short", 20), ("long", LONG)):
        original = message_store.read_bucket
        counter = ReadCounter(original)
        message_store.read_bucket = counter.read_bucket  # type: ignore[method-assign]
        try:
            newest = await message_store.history(
                ORG, conv, before=count + 1, limit=10, include_notes=True
            )
            resync = await message_store.after(
                ORG, conv, after=count - 5, up_to=count, limit=10, include_notes=True
            )
        finally:
            message_store.read_bucket = original  # type: ignore[method-assign]
        assert positions(newest) == list(range(count, count - 10, -1))
        assert positions(resync) == list(range(count - 4, count + 1))
        costs[conv] = counter.reads
    assert costs == {"short": 2, "long": 2}


async def test_check_answers_when_the_store_is_up(message_store: MessageStore) -> None:
    await message_store.check()
