"""Socket.IO client-event payloads (docs/protocol.md): strict, bounded."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from raasel.api.schemas import ClientId, Id, MessageText, Strict
from raasel.domain import Availability


class SendPayload(Strict):
    conversation_id: Id
    client_id: ClientId
    text: MessageText = ""
    kind: Annotated[str, StringConstraints(pattern=r"^(text|note)$")] = "text"
    attachment_id: Id | None = None


class HistoryPayload(Strict):
    conversation_id: Id
    before: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = (
        None
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class SyncItem(Strict):
    conversation_id: Id
    after: Id = "0"


class SyncPayload(Strict):
    conversations: Annotated[list[SyncItem], Field(max_length=100)]


class WatermarkPayload(Strict):
    conversation_id: Id
    up_to: Id


class TypingPayload(Strict):
    conversation_id: Id
    is_note: bool = False


class PresencePayload(Strict):
    availability: Availability
