"""@mentions in team rooms: a message naming ``@Display Name`` of a fellow member of the
room tells that member's consoles (``mention:new`` with ``room_id``), also when they
are not looking at the room. Read after the commit from the committed ``room:message``
event, by the same publisher as the notes' mentions (actions/inbox_mentions.py), so a
rolled-back message never notifies anyone; only the room's members can be mentioned.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Event
from raasel.realtime.rooms import agent_room
from raasel.rules.mentions import mentioned
from raasel.storage.metadata import people
from raasel.storage.metadata import team_rooms as store


async def room_mention_events(
    conn: AsyncConnection, org_id: str, room_id: str, message: dict[str, Any]
) -> list[Event]:
    members = await store.members(conn, org_id, room_id)
    users = await people.get_users(conn, [m.user_id for m in members])
    sender_id = message["sender_id"]
    names = {
        user_id: user.display_name
        for user_id, user in users.items()
        if user_id != sender_id and user.display_name
    }
    sender = users.get(sender_id)
    return [
        Event(
            "mention:new",
            {
                "room_id": room_id,
                "position": message.get("position"),
                "by": {"id": sender_id, "name": sender.display_name if sender else ""},
                "preview": message["text"][:140],
            },
            (agent_room(org_id, user_id),),
        )
        for user_id in mentioned(message["text"], names)
    ]
