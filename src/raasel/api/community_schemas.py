"""Bounded inputs of the community routes and events (docs/protocol.md, "Community
channels"). Anything else is refused with ``validation_error`` before an action runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from raasel.api.schemas import ClientId, Id, MessageText, Position, Strict
from raasel.api.socket.payloads import SocketStrict

InviteCode = Annotated[
    str, StringConstraints(min_length=16, max_length=48, pattern=r"^[A-Za-z0-9_-]+$")
]


class CreateCommunityBody(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    join_mode: Literal["open", "invite", "approval"] = "open"


class JoinByCodeBody(Strict):
    code: InviteCode


class MuteBody(Strict):
    is_muted: StrictBool


class CommunitySendPayload(SocketStrict):
    channel_id: Id
    client_id: ClientId
    text: MessageText


class CommunityWatermarkPayload(SocketStrict):
    channel_id: Id
    up_to_position: Position


class CommunitySyncItem(SocketStrict):
    channel_id: Id
    after_position: Position = 0


class CommunitySyncPayload(SocketStrict):
    channels: Annotated[list[CommunitySyncItem], Field(min_length=1, max_length=100)]
