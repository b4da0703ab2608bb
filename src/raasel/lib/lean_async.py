"""asyncio.Queue and asyncio.Event for one connection's life, in a fraction of the memory.

Every idle WebSocket held two ``asyncio.Queue`` (python-engineio's packets out, uvicorn's
ASGI messages in) and two ``asyncio.Event`` (the queue's "all done" and uvicorn's
``writable``): three 760-byte deques per queue and one per event, about 4 KB a pair
before a packet moved (measured with tracemalloc; docs/benchmarks.md, "Idle memory").
These keep a plain list and make their futures only while someone waits. They offer the
part of the two APIs the libraries call: unbounded ``put``/``put_nowait``/``get``/
``get_nowait``/``empty``/``qsize``/``task_done``/``join``, and ``set``/``clear``/
``is_set``/``wait``, with asyncio's semantics (FIFO, a cancelled getter passes its
wake-up on). Tests: tests/lib/test_lean_async.py runs both against asyncio's own.
"""

from __future__ import annotations

import asyncio
from typing import Generic, Literal, TypeVar

T = TypeVar("T")


def _wake(waiters: list[asyncio.Future[None]] | None, every: bool) -> None:
    while waiters:
        waiter = waiters.pop(0)
        if not waiter.done():
            waiter.set_result(None)
            if not every:
                return


def _enlist(
    waiters: list[asyncio.Future[None]] | None,
) -> tuple[list[asyncio.Future[None]], asyncio.Future[None]]:
    """A new waiter appended to ``waiters`` (made on first use: most never wait)."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    if waiters is None:
        waiters = []
    waiters.append(waiter)
    return waiters, waiter


class LeanQueue(Generic[T]):
    """An unbounded FIFO queue with asyncio.Queue's methods (see the module)."""

    __slots__ = ("_getters", "_items", "_joiners", "_unfinished")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._getters: list[asyncio.Future[None]] | None = None
        self._joiners: list[asyncio.Future[None]] | None = None
        self._unfinished = 0

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        self._unfinished += 1
        _wake(self._getters, every=False)

    async def put(self, item: T) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> T:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> T:
        while not self._items:
            self._getters, getter = _enlist(self._getters)
            try:
                await getter
            except BaseException:
                getter.cancel()  # nothing if it was woken already
                if self._getters and getter in self._getters:
                    self._getters.remove(getter)
                if self._items and not getter.cancelled():
                    _wake(self._getters, every=False)  # woken, then cancelled: pass it on
                raise
        return self._items.pop(0)

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0:
            _wake(self._joiners, every=True)
            self._joiners = None

    async def join(self) -> None:
        if self._unfinished:
            self._joiners, joiner = _enlist(self._joiners)
            await joiner


class LeanEvent:
    """asyncio.Event's ``set``/``clear``/``is_set``/``wait`` (see the module)."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            _wake(self._waiters, every=True)
            self._waiters = None

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> Literal[True]:
        if self._value:
            return True
        self._waiters, waiter = _enlist(self._waiters)
        try:
            await waiter
        finally:
            if self._waiters and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True
