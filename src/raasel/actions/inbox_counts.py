"""View counts kept live: ``inbox:counts`` after every burst of conversation changes.

The committer's publisher is wrapped (``LiveCounts.publish``): once a committed batch's
events are out, every organization whose conversations changed (``conversation:updated``)
is counted again, at most once per ``delay`` however many changes arrive, with one
statement over its open conversations (storage/metadata/inbox.py, ``open_counts``). The
counts are a read after the commit, like presence: they describe committed state, and a
lost one is corrected by the next (or by ``GET /api/v1/inbox/counts`` on reconnect).

Who receives what (realtime/rooms.py): the leads every count; a group's consoles how
many wait in that group; an agent's consoles their own open count, also when it drops
to zero (the agent rooms of the changed conversations, old assignee included, are
told).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from raasel.actions.context import Event, Services
from raasel.actions.inbox import summarize
from raasel.realtime.rooms import agent_room, agents_room, group_room, leads_room
from raasel.storage.metadata import inbox
from raasel.storage.tenancy import TenantScope

log = structlog.get_logger(__name__)

Publisher = Callable[[list[Any]], Awaitable[None]]
UNGROUPED = ""  # among the groups concerned: a conversation in no group changed


def count_events(
    org_id: str, summary: dict[str, Any], groups: Iterable[str], agents: Iterable[str]
) -> list[Event]:
    """The leads' event, and one per group and per agent concerned."""
    events = [Event("inbox:counts", {"org_id": org_id, "counts": summary}, (leads_room(org_id),))]
    if UNGROUPED in groups:  # waiting in no group ("Unassigned"): every agent's count
        ungrouped = {"ungrouped": summary.get("ungrouped", 0)}
        events.append(
            Event("inbox:counts", {"org_id": org_id, "counts": ungrouped}, (agents_room(org_id),))
        )
    for group_id in sorted((set(groups) | set(summary["groups"])) - {UNGROUPED}):
        counts = {"groups": {group_id: summary["groups"].get(group_id, 0)}}
        events.append(
            Event("inbox:counts", {"org_id": org_id, "counts": counts}, (group_room(group_id),))
        )
    for user_id in sorted(set(agents) | set(summary["agents"])):
        counts = {"agents": {user_id: summary["agents"].get(user_id, 0)}}
        events.append(
            Event(
                "inbox:counts",
                {"org_id": org_id, "counts": counts},
                (agent_room(org_id, user_id),),
            )
        )
    return events


class LiveCounts:
    def __init__(self, svc: Services, inner: Publisher, *, delay: float = 0.2) -> None:
        self._svc = svc
        self._inner = inner
        self._delay = delay
        self._pending: dict[str, tuple[set[str], set[str]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(self, events: list[Any]) -> None:
        await self._inner(events)
        self.notice(events)

    def notice(self, events: Iterable[Any]) -> None:
        for event in events:
            if not isinstance(event, Event) or event.name != "conversation:updated":
                continue
            conversation = event.payload.get("conversation") or {}
            org_id = conversation.get("org_id")
            b2b = conversation.get("b2b")
            if isinstance(b2b, dict) and b2b.get("side") == "peer":
                # The peer's copy of a b2b conversation: the peer's counts changed.
                org_id = (b2b.get("peer") or {}).get("id")
            if not isinstance(org_id, str) or "priority" not in conversation:
                continue  # the customer's copy: the organization's copy names the rooms
            if org_id not in self._pending:
                self._pending[org_id] = (set(), set())
                task = asyncio.create_task(self._flush_later(org_id), name="inbox-counts")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            groups, agents = self._pending[org_id]
            for room in event.rooms:
                kind, _, rest = room.partition(":")
                if kind == "group":
                    groups.add(rest)
                elif kind == "agents":
                    groups.add(UNGROUPED)
                elif kind == "agent" and rest.startswith(f"{org_id}:"):
                    agents.add(rest.split(":", 1)[1])

    async def _flush_later(self, org_id: str) -> None:
        await asyncio.sleep(self._delay)
        groups, agents = self._pending.pop(org_id, (set(), set()))
        try:
            async with self._svc.db.read(TenantScope(org_id=org_id)) as conn:
                summary = summarize(await inbox.open_counts(conn, org_id))
            await self._inner(count_events(org_id, summary, groups, agents))
        except Exception:  # counts are a convenience: the next change corrects them
            log.exception("inbox counts failed", org_id=org_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
