"""Pure rules of direct conversations (docs/protocol.md, "End-to-end encrypted direct
chats"): who may send, read and type; whether a send's envelopes match the devices;
how watermarks and unread counts move. No I/O: the units call them on what they loaded
inside their transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from raasel.errors import Conflict, Forbidden, StaleDevices, ValidationFailed
from raasel.storage.direct_records import DirectConversation, DirectMember

REQUEST = "request"
ACCEPTED = "accepted"
DECLINED = "declined"

MAX_DEVICES = 5
MAX_ONE_TIME_PREKEYS = 200
LOW_POOL = 20
UNREAD_KEPT = 1000  # positions of unread messages kept per member (the count shows 999+)

_HANDLE = re.compile(r"^[a-z0-9_][a-z0-9_.]{2,31}$")


def normalize_handle(handle: str) -> str:
    lowered = handle.strip().lower()
    if not _HANDLE.match(lowered):
        raise ValidationFailed("a handle is 3-32 of a-z, 0-9, '_' and '.', not starting with '.'")
    return lowered


@dataclass(frozen=True, slots=True)
class Envelope:
    user_id: str
    device_id: int
    registration_id: int | None
    type: int
    body: str


@dataclass(frozen=True, slots=True)
class DeviceRef:
    user_id: str
    device_id: int
    registration_id: int


def check_may_send(conversation: DirectConversation, sender_id: str, blocked: bool) -> None:
    """``blocked``: the other member blocked the sender."""
    if blocked:
        raise Forbidden("this person does not accept your messages", code="blocked")
    if conversation.status == ACCEPTED:
        return
    if conversation.requested_by != sender_id:
        raise Conflict("accept the message request first", code="not_accepted")
    if conversation.status == DECLINED:
        raise Conflict("your message request was declined", code="request_declined")


def check_may_signal(conversation: DirectConversation, user_id: str) -> None:
    """Read receipts and typing: not by a request's recipient before accepting."""
    if conversation.status != ACCEPTED and conversation.requested_by != user_id:
        raise Conflict("accept the message request first", code="not_accepted")


def check_envelopes(
    envelopes: Sequence[Envelope],
    devices: Iterable[DeviceRef],
    *,
    sender_id: str,
    sender_device_id: int,
) -> None:
    """Exactly one envelope per device of both members but the sending one, with the
    registration id it has where the client named one; else ``StaleDevices``."""
    current = {(d.user_id, d.device_id): d for d in devices}
    wanted = {k for k in current if k != (sender_id, sender_device_id)}
    named = [(e.user_id, e.device_id) for e in envelopes]
    if len(set(named)) != len(named):
        raise ValidationFailed("one envelope per device")
    given = set(named)
    missing = sorted(wanted - given)
    extra = sorted(given - wanted)
    stale = sorted(
        (e.user_id, e.device_id)
        for e in envelopes
        if e.registration_id is not None
        and (e.user_id, e.device_id) in current
        and current[(e.user_id, e.device_id)].registration_id != e.registration_id
    )
    if missing or extra or stale:
        lists: dict[str, list[dict[str, int]]] = {}
        for d in sorted(current.values(), key=lambda d: (d.user_id, d.device_id)):
            lists.setdefault(d.user_id, []).append(
                {"device_id": d.device_id, "registration_id": d.registration_id}
            )

        def refs(keys: list[tuple[str, int]]) -> list[dict[str, object]]:
            return [{"user_id": u, "device_id": n} for u, n in keys]

        raise StaleDevices(
            "the devices changed: re-encrypt for the current ones",
            devices=lists,
            missing=refs(missing),
            extra=refs(extra),
            stale=refs(stale),
        )


def received(member: DirectMember, position: int) -> DirectMember:
    """The other member wrote at ``position``: one more unread for ``member``."""
    if len(member.unread_positions) >= UNREAD_KEPT:
        return member
    return member.but(unread_positions=[*member.unread_positions, position])


def advance(
    member: DirectMember, field: str, up_to: int, last_position: int
) -> DirectMember | None:
    """Move a watermark forward (clamped to the last position; reading implies delivery);
    None when nothing moves."""
    up_to = min(max(up_to, 0), last_position)
    delivered = member.delivered_position
    read = member.read_position
    if field == "read":
        read = max(read, up_to)
    delivered = max(delivered, up_to if field == "delivered" else read)
    if delivered == member.delivered_position and read == member.read_position:
        return None
    unread = [p for p in member.unread_positions if p > read]
    return member.but(delivered_position=delivered, read_position=read, unread_positions=unread)
