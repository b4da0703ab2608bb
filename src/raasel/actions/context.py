"""What every action receives: the stores, the settings, and who is acting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from raasel.config import Settings
from raasel.domain import ROLE_RANK, Role, UserKind
from raasel.search.catalog import DirectoryCache
from raasel.storage.attachment_files import LocalAttachmentFiles
from raasel.storage.database import Database
from raasel.storage.ephemeral import EphemeralState
from raasel.storage.message_store import MessageStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    messages: MessageStore
    ephemeral: EphemeralState
    files: LocalAttachmentFiles
    # The directory's in-memory search index of this process (actions/directory.py).
    directory: DirectoryCache = field(default_factory=lambda: DirectoryCache())


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller: an individual, a visitor, or a member of one organization."""

    user_id: str
    kind: str
    display_name: str
    session_id: str
    org_id: str | None = None  # set for members (acting for that org) and for visitors
    role: str | None = None  # set for members only
    group_ids: tuple[str, ...] = ()
    plan: str = "free"

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_visitor(self) -> bool:
        return self.kind == UserKind.VISITOR

    def has_role(self, minimum: Role) -> bool:
        return self.role is not None and ROLE_RANK[Role(self.role)] >= ROLE_RANK[minimum]


@dataclass(frozen=True, slots=True)
class Event:
    """A live event to publish after the write that caused it has committed."""

    name: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]
    skip_sid: str | None = None


@dataclass
class Outcome:
    """An action's result and the events it wants published."""

    result: Any = None
    events: list[Event] = field(default_factory=list)
