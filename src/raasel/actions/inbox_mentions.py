"""@mentions in internal notes and team rooms: the mentioned teammate is told
(``mention:new``; team rooms: actions/team_room_mentions.py).

Read from the committed ``message:new`` events (the committer's publisher is wrapped,
like the live counts): a note naming ``@Display Name`` of an active member who may see
the conversation (a lead, one of its group, its assignee) notifies that member's
consoles only. The note itself was stored and published as any note; the notification
is a read after the commit, so a rolled-back note never notifies anyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from raasel.actions.context import Event, Services
from raasel.actions.team_room_mentions import room_mention_events
from raasel.domain import MessageKind, Role
from raasel.realtime.rooms import agent_room
from raasel.rules.mentions import mentioned
from raasel.storage.metadata import inbox, people
from raasel.storage.tenancy import CrossTenant

log = structlog.get_logger(__name__)

Publisher = Callable[[list[Any]], Awaitable[None]]


class Mentions:
    def __init__(self, svc: Services, inner: Publisher) -> None:
        self._svc = svc
        self._inner = inner
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(self, events: list[Any]) -> None:
        await self._inner(events)
        notes = list(self._notes(events))
        rooms = list(self._room_messages(events))
        if notes or rooms:
            task = asyncio.create_task(self._notify(notes, rooms), name="mentions")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _notes(events: Iterable[Any]) -> Iterable[tuple[str, dict[str, Any]]]:
        for event in events:
            if not isinstance(event, Event) or event.name != "message:new":
                continue
            message = event.payload.get("message") or {}
            if message.get("kind") != MessageKind.NOTE or "@" not in (message.get("text") or ""):
                continue
            org = next((r.split(":", 1)[1] for r in event.rooms if r.startswith("leads:")), None)
            if org is not None:
                yield org, message

    @staticmethod
    def _room_messages(events: Iterable[Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
        for event in events:
            if not isinstance(event, Event) or event.name != "room:message":
                continue
            message = event.payload.get("message") or {}
            if "@" in (message.get("text") or ""):
                yield event.payload["org_id"], event.payload["room_id"], message

    async def _notify(
        self,
        notes: list[tuple[str, dict[str, Any]]],
        rooms: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        try:
            out: list[Event] = []
            async with self._svc.db.read(
                CrossTenant("mentions of a committed batch, of any organization")
            ) as conn:
                for org_id, room_id, message in rooms:
                    out += await room_mention_events(conn, org_id, room_id, message)
                for org_id, message in notes:
                    found = await inbox.conversations_by_id(
                        conn, org_id, [message["conversation_id"]]
                    )
                    if not found:
                        continue
                    conversation = found[0]
                    members = [
                        m for m in await people.list_memberships(conn, org_id) if m.is_active
                    ]
                    users = await people.get_users(conn, [m.user_id for m in members])
                    groups = await people.groups_by_member(conn, org_id)
                    names = {
                        m.user_id: users[m.user_id].display_name
                        for m in members
                        if m.user_id in users and m.user_id != message["sender_id"]
                    }
                    sender = users.get(message["sender_id"])
                    for user_id in mentioned(message["text"], names):
                        member = next(m for m in members if m.user_id == user_id)
                        may_see = (
                            member.role != Role.AGENT
                            or conversation.assignee_id == user_id
                            or conversation.group_id in groups.get(user_id, [])
                        )
                        if not may_see:
                            continue
                        out.append(
                            Event(
                                "mention:new",
                                {
                                    "conversation_id": conversation.id,
                                    "position": message.get("position"),
                                    "by": {
                                        "id": message["sender_id"],
                                        "name": sender.display_name if sender else "",
                                    },
                                    "preview": message["text"][:140],
                                },
                                (agent_room(org_id, user_id),),
                            )
                        )
            if out:
                await self._inner(out)
        except Exception:  # a notification is a convenience: the note itself is stored
            log.exception("mention notification failed")
