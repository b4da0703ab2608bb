"""A support conversation's life: open, list, resolve, close, reopen, escalate (SPEC 2.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.access import access_conversation, require_member, side_of
from raasel.actions.assignment import (
    announce_assignments,
    assign,
    choose_agent,
    drain_and_announce,
    groups_of,
)
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.conversation_events import conversation_updated, queue_events
from raasel.actions.directory import route_first_message
from raasel.actions.limits import check_rate
from raasel.actions.messages import append_message
from raasel.actions.views import conversation_view
from raasel.domain import (
    ConversationKind,
    ConversationStatus,
    MessageKind,
    Role,
    Side,
)
from raasel.errors import Conflict, Forbidden, NotFound
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id, new_str_id
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Conversation

OPEN = [ConversationStatus.QUEUED, ConversationStatus.ACTIVE]


async def do_open_conversation(
    svc: Services,
    actor: Actor,
    *,
    org_id: str,
    group_id: str | None,
    text: str,
    client_id: str,
    subject: str,
    client_ip: str,
) -> Outcome:
    """Open a support conversation with its first message; it queues, then is assigned.

    Retrying with the same ``client_id`` returns the conversation opened the first time.
    """
    if actor.is_member:
        raise Forbidden("agents cannot open support conversations")
    if actor.is_visitor and actor.org_id != org_id:
        raise NotFound("organization not found")
    await check_rate(svc, "open", f"user:{actor.user_id}", f"ip:{client_ip}")
    # Without a group, the AI router picks one from the first message when it is confident
    # enough; otherwise the organization's default group takes it (docs/protocol.md).
    routed = None if group_id is not None else await route_first_message(svc, org_id, text)

    async def work(conn: AsyncConnection) -> tuple[Conversation, bool]:
        org = await organizations.get_org(conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        if group_id is not None:
            group = await organizations.get_group(conn, org.id, group_id)
        else:
            group = None
            if routed is not None and routed.group_id is not None:
                group = await organizations.get_group(conn, org.id, routed.group_id)
            group = group or await organizations.default_group(conn, org.id)
        if group is None:
            raise NotFound("group not found")
        now = utcnow()
        conversation_id = new_str_id()
        try:
            async with conn.begin_nested():
                await conversations.insert_conversation(
                    conn,
                    {
                        "id": conversation_id,
                        "org_id": org.id,
                        "kind": ConversationKind.SUPPORT,
                        "group_id": group.id,
                        "customer_id": actor.user_id,
                        "assignee_id": None,
                        "status": ConversationStatus.QUEUED,
                        "priority": "normal",
                        "subject": subject or text[:80],
                        "tags": [],
                        "is_escalated": False,
                        "created_at": now,
                        "updated_at": now,
                        "queued_at": now,
                        "first_message_id": new_id(),
                        "open_client_id": client_id,
                    },
                    sides=(Side.CUSTOMER, Side.ORG),
                )
        except IntegrityError:
            existing = await _opened_with(conn, actor.user_id, client_id)
            if existing is None:
                raise
            return existing, False
        created = await conversations.find_conversation(conn, conversation_id)
        assert created is not None
        return created, True

    conversation, is_new = await svc.db.write(work)
    # The first message is appended (idempotently) even on a retry: the first attempt
    # may have died between the two writes.
    first = await append_message(
        svc,
        conversation,
        sender_id=actor.user_id,
        sender_side=Side.CUSTOMER,
        kind=MessageKind.TEXT,
        body=text,
        client_id=client_id,
    )
    events: list[Event] = []
    if is_new:
        events = await _route_new(svc, conversation)
    async with svc.db.read() as conn:
        current = await conversations.find_conversation(conn, conversation.id)
        assert current is not None
        view = await _view(conn, current, Side.CUSTOMER)
        if routed is not None and current.group_id is not None:
            group = await organizations.get_group(conn, current.org_id, current.group_id)
            view["routing"] = {
                "group": {"id": group.id, "name": group.name} if group else None,
                "is_auto_routed": routed.group_id is not None
                and routed.group_id == current.group_id,
                "confidence": routed.confidence,
                "reason": routed.reason,
            }
    return Outcome({"conversation": view, "message": first.result}, first.events + events)


async def _opened_with(
    conn: AsyncConnection, customer_id: str, client_id: str
) -> Conversation | None:
    for conversation, _ in await conversations.list_for_customer(
        conn, customer_id, Side.CUSTOMER, 50
    ):
        if conversation.open_client_id == client_id:
            return conversation
    return None


async def _route_new(svc: Services, conversation: Conversation) -> list[Event]:
    """Assign a new or reopened conversation if its group's policy finds someone."""

    async def work(conn: AsyncConnection) -> tuple[Conversation | None, list[Event]]:
        after = None
        if conversation.group_id:
            agent = await choose_agent(conn, svc, conversation.org_id, conversation.group_id)
            if agent is not None:
                after = await assign(
                    conn, svc, conversation, agent, expected=[ConversationStatus.QUEUED]
                )
        current = after or await conversations.find_conversation(conn, conversation.id)
        assert current is not None
        events = await conversation_updated(conn, current)
        events += await queue_events(conn, current.org_id, current.group_id)
        return after, events

    after, events = await svc.db.write(work)
    if after is not None:
        events += await announce_assignments(svc, [(conversation, after)])
    return events


async def _view(conn: AsyncConnection, conversation: Conversation, side: str) -> dict[str, Any]:
    ids = [i for i in (conversation.customer_id, conversation.assignee_id) if i]
    sides = await conversations.get_sides(conn, conversation.id)
    return conversation_view(
        conversation,
        viewer_side=side,
        people=await people.get_users(conn, ids),
        unread=sides[side].unread if side in sides else None,
        sides=sides,
    )


async def get_conversation(svc: Services, actor: Actor, conversation_id: str) -> dict[str, Any]:
    async with svc.db.read() as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
        view = await _view(conn, conversation, side_of(actor))
        if actor.is_member and conversation.customer_id:
            customer = await people.get_user(conn, conversation.customer_id)
            past = await conversations.customer_history(
                conn, conversation.org_id, conversation.customer_id, 20
            )
            view["customer_panel"] = {
                "id": conversation.customer_id,
                "name": customer.display_name if customer else None,
                "email": customer.email if customer else None,
                "kind": customer.kind if customer else None,
                "since": customer.created_at.isoformat() if customer else None,
                "conversations": [
                    {
                        "id": c.id,
                        "subject": c.subject,
                        "status": c.status,
                        "created_at": c.created_at.isoformat(),
                    }
                    for c in past
                ],
            }
        if conversation.status == ConversationStatus.QUEUED and conversation.group_id:
            queued = await conversations.queued_in_group(
                conn, conversation.org_id, conversation.group_id
            )
            ids = [c.id for c in queued]
            view["queue_position"] = (
                ids.index(conversation.id) + 1 if conversation.id in ids else None
            )
    return view


async def list_conversations(
    svc: Services, actor: Actor, *, scope: str, limit: int
) -> list[dict[str, Any]]:
    """The caller's conversations with unread counts and last message, one query.

    Scopes for agents: ``mine`` (assigned to me, open), ``queue`` (waiting in my
    groups), ``all`` (every conversation I may see); individuals see their own.
    """
    async with svc.db.read() as conn:
        if not actor.is_member:
            rows = await conversations.list_for_customer(
                conn,
                actor.user_id,
                Side.CUSTOMER,
                limit,
                org_id=actor.org_id if actor.is_visitor else None,
            )
            side = Side.CUSTOMER
        else:
            assert actor.org_id is not None
            side = Side.ORG
            groups = None if actor.has_role(Role.SUPERVISOR) else list(actor.group_ids)
            if scope == "mine":
                rows = await conversations.list_for_org(
                    conn,
                    actor.org_id,
                    side,
                    statuses=OPEN,
                    group_ids=None,
                    assignee_id=actor.user_id,
                    limit=limit,
                )
            elif scope == "queue":
                rows = await conversations.list_for_org(
                    conn,
                    actor.org_id,
                    side,
                    statuses=[ConversationStatus.QUEUED],
                    group_ids=groups,
                    assignee_id=None,
                    limit=limit,
                )
            else:
                rows = await conversations.list_for_org(
                    conn,
                    actor.org_id,
                    side,
                    statuses=[s.value for s in ConversationStatus],
                    group_ids=groups,
                    assignee_id=None,
                    limit=limit,
                )
        ids = {i for c, _ in rows for i in (c.customer_id, c.assignee_id) if i}
        names = await people.get_users(conn, list(ids))
    return [conversation_view(c, viewer_side=side, people=names, unread=s.unread) for c, s in rows]


async def do_update_conversation(
    svc: Services, actor: Actor, conversation_id: str, changes: dict[str, Any]
) -> Outcome:
    """Tags, priority and subject: agents who can see the conversation."""
    require_member(actor)

    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], list[Event]]:
        before = await access_conversation(conn, actor, conversation_id)
        if changes:
            await conversations.update_conversation(
                conn, before.org_id, before.id, changes | {"updated_at": utcnow()}
            )
        after = await access_conversation(conn, actor, conversation_id)
        return await _view(conn, after, Side.ORG), await conversation_updated(conn, after, before)

    view, events = await svc.db.write(work)
    return Outcome(view, events)


async def _change_status(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    to: str,
    allowed_from: Sequence[str],
    text: str,
    extra: dict[str, Any] | None = None,
) -> Outcome:
    async def work(conn: AsyncConnection) -> tuple[Conversation, Conversation, list[Event]]:
        before = await access_conversation(conn, actor, conversation_id)
        values: dict[str, Any] = {"status": to, "updated_at": utcnow()} | (extra or {})
        moved = await conversations.update_conversation(
            conn, before.org_id, before.id, values, expected_status=allowed_from
        )
        if not moved:
            raise Conflict(f"cannot go from {before.status} to {to}", code="invalid_state")
        after = await access_conversation(conn, actor, conversation_id)
        events = await conversation_updated(conn, after, before)
        if before.status == ConversationStatus.QUEUED:
            events += await queue_events(conn, after.org_id, after.group_id)
        return before, after, events

    before, after, events = await svc.db.write(work)
    system = await append_message(
        svc,
        after,
        sender_id=actor.user_id,
        sender_side=side_of(actor),
        kind=MessageKind.SYSTEM,
        body=text,
    )
    events += system.events
    if before.assignee_id and before.status == ConversationStatus.ACTIVE:
        # The assignee has one conversation fewer: the queue may move.
        events += await drain_and_announce(
            svc, before.org_id, await groups_of(svc, before.org_id, before.assignee_id)
        )
    async with svc.db.read() as conn:
        view = await _view(conn, after, side_of(actor))
    return Outcome(view, events)


async def do_resolve(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    require_member(actor)
    return await _change_status(
        svc,
        actor,
        conversation_id,
        to=ConversationStatus.RESOLVED,
        allowed_from=OPEN,
        text=f"{actor.display_name} resolved the conversation",
        extra={"resolved_at": utcnow()},
    )


async def do_close(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """Agents close; the customer may also end the conversation."""
    return await _change_status(
        svc,
        actor,
        conversation_id,
        to=ConversationStatus.CLOSED,
        allowed_from=[*OPEN, ConversationStatus.RESOLVED],
        text=f"{actor.display_name} closed the conversation",
    )


async def reopen(svc: Services, actor: Actor, conversation: Conversation) -> Outcome:
    """Back to the queue of its group, then routed again; result: the reopened record."""
    outcome = await _change_status(
        svc,
        actor,
        conversation.id,
        to=ConversationStatus.QUEUED,
        allowed_from=[ConversationStatus.RESOLVED, ConversationStatus.CLOSED],
        text=f"{actor.display_name} reopened the conversation",
        extra={"assignee_id": None, "queued_at": utcnow(), "resolved_at": None},
    )
    async with svc.db.read() as conn:
        current = await conversations.find_conversation(conn, conversation.id)
    assert current is not None
    events = outcome.events + await _route_new(svc, current)
    async with svc.db.read() as conn:
        current = await conversations.find_conversation(conn, conversation.id)
    assert current is not None
    return Outcome(current, events)


async def do_reopen(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    async with svc.db.read() as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
    outcome = await reopen(svc, actor, conversation)
    async with svc.db.read() as conn:
        view = await _view(conn, outcome.result, side_of(actor))
    return Outcome(view, outcome.events)


async def do_escalate(
    svc: Services, actor: Actor, conversation_id: str, supervisor_id: str | None
) -> Outcome:
    """Flag for the leads (and optionally hand to a supervisor); an internal note records it."""
    org_id = require_member(actor)

    async def work(conn: AsyncConnection) -> tuple[Conversation, list[Event]]:
        before = await access_conversation(conn, actor, conversation_id)
        if before.status not in OPEN:
            raise Conflict("only open conversations can be escalated", code="not_open")
        values: dict[str, Any] = {"is_escalated": True, "updated_at": utcnow()}
        if supervisor_id is not None:
            membership = await people.get_membership(conn, org_id, supervisor_id)
            if membership is None or not membership.is_active or membership.role == Role.AGENT:
                raise NotFound("supervisor not found")
            values |= {
                "assignee_id": supervisor_id,
                "status": ConversationStatus.ACTIVE,
                "assigned_at": utcnow(),
            }
        await conversations.update_conversation(conn, org_id, before.id, values)
        after = await conversations.find_conversation(conn, before.id, org_id=org_id)
        assert after is not None
        events = await conversation_updated(conn, after, before)
        if before.status == ConversationStatus.QUEUED:
            events += await queue_events(conn, org_id, after.group_id)
        return after, events

    after, events = await svc.db.write(work)
    note = await append_message(
        svc,
        after,
        sender_id=actor.user_id,
        sender_side=Side.ORG,
        kind=MessageKind.NOTE,
        body=f"{actor.display_name} escalated the conversation",
    )
    async with svc.db.read() as conn:
        view = await _view(conn, after, Side.ORG)
    return Outcome(view, events + note.events)
