"""Bounded inputs of the team room routes and events (docs/protocol.md, "Team rooms").
Anything else is refused with ``validation_error`` before an action runs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from raasel.api.schemas import AttachmentId, ClientId, Id, MessageText, Position, Strict
from raasel.api.socket.payloads import SocketStrict
from raasel.rules.team_rooms import MAX_INITIAL_MEMBERS


class CreateRoomBody(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    member_ids: Annotated[list[Id], Field(max_length=MAX_INITIAL_MEMBERS)] = []


class AddMemberBody(Strict):
    user_id: Id


class RoomSendPayload(SocketStrict):
    room_id: Id
    client_id: ClientId
    text: MessageText = ""
    attachment_id: AttachmentId | None = None  # the sender's upload into this room


class RoomWatermarkPayload(SocketStrict):
    room_id: Id
    up_to_position: Position


class RoomTypingPayload(SocketStrict):
    room_id: Id
    is_typing: StrictBool = True


class RoomSyncItem(SocketStrict):
    room_id: Id
    after_position: Position = 0


class RoomSyncPayload(SocketStrict):
    rooms: Annotated[list[RoomSyncItem], Field(min_length=1, max_length=100)]
