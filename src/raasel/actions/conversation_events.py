"""Events that tell each side a conversation or a queue changed.

Built inside the write (so they describe the committed state) and published by the
caller only after the commit.
"""

from __future__ import annotations

import statistics

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Event
from raasel.actions.views import conversation_view
from raasel.domain import Side
from raasel.realtime.rooms import customer_rooms, group_room, leads_room, org_side_rooms, user_room
from raasel.storage.metadata import conversations, people
from raasel.storage.records import Conversation

DEFAULT_WAIT_SECONDS = 120.0


async def conversation_updated(
    conn: AsyncConnection, conversation: Conversation, previous: Conversation | None = None
) -> list[Event]:
    """``conversation:updated`` to both sides, each with its own view; old rooms too on moves."""
    people_ids = [i for i in (conversation.customer_id, conversation.assignee_id) if i]
    people_by_id = await people.get_users(conn, people_ids)
    sides = await conversations.get_sides(conn, conversation.id)
    org_rooms = set(org_side_rooms(conversation))
    if previous is not None:
        org_rooms |= set(org_side_rooms(previous))
    events = [
        Event(
            "conversation:updated",
            {
                "conversation": conversation_view(
                    conversation,
                    viewer_side=Side.ORG,
                    people=people_by_id,
                    unread=sides[Side.ORG].unread if Side.ORG in sides else None,
                    sides=sides,
                )
            },
            tuple(sorted(org_rooms)),
        )
    ]
    if conversation.customer_id:
        events.append(
            Event(
                "conversation:updated",
                {
                    "conversation": conversation_view(
                        conversation,
                        viewer_side=Side.CUSTOMER,
                        people=people_by_id,
                        unread=sides[Side.CUSTOMER].unread if Side.CUSTOMER in sides else None,
                        sides=sides,
                    )
                },
                tuple(customer_rooms(conversation)),
            )
        )
    return events


async def estimated_wait_per_position(conn: AsyncConnection, org_id: str, group_id: str) -> float:
    """Median wait of the group's last 20 assignments (docs/protocol.md, queue position)."""
    waits = await conversations.recent_waits(conn, org_id, group_id, 20)
    return statistics.median(waits) if waits else DEFAULT_WAIT_SECONDS


async def queue_events(conn: AsyncConnection, org_id: str, group_id: str | None) -> list[Event]:
    """The group's queue to its agents, and each waiting customer's own position."""
    if group_id is None:
        return []
    queued = await conversations.queued_in_group(conn, org_id, group_id)
    per_position = await estimated_wait_per_position(conn, org_id, group_id)
    entries = [
        {
            "conversation_id": c.id,
            "position": i + 1,
            "queued_at": c.queued_at.isoformat() if c.queued_at else None,
            "subject": c.subject,
            "preview": c.last_preview,
            "priority": c.priority,
        }
        for i, c in enumerate(queued)
    ]
    events = [
        Event(
            "queue:updated",
            {"group_id": group_id, "queue": entries},
            (group_room(group_id), leads_room(org_id)),
        )
    ]
    for i, c in enumerate(queued):
        if c.customer_id:
            events.append(
                Event(
                    "queue:position",
                    {
                        "conversation_id": c.id,
                        "position": i + 1,
                        "estimated_wait_seconds": round(per_position * (i + 1)),
                    },
                    (user_room(c.customer_id),),
                )
            )
    return events
