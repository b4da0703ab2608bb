"""What a message changes between two organizations (``b2b``), inside the send unit.

- A peer agent's reply while nobody of the peer has the conversation makes it theirs
  (the first reply wins: units of one conversation run one after another).
- Text from one side into a side that closed reopens that side: the other
  organization's consoles get it back (docs/protocol.md, "Organization to organization").
"""

from __future__ import annotations

from raasel.actions.conversation_events import conversation_updated
from raasel.domain import ConversationKind, ConversationStatus, MessageKind, Side
from raasel.lib.clock import utcnow
from raasel.rules.conversations import Sender, b2b_reply_claims
from raasel.storage.message_store import NoteFilter
from raasel.storage.records import Conversation
from raasel.storage.unit_batch import UnitBatch


def notes_for(conversation: Conversation, side: str) -> NoteFilter:
    """The internal notes ``side`` may read: its own in a b2b conversation, every one
    for the organization of any other conversation, none for the customer or operators."""
    if conversation.kind == ConversationKind.B2B and side in (Side.ORG, Side.PEER):
        return side
    return side == Side.ORG


async def before_b2b_send(
    batch: UnitBatch, conversation: Conversation, sender: Sender, kind: str
) -> Conversation:
    changes: dict[str, object] = {}
    if b2b_reply_claims(conversation, sender, kind):
        changes |= {"peer_assignee_id": sender.user_id, "peer_status": ConversationStatus.ACTIVE}
    if kind == MessageKind.TEXT:
        if sender.side == Side.PEER and conversation.status == ConversationStatus.CLOSED:
            changes |= {"status": ConversationStatus.ACTIVE}
        if sender.side == Side.ORG and conversation.peer_status == ConversationStatus.CLOSED:
            back = ConversationStatus.ACTIVE if conversation.peer_assignee_id else "queued"
            changes |= {"peer_status": back}
    if not changes:
        return conversation
    after = batch.put(conversation, updated_at=utcnow(), **changes)
    if "peer_assignee_id" in changes:
        await batch.flush()
    batch.emit(*await conversation_updated(batch, after, conversation))
    return after
