"""Cross-node fan-out: python-socketio's Redis manager, with a shorter reconnect backoff.

Every node publishes each emit on one channel and every node delivers it to its own
sockets in the addressed rooms (docs/decisions.md, "Redis"). The manager serializes with
the server's JSON module (``json.dumps``); nothing is pickled. Emits reach this node's own
sockets before the publish, so a Redis outage silences only the other nodes; a failed
publish is logged by the manager, never raised to the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import socketio
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = structlog.get_logger(__name__)

MAX_RECONNECT_SECONDS = 5.0


class RedisFanout(socketio.AsyncRedisManager):  # type: ignore[misc]
    """``AsyncRedisManager`` whose listener retries every few seconds, never a minute.

    The upstream listener doubles its wait up to 60 s; after a long outage live events
    would stay silent for up to a minute once Redis is back. Capping the wait at
    ``MAX_RECONNECT_SECONDS`` bounds that, at one connection attempt per few seconds.
    """

    def __init__(self, url: str, channel: str, timeout: float = 1.0) -> None:
        super().__init__(
            url,
            channel=channel,
            redis_options={
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "retry": Retry(NoBackoff(), 1),
            },
        )

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        wait = 0.5
        subscribed = False
        while True:
            try:
                if not subscribed:
                    if self.pubsub is not None:
                        with contextlib.suppress(Exception):
                            await self.pubsub.aclose()
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed = True
                    wait = 0.5
                    log.info("fan-out subscribed", channel=self.channel)
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # any failure: resubscribe on a fresh connection
                log.warning("fan-out lost redis", error=type(exc).__name__, retry_in=wait)
                subscribed = False
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_RECONNECT_SECONDS)
