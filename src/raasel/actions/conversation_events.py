"""Events that tell each side a conversation or a queue changed.

Built inside the unit (so they describe the state it commits) and published by the
committer only after the commit. Queue events read the database: flush the batch first.
"""

from __future__ import annotations

import statistics

from raasel.actions.b2b_views import b2b_orgs, b2b_view
from raasel.actions.b2b_views import people_ids as b2b_people_ids
from raasel.actions.context import Event
from raasel.actions.views import conversation_view
from raasel.domain import ConversationKind, Side
from raasel.realtime.rooms import (
    agents_room,
    customer_rooms,
    group_room,
    leads_room,
    org_side_rooms,
    peer_rooms,
    platform_rooms,
    user_room,
)
from raasel.storage.metadata import conversations, people
from raasel.storage.records import Conversation
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

RECENT_WAITS = 20  # assignments from the queue the estimate is the median of


async def org_view(batch: UnitBatch, conversation: Conversation) -> dict[str, object]:
    ids = [i for i in (conversation.customer_id, conversation.assignee_id) if i]
    return conversation_view(
        conversation,
        viewer_side=Side.ORG,
        people=await people.get_users(batch.conn, ids),
        sides=await batch.sides(conversation.id),
    )


async def conversation_updated(
    batch: UnitBatch, conversation: Conversation, previous: Conversation | None = None
) -> list[Event]:
    """``conversation:updated`` to both sides, each with its own view; old rooms too on moves."""
    if conversation.kind == ConversationKind.B2B:
        return await b2b_updated(batch, conversation, previous)
    people_ids = [i for i in (conversation.customer_id, conversation.assignee_id) if i]
    people_by_id = await people.get_users(batch.conn, people_ids)
    sides = await batch.sides(conversation.id)
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
    if platform_rooms(conversation):  # the operators' view: no internal fields
        events.append(
            Event(
                "conversation:updated",
                {
                    "conversation": conversation_view(
                        conversation,
                        viewer_side=Side.PLATFORM,
                        people=people_by_id,
                        unread=sides[Side.PLATFORM].unread if Side.PLATFORM in sides else None,
                        sides=sides,
                    )
                },
                tuple(platform_rooms(conversation)),
            )
        )
    return events


async def b2b_updated(
    batch: UnitBatch, conversation: Conversation, previous: Conversation | None
) -> list[Event]:
    """Each organization of a ``b2b`` conversation gets its own view, in its rooms (the
    old ones too when its side moved)."""
    people_by_id = await people.get_users(batch.conn, b2b_people_ids(conversation))
    sides = await batch.sides(conversation.id)
    orgs = await b2b_orgs(batch.conn, conversation)
    events = []
    for side, rooms_of in ((Side.ORG, org_side_rooms), (Side.PEER, peer_rooms)):
        rooms = set(rooms_of(conversation))
        if previous is not None:
            rooms |= set(rooms_of(previous))
        if not rooms:
            continue
        view = b2b_view(
            conversation, viewer_side=side, people_by_id=people_by_id, sides=sides, orgs=orgs
        )
        events.append(Event("conversation:updated", {"conversation": view}, tuple(sorted(rooms))))
    return events


async def estimated_wait_per_position(conn: Tx, org_id: str, group_id: str) -> float | None:
    """Median queue wait (queued -> assigned) of the group's last 20 assignments, or None
    when it has none: no made-up number (docs/protocol.md, ``estimated_wait_seconds``)."""
    waits = await conversations.recent_waits(conn, org_id, group_id, RECENT_WAITS)
    return statistics.median(waits) if waits else None


async def queue_events(conn: Tx, org_id: str, group_id: str | None) -> list[Event]:
    """The group's queue to its agents, and each waiting customer's own position.

    ``group_id`` None: the "Unassigned" queue (support conversations no group with
    members could take), to every console of the organization."""
    if group_id is None:
        queued = await conversations.queued_without_group(conn, org_id)
        per_position = None
        rooms: tuple[str, ...] = (agents_room(org_id),)
    else:
        queued = await conversations.queued_in_group(conn, org_id, group_id)
        per_position = await estimated_wait_per_position(conn, org_id, group_id)
        rooms = (group_room(group_id), leads_room(org_id))
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
            rooms,
        )
    ]
    for i, c in enumerate(queued):
        if c.customer_id:
            position: dict[str, object] = {"conversation_id": c.id, "position": i + 1}
            if per_position is not None:
                position["estimated_wait_seconds"] = round(per_position * (i + 1))
            events.append(Event("queue:position", position, (user_room(c.customer_id),)))
    return events
