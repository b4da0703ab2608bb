"""Outreach: an organization writes first to an individual (SPEC 1, kind ``outreach``).

An agent starts the conversation with a person who has an account (by email) or with a
past customer of the organization (by id). It is a ``conversations`` row of the
organization, assigned to the agent who started it, and from then on it behaves as a
support conversation on both sides (ticks, typing, notes, resolve, reopen). The person
sees who writes (the organization's verified badge) and may mute or block it
(actions/contacts.py); a blocked organization can start no new outreach with them and
write nothing more into the ones it started. docs/protocol.md, "Outreach".
"""

from __future__ import annotations

import hashlib
from typing import Any

from raasel.actions.access import require_member
from raasel.actions.contacts import badge_of, contact_view
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.conversation_events import conversation_updated
from raasel.actions.conversation_units import append, author_of
from raasel.actions.limits import check_rate
from raasel.actions.views import conversation_view, message_view
from raasel.domain import ConversationKind, ConversationStatus, MessageKind, Side, UserKind
from raasel.errors import NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id, new_str_id
from raasel.realtime.rooms import customer_rooms
from raasel.rules.direct import normalize_handle
from raasel.storage.metadata import contacts, conversations, direct_keys, organizations, people
from raasel.storage.records import Conversation, DispatchGroup, Organization, User
from raasel.storage.transaction import Tx, UniqueViolation
from raasel.storage.unit_batch import UnitBatch

# One answer for "no such account", "not a customer of yours" and "blocked you": an
# organization learns nothing about a person who does not want to hear from it.
_UNAVAILABLE = "recipient_unavailable"


def outreach_key(agent_id: str, client_id: str) -> str:
    """The open's idempotency key: the agent's client id, apart from any customer's."""
    digest = hashlib.sha256(f"{agent_id}\0{client_id}".encode()).hexdigest()
    return f"out:{digest[:56]}"


async def do_start_outreach(
    svc: Services,
    actor: Actor,
    *,
    email: str | None,
    customer_id: str | None,
    group_id: str | None,
    handle: str | None = None,
    text: str,
    subject: str,
    client_id: str,
) -> Outcome:
    """Start an outreach conversation with its first message: one unit.

    Retrying with the same ``client_id`` returns the conversation started the first time.
    """
    org_id = require_member(actor)
    if [email, handle, customer_id].count(None) != 2:
        raise ValidationFailed("give exactly one of email, handle or customer_id")
    await check_rate(svc, "outreach", f"org:{org_id}", what="new outreach conversations")
    key = outreach_key(actor.user_id, client_id)

    async def unit(batch: UnitBatch) -> tuple[Conversation, dict[str, Any] | None]:
        conn = batch.conn
        org = await organizations.get_org(conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        recipient = await _recipient(conn, actor, org_id, email, handle, customer_id)
        group = await _group_for(conn, actor, org_id, group_id)
        existing = await _started_with(conn, org_id, recipient.id, key)
        if existing is not None:
            return existing, None
        now = utcnow()
        contact = await contacts.lock_contact(conn, recipient.id, org_id, now)
        if contact.is_blocked:
            raise NotFound("this person cannot be reached", code=_UNAVAILABLE)
        conversation_id = new_str_id()
        try:
            async with conn.begin_nested():
                await conversations.insert_conversation(
                    conn,
                    {
                        "id": conversation_id,
                        "org_id": org_id,
                        "kind": ConversationKind.OUTREACH,
                        "group_id": group.id,
                        "customer_id": recipient.id,
                        "assignee_id": actor.user_id,
                        "status": ConversationStatus.ACTIVE,
                        "priority": "normal",
                        "subject": subject or text[:80],
                        "tags": [],
                        "is_escalated": False,
                        "created_at": now,
                        "updated_at": now,
                        "queued_at": None,
                        "assigned_at": now,
                        "first_message_id": new_id(),
                        "open_client_id": key,
                        "last_position": 0,
                        "last_public_position": 0,
                        "last_position_id": 0,
                    },
                    sides=(Side.CUSTOMER, Side.ORG),
                )
        except UniqueViolation:  # the same start, committed by another node meanwhile
            existing = await _started_with(conn, org_id, recipient.id, key)
            if existing is None:
                raise
            return existing, None
        created = await batch.conversation(conversation_id)
        assert created is not None
        created, first = await append(
            batch,
            created,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
            sender_name=author_of(actor),
        )
        await batch.flush()
        org_events = await conversation_updated(batch, created)
        batch.emit(*(e for e in org_events if set(e.rooms).isdisjoint(customer_rooms(created))))
        batch.emit(await _customer_event(batch, created, org, contact))
        return created, message_view(first, sender_name=author_of(actor))

    conversation, first_view = await svc.db.run(unit)
    if first_view is None:  # a retry: the first message is at position 1
        stored = await svc.message_log.at(
            conversation.org_id, conversation.id, 1, scope=actor.scope
        )
        first_view = (
            message_view(stored, sender_name=author_of(actor)) if stored is not None else None
        )
    async with svc.db.read(actor.scope) as conn:
        current = await conversations.find_conversation(conn, conversation.id, org_id=org_id)
        assert current is not None
        ids = [i for i in (current.customer_id, current.assignee_id) if i]
        view = conversation_view(
            current,
            viewer_side=Side.ORG,
            people=await people.get_users(conn, ids),
            sides=await conversations.get_sides(conn, current.id),
        )
    return Outcome({"conversation": view, "message": first_view})


async def _recipient(
    conn: Tx,
    actor: Actor,
    org_id: str,
    email: str | None,
    handle: str | None,
    customer_id: str | None,
) -> User:
    """A person with a proved address or a handle (the one they chose for direct chats),
    or someone who wrote to this organization before."""
    if email is not None or handle is not None:
        user = None
        if email is not None:
            user = await people.get_user_by_email(conn, email.strip().lower())
        elif handle is not None:
            user = await _holder_of(conn, handle)
        if user is None or user.kind != UserKind.PERSON or not user.is_verified:
            user = None
    else:
        assert customer_id is not None
        past = await conversations.customer_history(conn, org_id, customer_id, 1)
        user = await people.get_user(conn, customer_id) if past else None
    if user is None or user.id == actor.user_id:
        raise NotFound("this person cannot be reached", code=_UNAVAILABLE)
    return user


async def _holder_of(conn: Tx, handle: str) -> User | None:
    try:
        normalized = normalize_handle(handle)
    except ValidationFailed:  # not a handle anyone can hold: nobody holds it
        return None
    user_id = await direct_keys.user_of_handle(conn, normalized)
    return await people.get_user(conn, user_id) if user_id is not None else None


async def _group_for(conn: Tx, actor: Actor, org_id: str, group_id: str | None) -> DispatchGroup:
    """The group asked for, else the agent's first group, else the default: the group
    whose consoles see the conversation and whose policy routes it if it is reopened."""
    candidates = [group_id] if group_id is not None else list(actor.group_ids)
    for candidate in candidates:
        group = await organizations.get_group(conn, org_id, candidate)
        if group is not None:
            return group
    if group_id is not None:
        raise NotFound("group not found")
    group = await organizations.default_group(conn, org_id)
    if group is None:
        raise NotFound("group not found")
    return group


async def _started_with(conn: Tx, org_id: str, customer_id: str, key: str) -> Conversation | None:
    return await conversations.find_by_open_key(conn, org_id, customer_id, key)


async def _customer_event(
    batch: UnitBatch, conversation: Conversation, org: Organization, contact: contacts.Contact
) -> Event:
    """``conversation:updated`` to the person's devices, with who writes (the badge)."""
    ids = [i for i in (conversation.customer_id, conversation.assignee_id) if i]
    sides = await batch.sides(conversation.id)
    view = conversation_view(
        conversation,
        viewer_side=Side.CUSTOMER,
        people=await people.get_users(batch.conn, ids),
        sides=sides,
    )
    view["organization"] = badge_of(org)
    view["contact"] = contact_view(contact)
    return Event(
        "conversation:updated", {"conversation": view}, tuple(customer_rooms(conversation))
    )
