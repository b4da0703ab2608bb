"""What every action receives: the stores, the settings, and who is acting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from raasel.config import Settings
from raasel.domain import ROLE_RANK, Role, UserKind
from raasel.search.catalog import DirectoryCache
from raasel.storage.attachment_files import LocalAttachmentFiles
from raasel.storage.database import Database
from raasel.storage.ephemeral import EphemeralState
from raasel.storage.message_log import MessageLog
from raasel.storage.message_store import MessageStore
from raasel.storage.tenancy import OperatorScope, TenantScope

if TYPE_CHECKING:
    from raasel.actions.channel_runtime import ChannelRuntime
    from raasel.mail.outbox import MailOutbox


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    messages: MessageStore
    ephemeral: EphemeralState
    files: LocalAttachmentFiles
    message_log: MessageLog
    # The directory's in-memory search index of this process (actions/directory.py).
    directory: DirectoryCache = field(default_factory=lambda: DirectoryCache())
    # Delivers queued mail after commit (mail/outbox.py); None: mail waits in the outbox
    # table for a node that delivers it (the CLI's short-lived services).
    mailer: MailOutbox | None = None
    # Social channels' secrets, Graph API client and workers (actions/channel_runtime.py).
    channels: ChannelRuntime | None = None


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
    # When the access token it came from expires: a socket's session is re-checked then
    # (realtime/connections.py).
    token_expires_at: datetime | None = None
    # A platform operator's session (actions/platform_access.py): no organization, and
    # only the conversations opened or escalated to the platform.
    is_operator: bool = False

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_visitor(self) -> bool:
        return self.kind == UserKind.VISITOR

    @property
    def scope(self) -> TenantScope | OperatorScope:
        """What this caller's reads may see under row-level security: a member's whole
        organization; anyone's own conversations (a visitor's organization is not theirs);
        an operator's, the conversations opened or escalated to the platform."""
        if self.is_operator:
            return OperatorScope(self.user_id)
        return TenantScope(org_id=self.org_id if self.is_member else None, user_id=self.user_id)

    def has_role(self, minimum: Role) -> bool:
        return self.role is not None and ROLE_RANK[Role(self.role)] >= ROLE_RANK[minimum]


@dataclass(frozen=True, slots=True)
class Event:
    """A live event to publish after the write that caused it has committed."""

    name: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]
    skip_sid: str | None = None
    # A reply to a social channel's conversation: the channel sender has work (it is
    # rung after publishing; other messages never cost it a database read).
    for_channel: bool = False


@dataclass
class Outcome:
    """An action's result and the events it wants published."""

    result: Any = None
    events: list[Event] = field(default_factory=list)
