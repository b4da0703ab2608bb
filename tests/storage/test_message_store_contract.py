"""The message-store contract, run against every back end by the ``message_store`` fixture."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from raasel.lib.ids import lowest_id_at_ms
from raasel.storage.message_store import (
    BUCKET_MS,
    MessageStore,
    Partition,
    StoredMessage,
    bucket_of,
)

ORG, OTHER_ORG, CONV = "1001", "1002", "2001"
START_MS = 1_790_000_000_000  # a Tuesday in 2026


def message(
    message_id: int,
    *,
    org: str = ORG,
    conv: str = CONV,
    kind: str = "text",
    client: str | None = None,
) -> StoredMessage:
    return StoredMessage(
        org_id=org,
        conversation_id=conv,
        id=message_id,
        sender_id="3001",
        sender_side="customer",
        client_id=client or f"c{message_id}",
        kind=kind,
        body=f"body {message_id}",
        attachment_id=None,
        created_at=datetime.fromtimestamp(message_id % 10**9 / 1000, UTC),
    )


def ids_across_buckets() -> list[int]:
    """30 ids in week 0, none in week 1, 25 in week 2, 5 in week 3."""
    ids = []
    for week, count in ((0, 30), (2, 25), (3, 5)):
        base = lowest_id_at_ms(START_MS + week * BUCKET_MS)
        ids += [base + i * 4096 * 1000 for i in range(count)]  # about a second apart
    return ids


async def fill(store: MessageStore, ids: list[int], **kw: str) -> None:
    await asyncio.gather(*(store.append(message(i, **kw)) for i in ids))


def partition(first: int, org: str = ORG) -> Partition:
    return Partition(org, CONV, first)


async def test_append_is_idempotent_by_client_id(message_store: MessageStore) -> None:
    first, created = await message_store.append(message(lowest_id_at_ms(START_MS), client="same"))
    again, created_again = await message_store.append(
        message(lowest_id_at_ms(START_MS) + 7, client="same")
    )
    assert created and not created_again
    assert again == first
    found = await message_store.find_by_client_id(ORG, CONV, "3001", "same")
    assert found == first


async def test_concurrent_retries_store_one_copy(message_store: MessageStore) -> None:
    base = lowest_id_at_ms(START_MS)
    results = await asyncio.gather(
        *(message_store.append(message(base + i, client="retry")) for i in range(10))
    )
    assert sum(created for _, created in results) == 1
    assert len({stored.id for stored, _ in results}) == 1
    page = await message_store.history(
        partition(base), before_id=None, newest_id=base + 100, limit=50, include_notes=True
    )
    assert len(page) == 1


async def test_history_pages_walk_buckets_backwards_in_order(message_store: MessageStore) -> None:
    ids = ids_across_buckets()
    await fill(message_store, ids)
    assert len({bucket_of(i) for i in ids}) == 3
    seen: list[int] = []
    before = None
    while True:
        page = await message_store.history(
            partition(ids[0]), before_id=before, newest_id=ids[-1], limit=7, include_notes=True
        )
        if not page:
            break
        assert [m.id for m in page] == sorted((m.id for m in page), reverse=True)
        seen += [m.id for m in page]
        before = page[-1].id
    assert seen == sorted(ids, reverse=True)


async def test_after_resyncs_everything_in_order(message_store: MessageStore) -> None:
    ids = ids_across_buckets()
    await fill(message_store, ids)
    cursor = ids[9]
    got: list[int] = []
    while True:
        page = await message_store.after(
            partition(ids[0]), after_id=cursor, newest_id=ids[-1], limit=8, include_notes=True
        )
        if not page:
            break
        got += [m.id for m in page]
        cursor = page[-1].id
    assert got == ids[10:]


async def test_notes_are_left_out_unless_asked(message_store: MessageStore) -> None:
    base = lowest_id_at_ms(START_MS)
    await message_store.append(message(base + 1))
    await message_store.append(message(base + 2, kind="note"))
    await message_store.append(message(base + 3))
    public = await message_store.history(
        partition(base), before_id=None, newest_id=base + 3, limit=10, include_notes=False
    )
    everything = await message_store.after(
        partition(base), after_id=0, newest_id=base + 3, limit=10, include_notes=True
    )
    assert [m.id for m in public] == [base + 3, base + 1]
    assert [m.id for m in everything] == [base + 1, base + 2, base + 3]


async def test_partitions_of_two_organizations_never_mix(message_store: MessageStore) -> None:
    base = lowest_id_at_ms(START_MS)
    await message_store.append(message(base + 1, org=ORG))
    await message_store.append(message(base + 2, org=OTHER_ORG))
    mine = await message_store.history(
        partition(base, ORG), before_id=None, newest_id=base + 9, limit=10, include_notes=True
    )
    theirs = await message_store.after(
        partition(base, OTHER_ORG), after_id=0, newest_id=base + 9, limit=10, include_notes=True
    )
    assert [m.org_id for m in mine] == [ORG]
    assert [m.org_id for m in theirs] == [OTHER_ORG]
    assert await message_store.find_by_client_id(OTHER_ORG, CONV, "3001", f"c{base + 1}") is None


class ReadCounter:
    """Counts the partition reads a history page costs (wraps the store's own method)."""

    def __init__(self, read: Callable[..., Awaitable[list[StoredMessage]]]) -> None:
        self.read = read
        self.reads = 0

    async def read_bucket(self, *args: object, **kw: object) -> list[StoredMessage]:
        self.reads += 1
        return await self.read(*args, **kw)


async def test_page_cost_does_not_grow_with_history(message_store: MessageStore) -> None:
    base = lowest_id_at_ms(START_MS)
    await fill(message_store, [base + i for i in range(20)], conv="short")
    await fill(message_store, [base + i for i in range(600)], conv="long")
    costs = {}
    for conv, count in (("short", 20), ("long", 600)):
        original = message_store.read_bucket
        counter = ReadCounter(original)
        message_store.read_bucket = counter.read_bucket  # type: ignore[method-assign]
        try:
            page = await message_store.history(
                Partition(ORG, conv, base),
                before_id=base + count - 1,
                newest_id=base + count,
                limit=10,
                include_notes=True,
            )
        finally:
            message_store.read_bucket = original  # type: ignore[method-assign]
        assert len(page) == 10
        costs[conv] = counter.reads
    assert costs["short"] == costs["long"] == 1


async def test_stored_fields_round_trip(message_store: MessageStore) -> None:
    original = replace(
        message(lowest_id_at_ms(START_MS) + 5), body="héllo 👋 <b>", attachment_id="77"
    )
    await message_store.append(original)
    [back] = await message_store.after(
        partition(original.id), after_id=0, newest_id=original.id, limit=5, include_notes=True
    )
    assert back == original


async def test_same_client_id_in_another_tenant_is_another_message(
    message_store: MessageStore,
) -> None:
    base = lowest_id_at_ms(START_MS)
    mine, created_mine = await message_store.append(message(base + 1, org=ORG, client="k"))
    theirs, created_theirs = await message_store.append(
        message(base + 2, org=OTHER_ORG, client="k")
    )
    other_conv, created_other = await message_store.append(
        message(base + 3, conv="2002", client="k")
    )
    assert created_mine and created_theirs and created_other
    assert (await message_store.find_by_client_id(ORG, CONV, "3001", "k")) == mine
    assert (await message_store.find_by_client_id(OTHER_ORG, CONV, "3001", "k")) == theirs
    assert (await message_store.find_by_client_id(ORG, "2002", "3001", "k")) == other_conv


async def test_pages_across_an_exact_bucket_boundary(message_store: MessageStore) -> None:
    boundary = lowest_id_at_ms((START_MS // BUCKET_MS + 1) * BUCKET_MS)
    ids = [boundary - 2, boundary - 1, boundary, boundary + 1]
    assert [bucket_of(i) for i in ids] == [bucket_of(boundary) - 1] * 2 + [bucket_of(boundary)] * 2
    await fill(message_store, ids)
    newest = await message_store.history(
        partition(ids[0]), before_id=None, newest_id=ids[-1], limit=3, include_notes=True
    )
    assert [m.id for m in newest] == ids[:0:-1]
    rest = await message_store.history(
        partition(ids[0]), before_id=newest[-1].id, newest_id=ids[-1], limit=3, include_notes=True
    )
    assert [m.id for m in rest] == [ids[0]]
    resync = await message_store.after(
        partition(ids[0]), after_id=ids[1], newest_id=ids[-1], limit=10, include_notes=True
    )
    assert [m.id for m in resync] == ids[2:]


async def test_cursors_at_the_ends_return_nothing(message_store: MessageStore) -> None:
    ids = ids_across_buckets()
    await fill(message_store, ids)
    assert (
        await message_store.after(
            partition(ids[0]), after_id=ids[-1], newest_id=ids[-1], limit=10, include_notes=True
        )
        == []
    )
    assert (
        await message_store.history(
            partition(ids[0]), before_id=ids[0], newest_id=ids[-1], limit=10, include_notes=True
        )
        == []
    )


async def test_messages_without_attachment_round_trip_as_none(
    message_store: MessageStore,
) -> None:
    plain = message(lowest_id_at_ms(START_MS) + 9)
    stored, _ = await message_store.append(plain)
    found = await message_store.find_by_client_id(ORG, CONV, "3001", plain.client_id)
    assert stored.attachment_id is None and found == plain
