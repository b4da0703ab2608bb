"""What every group conversation (community channels, team rooms) does alike with its
messages through the engine: the next position of a send, and a page of what came
after a position (sync). The group's row is locked and checked by the caller's unit."""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from raasel.actions.context import Services
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id
from raasel.storage.message_store import StoredMessage
from raasel.storage.tenancy import ReadScope
from raasel.storage.unit_batch import UnitBatch


class Group(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def org_id(self) -> str: ...

    @property
    def last_position(self) -> int: ...

    @property
    def last_position_id(self) -> int: ...

    def but(self, **changes: Any) -> Self: ...


G = TypeVar("G", bound=Group)


def append_message(
    batch: UnitBatch,
    group: G,
    *,
    sender_id: str,
    side: str,
    kind: str,
    body: str,
    client_id: str,
    attachment_id: str | None = None,
) -> tuple[G, StoredMessage]:
    """The message at the group's next position, added to the unit's batch; the group
    with its new last position (the caller stores it)."""
    position = group.last_position + 1
    message_id = max(new_id(), group.last_position_id + 1)
    now = utcnow()
    message = StoredMessage(
        org_id=group.org_id,
        conversation_id=group.id,
        position=position,
        id=message_id,
        sender_id=sender_id,
        sender_side=side,
        client_id=client_id,
        kind=kind,
        body=body,
        attachment_id=attachment_id,
        created_at=now,
    )
    batch.add_message(message)
    group = group.but(last_position=position, last_position_id=message_id, last_message_at=now)
    return group, message


def last_message_changes(group: Any) -> dict[str, Any]:
    """The columns a send moved (``append_message``), to store on the group's row."""
    return {
        "last_position": group.last_position,
        "last_position_id": group.last_position_id,
        "last_message_at": group.last_message_at,
        "updated_at": group.last_message_at,
    }


async def messages_after(
    svc: Services, group: Group, *, after: int, limit: int, scope: ReadScope
) -> tuple[list[StoredMessage], bool]:
    """Up to ``limit`` messages after position ``after``, oldest first, and whether more
    follow (``limit`` 0: none, only whether there are any)."""
    last = group.last_position
    after = max(after, 0)
    if limit <= 0:
        return [], after < last
    found = await svc.message_log.after(
        group.org_id,
        group.id,
        after=after,
        up_to=last,
        limit=limit + 1,
        include_notes=False,
        scope=scope,
    )
    return found[:limit], len(found) > limit
