"""lib/lean_async.py behaves as asyncio.Queue / asyncio.Event where the libraries use them:
every scenario runs against asyncio's own classes and the lean ones alike."""

from __future__ import annotations

import asyncio
import sys
import tracemalloc
from typing import Any

import pytest

from raasel.lib.lean_async import LeanEvent, LeanQueue

QUEUES = [asyncio.Queue, LeanQueue]
EVENTS = [asyncio.Event, LeanEvent]


@pytest.mark.parametrize("make", QUEUES)
async def test_queue_is_fifo_and_empty_raises(make: Any) -> None:
    queue = make()
    assert queue.empty() and queue.qsize() == 0
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    queue.put_nowait(1)
    await queue.put(2)
    assert queue.qsize() == 2 and not queue.empty()
    assert [queue.get_nowait(), await queue.get()] == [1, 2]


@pytest.mark.parametrize("make", QUEUES)
async def test_waiting_getters_are_served_in_order(make: Any) -> None:
    queue = make()
    got: list[tuple[str, int]] = []

    async def take(name: str) -> None:
        got.append((name, await queue.get()))

    tasks = [asyncio.create_task(take(n)) for n in "abc"]
    await asyncio.sleep(0)
    for item in (1, 2, 3):
        queue.put_nowait(item)
    await asyncio.gather(*tasks)
    assert got == [("a", 1), ("b", 2), ("c", 3)]


@pytest.mark.parametrize("make", QUEUES)
async def test_a_cancelled_getter_loses_nothing(make: Any) -> None:
    queue = make()
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("x")  # wakes the first getter...
    first.cancel()  # ...which is cancelled before it runs: the second gets the item
    assert await second == "x"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert queue.empty()


@pytest.mark.parametrize("make", QUEUES)
async def test_wait_for_times_out_a_get_and_the_queue_still_works(make: Any) -> None:
    queue = make()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("late")
    assert await asyncio.wait_for(queue.get(), 1) == "late"


@pytest.mark.parametrize("make", QUEUES)
async def test_join_waits_for_every_task_done(make: Any) -> None:
    queue = make()
    await queue.join()  # nothing unfinished: returns at once
    queue.put_nowait(1)
    queue.put_nowait(2)
    joined = asyncio.create_task(queue.join())
    for _ in range(2):
        queue.get_nowait()
        await asyncio.sleep(0)
        assert not joined.done()
        queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        queue.task_done()


@pytest.mark.parametrize("make", EVENTS)
async def test_event_wakes_every_waiter_and_clears(make: Any) -> None:
    event = make()
    assert not event.is_set()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert event.is_set() and await event.wait() is True
    event.clear()
    late = asyncio.create_task(event.wait())
    await asyncio.sleep(0.01)
    assert not late.done()
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    event.set()  # the cancelled waiter is gone; nothing breaks
    assert event.is_set()


def _bytes_per(make: Any, count: int = 500) -> float:
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        made = [make() for _ in range(count)]
        after = tracemalloc.take_snapshot()
        assert len(made) == count
    finally:
        if started:
            tracemalloc.stop()
    return sum(s.size_diff for s in after.compare_to(before, "filename")) / count


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="CPython's allocator")
def test_an_idle_lean_pair_costs_a_fraction_of_asyncios() -> None:
    def asyncio_pair() -> tuple[Any, Any]:
        return asyncio.Queue(), asyncio.Event()

    def lean_pair() -> tuple[Any, Any]:
        return LeanQueue(), LeanEvent()

    heavy, lean = _bytes_per(asyncio_pair), _bytes_per(lean_pair)
    assert heavy > 3_000  # three deques of 760 bytes, one more in the event
    assert lean < heavy / 5
