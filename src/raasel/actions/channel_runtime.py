"""What social channels need at run time, one per node: the secrets' keys, the Graph
API client, and the doorbells of the two workers (inbound webhooks, outbound replies)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from raasel.actions.channel_keys import ChannelSecrets
from raasel.actions.context import Services
from raasel.channels.graph import GraphClient
from raasel.config import Settings
from raasel.errors import Unavailable


def _nothing() -> None:
    return None


@dataclass
class ChannelRuntime:
    secrets: ChannelSecrets
    graph: GraphClient
    wake_inbound: Callable[[], None] = field(default=_nothing)
    wake_outbound: Callable[[], None] = field(default=_nothing)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelRuntime:
        return cls(
            ChannelSecrets(settings),
            GraphClient(
                settings.graph_base_url,
                timeout=settings.graph_timeout_seconds,
                max_media_bytes=settings.attachment_max_bytes,
            ),
        )


def runtime_of(svc: Services) -> ChannelRuntime:
    if svc.channels is None:
        raise Unavailable("social channels are not set up on this node")
    return svc.channels


class ChannelWorker:
    """A node's background loop for one side of the channels, woken by its doorbell
    (``wake``) and otherwise by its own timer; subclasses write ``_run``."""

    task_name = "channel-worker"

    def __init__(self, svc: Services, runtime: ChannelRuntime) -> None:
        self.svc = svc
        self.runtime = runtime
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        raise NotImplementedError
