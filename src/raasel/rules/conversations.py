"""Who may write what into a conversation, and what a new message changes.

Pure functions over records: the engine calls them inside the unit that writes, on the
state it has just read (locked), so a rule and the write it allows cannot be separated
by another command (docs/architecture.md, "The engine").
"""

from __future__ import annotations

from dataclasses import dataclass

from raasel.domain import ConversationKind, ConversationStatus, MessageKind, Side
from raasel.errors import Conflict, Forbidden, ValidationFailed
from raasel.storage.records import Conversation

OPEN_STATUSES = (ConversationStatus.QUEUED, ConversationStatus.ACTIVE)


@dataclass(frozen=True, slots=True)
class Sender:
    """What the rules need to know of whoever writes."""

    user_id: str
    side: str
    is_lead: bool  # supervisor or above: may reply without being the assignee


def check_client_kind(kind: str, side: str) -> None:
    if kind not in (MessageKind.TEXT, MessageKind.NOTE):
        raise ValidationFailed("clients send text or note messages")
    if kind == MessageKind.NOTE and side not in (Side.ORG, Side.PEER):
        raise Forbidden("only agents write internal notes")


def check_may_send(conversation: Conversation, sender: Sender, kind: str) -> None:
    """Closed conversations take only notes; agents reply once the conversation is theirs."""
    if conversation.kind == ConversationKind.B2B:
        check_may_send_b2b(conversation, sender, kind)
        return
    if conversation.status == ConversationStatus.CLOSED and kind != MessageKind.NOTE:
        raise Conflict("the conversation is closed", code="conversation_closed")
    if sender.side == Side.PLATFORM and sender.user_id not in (
        conversation.platform_operator_ids or []
    ):
        raise Forbidden("join the conversation before writing", code="not_joined")
    is_reply = sender.side == Side.ORG and kind == MessageKind.TEXT
    if is_reply and conversation.assignee_id != sender.user_id and not sender.is_lead:
        raise Forbidden("claim the conversation before replying", code="not_assigned")


#: The peer side's states while it has not taken the conversation in.
PEER_REQUESTED = "requested"
PEER_DECLINED = "declined"
#: An imported b2b conversation whose other organization is not on this deployment
#: (backup/org_import.py): its history stays readable, nobody writes text into it.
PEER_DETACHED = "detached"


def check_may_send_b2b(conversation: Conversation, sender: Sender, kind: str) -> None:
    """Each organization writes while its own side is open; the opener also while its
    request waits (the peer reads it when it decides), nobody after a refusal. The
    opener's agents reply once the conversation is theirs; the peer's agents take it by
    replying while nobody of theirs has it (``b2b_reply_claims``)."""
    if kind == MessageKind.NOTE:
        return
    if conversation.peer_status == PEER_DECLINED:
        raise Conflict("the organization declined the conversation", code="b2b_declined")
    if conversation.peer_status == PEER_DETACHED or conversation.peer_org_id is None:
        raise Conflict("the other organization is not on this deployment", code="b2b_detached")
    own = conversation.peer_status if sender.side == Side.PEER else conversation.status
    if own == ConversationStatus.CLOSED:
        raise Conflict("your side of the conversation is closed", code="conversation_closed")
    if sender.side == Side.PEER:
        if conversation.peer_status == PEER_REQUESTED:
            raise Conflict("accept the request before replying", code="b2b_request_pending")
        assignee = conversation.peer_assignee_id
        if assignee not in (None, sender.user_id) and not sender.is_lead:
            raise Forbidden("a colleague handles this conversation", code="not_assigned")
        return
    if conversation.assignee_id != sender.user_id and not sender.is_lead:
        raise Forbidden("claim the conversation before replying", code="not_assigned")


def b2b_reply_claims(conversation: Conversation, sender: Sender, kind: str) -> bool:
    """A peer agent's reply while nobody of the peer has the conversation makes it theirs."""
    return (
        conversation.kind == ConversationKind.B2B
        and sender.side == Side.PEER
        and kind == MessageKind.TEXT
        and conversation.peer_assignee_id is None
    )


def reopens(conversation: Conversation, sender: Sender, kind: str) -> bool:
    """A customer's message into a resolved conversation reopens it (in the same unit)."""
    return (
        sender.side == Side.CUSTOMER
        and kind == MessageKind.TEXT
        and conversation.status == ConversationStatus.RESOLVED
    )


def is_public(kind: str) -> bool:
    """Whether the customer may see a message of this kind."""
    return kind != MessageKind.NOTE


def counted_for(
    sender_side: str, kind: str, conversation_kind: str = ConversationKind.SUPPORT
) -> str | None:
    """The side whose unread count a new message raises: the other side, for text (in a
    ``platform`` conversation the organization and the platform; an operator writing
    into an escalated one writes to the customer)."""
    if kind != MessageKind.TEXT:
        return None
    if conversation_kind == ConversationKind.B2B:
        return Side.PEER if sender_side == Side.ORG else Side.ORG
    if conversation_kind == ConversationKind.PLATFORM:
        return Side.PLATFORM if sender_side == Side.ORG else Side.ORG
    return Side.ORG if sender_side == Side.CUSTOMER else Side.CUSTOMER


def check_transition(conversation: Conversation, to: str, allowed_from: tuple[str, ...]) -> None:
    if conversation.status not in allowed_from:
        raise Conflict(f"cannot go from {conversation.status} to {to}", code="invalid_state")


def check_may_reopen(conversation: Conversation, side: str) -> None:
    """Closed is final for the customer: they start a new conversation (``follows``), so
    nobody can cycle close and reopen to ring the organization's consoles forever."""
    if side == Side.CUSTOMER and conversation.status == ConversationStatus.CLOSED:
        raise Conflict(
            "the conversation is closed; start a new one (it will follow this one)",
            code="conversation_closed",
        )
