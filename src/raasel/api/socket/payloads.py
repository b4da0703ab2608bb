"""Socket.IO client-event payloads (docs/protocol.md): strict, bounded.

Strict types too (pydantic's strict mode): a socket payload is JSON the client built, so
``"10"`` is not a number, ``"yes"`` not a boolean, and a Socket.IO binary attachment is
not text: each is a ``validation_error`` instead of being coerced.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from raasel.api.schemas import (
    AttachmentId,
    ClientId,
    Id,
    MessageText,
    Position,
    Strict,
    WatermarkBody,
)
from raasel.domain import Availability


class SocketStrict(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)


class SendPayload(SocketStrict):
    conversation_id: Id
    client_id: ClientId
    text: MessageText = ""
    kind: Annotated[str, StringConstraints(pattern=r"^(text|note)$")] = "text"
    attachment_id: AttachmentId | None = None


Cursor = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class HistoryPayload(SocketStrict):
    conversation_id: Id
    before: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class SyncItem(SocketStrict):
    """Resync after a position (``after_position``), or after a message id (``after``)."""

    conversation_id: Id
    after: Id | None = None
    after_position: Position | None = None


class SyncPayload(SocketStrict):
    conversations: Annotated[list[SyncItem], Field(max_length=100)]


class WatermarkPayload(WatermarkBody):
    model_config = ConfigDict(extra="forbid", strict=True)

    conversation_id: Id


class TypingPayload(SocketStrict):
    conversation_id: Id
    is_note: bool = False


class PresencePayload(SocketStrict):
    availability: Annotated[Availability | None, Field(strict=False)] = None  # its name
    restores_availability: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> PresencePayload:
        if self.availability is None and self.restores_availability is None:
            raise ValueError("give availability, restores_availability or both")
        return self
