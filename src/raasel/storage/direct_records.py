"""Records of the direct space (storage/direct_schema.py): actions never see SQL rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from raasel.storage.records import _FromRow


@dataclass(frozen=True, slots=True)
class Device(_FromRow):
    user_id: str
    device_id: int
    registration_id: int
    identity_key: str
    signed_prekey_id: int
    signed_prekey: str
    signed_prekey_signature: str
    previous_signed_prekey_id: int | None
    previous_signed_prekey: str | None
    previous_signed_prekey_signature: str | None
    previous_retired_at: datetime | None
    kyber_prekey: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DirectConversation(_FromRow):
    id: str
    user_low: str
    user_high: str
    status: str
    requested_by: str
    last_position: int
    last_position_id: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None

    @property
    def members(self) -> tuple[str, str]:
        return (self.user_low, self.user_high)

    def other(self, user_id: str) -> str:
        return self.user_high if user_id == self.user_low else self.user_low

    def has_member(self, user_id: str) -> bool:
        return user_id in (self.user_low, self.user_high)


@dataclass(frozen=True, slots=True)
class DirectMember(_FromRow):
    conversation_id: str
    user_id: str
    delivered_position: int
    read_position: int
    unread_positions: list[int]

    @property
    def unread(self) -> int:
        return len(self.unread_positions)
