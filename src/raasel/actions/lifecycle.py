"""A support conversation's life: open, list, resolve, close, reopen, escalate (SPEC 2.2).

Each mutation is one unit keyed on its conversation (``Database.run``): the state is
read, checked and changed inside the committer's transaction, system messages get their
positions in the same unit, and events go out after the commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from raasel.actions import audit, offline
from raasel.actions.access import access_conversation, require_member, side_in, side_of
from raasel.actions.assignment import Reachable, drain_group, reachable, route
from raasel.actions.b2b_views import read_b2b_view
from raasel.actions.contacts import decorate_for_person
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.conversation_events import conversation_updated, queue_events
from raasel.actions.conversation_units import append, author_of, load_for
from raasel.actions.customer_views import name_places
from raasel.actions.directory import route_first_message
from raasel.actions.inbox_canned import check_label_before_resolve
from raasel.actions.limits import check_rate
from raasel.actions.ticket_fields import checked_category
from raasel.actions.views import conversation_view, message_view
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
from raasel.rules.conversations import OPEN_STATUSES, check_may_reopen, check_transition
from raasel.rules.prechat import Prechat, check_team
from raasel.rules.routing import pick_group
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Conversation
from raasel.storage.tenancy import TenantScope
from raasel.storage.transaction import Tx, UniqueViolation
from raasel.storage.unit_batch import UnitBatch

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
    follows: str | None = None,
    on_open: Callable[[Tx, str], Awaitable[None]] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Open a support conversation with its first message, queued then routed: one unit.

    ``on_open``: more to write in the same transaction once the conversation row exists
    (a social channel's link to it, actions/channel_inbound.py).

    ``now``: the time business hours are judged at (tests inject it; default: now).

    ``follows``: the customer's closed conversation this one continues (closed is final
    for the customer; writing again starts a new conversation, linked to the old one,
    and by default in its group).

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
    online = await reachable(svc, org_id)
    judged_at = now  # (the unit's own ``now`` is the commit's time)

    async def unit(
        batch: UnitBatch,
    ) -> tuple[Conversation, dict[str, Any] | None, dict[str, Any] | None]:
        conn = batch.conn
        org = await organizations.get_org(conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        earlier = None
        if follows is not None:
            earlier = await conversations.find_conversation(
                conn, follows, customer_id=actor.user_id
            )
            if earlier is None or earlier.org_id != org.id:
                raise NotFound("conversation not found")
            if earlier.status != ConversationStatus.CLOSED:
                raise Conflict("only a closed conversation is followed up", code="invalid_state")
        if actor.is_visitor and earlier is None:  # the pre-chat form's team, if required
            check_team(Prechat.of(org.settings), group_id)
        staffing = await organizations.groups_with_staffing(conn, org.id, sorted(online.user_ids))
        if group_id is not None and all(s.group.id != group_id for s in staffing):
            raise NotFound("group not found")
        # Only a group somebody will see; none: "Unassigned" (rules/routing.py).
        group = pick_group(
            [
                group_id,
                earlier.group_id if earlier is not None else None,
                routed.group_id if routed is not None else None,
            ],
            [(s.group, s.has_members) for s in staffing],
        )
        existing = await _opened_with(conn, actor.user_id, client_id)
        if existing is not None:
            return existing, None, None
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
                        "group_id": group.id if group else None,
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
                        "follows_id": follows,
                        "last_position": 0,
                        "last_public_position": 0,
                        "last_position_id": 0,
                    },
                    sides=(Side.CUSTOMER, Side.ORG),
                )
                if on_open is not None:
                    await on_open(conn, conversation_id)
        except UniqueViolation:  # the same open, committed by another node meanwhile
            existing = await _opened_with(conn, actor.user_id, client_id)
            if existing is None:
                raise
            return existing, None, None
        created = await batch.conversation(conversation_id)
        assert created is not None
        created, first = await append(
            batch,
            created,
            sender_id=actor.user_id,
            sender_side=Side.CUSTOMER,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
            sender_name=author_of(actor),
        )
        at = judged_at or now
        # A closed team gets no automatic assignment: the conversation waits in its queue
        # (agents may claim it) and is routed when the team opens (actions/away.py).
        is_open = offline.is_open_for(org, group, at)
        after = await route(batch, created, online) if is_open else created
        await batch.flush()
        batch.emit(*await conversation_updated(batch, after, created))
        batch.emit(*await queue_events(conn, after.org_id, after.group_id))
        notice = None
        if after.status == ConversationStatus.QUEUED:
            has_online = (
                any(s.has_online for s in staffing if s.group.id == group.id)
                if group is not None
                else bool(online.user_ids)  # "Unassigned": any agent with a console
            )
            notice = offline.notice_for(org, group, has_online, actor, at)
        return after, message_view(first, sender_name=author_of(actor)), notice

    conversation, first_view, notice = await svc.db.run(unit)
    if first_view is None:  # a retry: the first message is at position 1
        stored = await svc.message_log.at(
            conversation.org_id, conversation.id, 1, scope=actor.scope
        )
        first_view = (
            message_view(stored, sender_name=author_of(actor)) if stored is not None else None
        )
    async with svc.db.read(actor.scope) as conn:
        current = await conversations.find_conversation(conn, conversation.id)
        assert current is not None
        view = await _view(conn, current, Side.CUSTOMER)
        # Which team has it, routed or not (``group: null``: "Unassigned").
        group = (
            await organizations.get_group(conn, current.org_id, current.group_id)
            if current.group_id is not None
            else None
        )
        view["routing"] = {
            "group": {"id": group.id, "name": group.name} if group else None,
            "is_auto_routed": routed is not None
            and routed.group_id is not None
            and routed.group_id == current.group_id,
            "confidence": routed.confidence if routed else None,
            "reason": routed.reason if routed else None,
            "not_routed_because": routed.not_routed_because if routed else None,
        }
        if notice is not None:
            view["offline"] = notice
    return Outcome({"conversation": view, "message": first_view})


async def _opened_with(conn: Tx, customer_id: str, client_id: str) -> Conversation | None:
    for conversation, _ in await conversations.list_for_customer(
        conn, customer_id, Side.CUSTOMER, 50
    ):
        if conversation.open_client_id == client_id:
            return conversation
    return None


async def _view(conn: Tx, conversation: Conversation, side: str) -> dict[str, Any]:
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
    async with svc.db.read(actor.scope) as conn:
        # A read: both organizations of a b2b conversation, each its own side's view.
        conversation = await access_conversation(conn, actor, conversation_id, as_peer=True)
        if conversation.kind == ConversationKind.B2B:
            sides = await conversations.get_sides(conn, conversation.id)
            return await read_b2b_view(conn, conversation, side_in(actor, conversation), sides)
        view = await _view(conn, conversation, side_of(actor))
        if not actor.is_member:
            [view] = await name_places(conn, [view])
        if actor.is_member and conversation.customer_id:
            customer = await people.get_user(conn, conversation.customer_id)
            past = await conversations.customer_history(
                conn, conversation.org_id, conversation.customer_id, 20
            )
            view["customer_panel"] = {
                "id": conversation.customer_id,
                "name": customer.display_name if customer else None,
                # A visitor's is the pre-chat form's (unverified).
                "email": (customer.email or customer.contact_email) if customer else None,
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
        if not actor.is_member:
            await decorate_for_person(conn, actor.user_id, [view])
    if conversation.status == ConversationStatus.QUEUED:
        # The queue holds other customers' conversations, which a customer's own scope
        # does not see: counted as the organization (only the position leaves).
        async with svc.db.read(TenantScope(org_id=conversation.org_id)) as conn:
            queued = (
                await conversations.queued_in_group(
                    conn, conversation.org_id, conversation.group_id
                )
                if conversation.group_id
                else await conversations.queued_without_group(conn, conversation.org_id)
            )
        ids = [c.id for c in queued]
        view["queue_position"] = ids.index(conversation.id) + 1 if conversation.id in ids else None
    if conversation.status == ConversationStatus.QUEUED and not actor.is_member:
        notice = await offline.notice_for_waiting(svc, actor, conversation)
        if notice is not None:
            view["offline"] = notice
    return view


async def list_conversations(
    svc: Services, actor: Actor, *, scope: str, limit: int
) -> list[dict[str, Any]]:
    """The caller's conversations with unread counts and last message, one query.

    Scopes for agents: ``mine`` (assigned to me, open), ``queue`` (waiting in my
    groups), ``all`` (every conversation I may see); individuals see their own.
    """
    async with svc.db.read(actor.scope) as conn:
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
        views = [
            conversation_view(c, viewer_side=side, people=names, unread=s.unread) for c, s in rows
        ]
        if not actor.is_member:  # who writes (the badge) and the person's mute/block
            views = await decorate_for_person(conn, actor.user_id, views)
            views = await name_places(conn, views)
    return views


async def do_update_conversation(
    svc: Services, actor: Actor, conversation_id: str, changes: dict[str, Any]
) -> Outcome:
    """Tags, priority and subject: agents who can see the conversation."""
    require_member(actor)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        values = dict(changes)
        if "category" in values:  # one of the organization's, checked on this state
            values["category"] = await checked_category(batch, before.org_id, values["category"])
        after = batch.put(before, **values, updated_at=utcnow()) if values else before
        await batch.flush()
        batch.emit(*await conversation_updated(batch, after, before))
        return await _view(batch.conn, after, Side.ORG)

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def _change_status(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    to: str,
    allowed_from: tuple[str, ...],
    text: str,
    action: str,
    extra: dict[str, Any] | None = None,
    check: Callable[[UnitBatch, Conversation], Awaitable[None]] | None = None,
) -> Outcome:
    online = await reachable(svc, actor.org_id) if actor.org_id else None

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        check_transition(before, to, allowed_from)
        if check is not None:
            await check(batch, before)
        after = batch.put(before, status=to, updated_at=utcnow(), **(extra or {}))
        after = await status_changed(batch, actor, before, after, text, online)
        await audit.record_conversation(batch.conn, actor, action, before, after)
        return await _view(batch.conn, after, side_of(actor))

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def status_changed(
    batch: UnitBatch,
    actor: Actor,
    before: Conversation,
    after: Conversation,
    text: str,
    online: Reachable | None,
) -> Conversation:
    """The system message, the events, and the queue moving when an agent is freed."""
    after, _ = await append(
        batch,
        after,
        sender_id=actor.user_id,
        sender_side=side_of(actor),
        kind=MessageKind.SYSTEM,
        body=text,
    )
    await batch.flush()
    batch.emit(*await conversation_updated(batch, after, before))
    if before.status == ConversationStatus.QUEUED or after.status == ConversationStatus.QUEUED:
        batch.emit(*await queue_events(batch.conn, after.org_id, after.group_id))
    freed = (
        before.assignee_id is not None
        and before.status == ConversationStatus.ACTIVE
        and (after.status != ConversationStatus.ACTIVE or after.assignee_id != before.assignee_id)
    )
    if freed and online is not None and before.assignee_id is not None:
        # The assignee has one conversation fewer: their queues may move.
        for gid in await people.group_ids_of_member(batch.conn, before.org_id, before.assignee_id):
            moved = await drain_group(batch, before.org_id, gid, online)
            if moved:
                await batch.flush()
                for moved_before, moved_after in moved:
                    batch.emit(*await conversation_updated(batch, moved_after, moved_before))
                batch.emit(*await queue_events(batch.conn, before.org_id, gid))
    return after


async def do_resolve(
    svc: Services, actor: Actor, conversation_id: str, resolution_note: str = ""
) -> Outcome:
    """``resolution_note``: what was done, for the organization (ticket fields)."""
    require_member(actor)
    return await _change_status(
        svc,
        actor,
        conversation_id,
        to=ConversationStatus.RESOLVED,
        allowed_from=OPEN_STATUSES,
        text=f"{actor.display_name} resolved the conversation",
        action="resolve",
        extra={"resolved_at": utcnow(), "resolution_note": resolution_note.strip() or None},
        check=check_label_before_resolve,  # the organization's option (actions/inbox_canned.py)
    )


async def do_close(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """Agents close; the customer may also end the conversation."""
    return await _change_status(
        svc,
        actor,
        conversation_id,
        to=ConversationStatus.CLOSED,
        allowed_from=(*OPEN_STATUSES, ConversationStatus.RESOLVED),
        text=f"{actor.display_name} closed the conversation",
        action="close",
    )


_REOPENABLE = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)


async def reopen_in_unit(
    batch: UnitBatch, actor: Actor, conversation: Conversation, online: Reachable
) -> Conversation:
    """Back to the queue of its group, then routed again, inside the caller's unit."""
    check_transition(conversation, ConversationStatus.QUEUED, _REOPENABLE)
    now = utcnow()
    after = batch.put(
        conversation,
        status=ConversationStatus.QUEUED,
        assignee_id=None,
        queued_at=now,
        resolved_at=None,
        updated_at=now,
    )
    after = await status_changed(
        batch, actor, conversation, after, f"{actor.display_name} reopened the conversation", None
    )
    await audit.record_conversation(batch.conn, actor, "reopen", conversation, after)
    routed = await route(batch, after, online)
    if routed is not after:
        await batch.flush()
        batch.emit(*await conversation_updated(batch, routed, after))
        batch.emit(*await queue_events(batch.conn, routed.org_id, routed.group_id))
    return routed


async def do_reopen(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """Agents reopen resolved or closed conversations; customers only resolved ones."""
    async with svc.db.read(actor.scope) as conn:
        org_id = (await access_conversation(conn, actor, conversation_id)).org_id
    online = await reachable(svc, org_id)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        check_may_reopen(before, side_of(actor))
        after = await reopen_in_unit(batch, actor, before, online)
        return await _view(batch.conn, after, side_of(actor))

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def do_escalate(
    svc: Services, actor: Actor, conversation_id: str, supervisor_id: str | None
) -> Outcome:
    """Flag for the leads (and optionally hand to a supervisor); an internal note records it."""
    org_id = require_member(actor)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        if before.status not in OPEN_STATUSES:
            raise Conflict("only open conversations can be escalated", code="not_open")
        values: dict[str, Any] = {"is_escalated": True, "updated_at": utcnow()}
        if supervisor_id is not None:
            membership = await people.get_membership(batch.conn, org_id, supervisor_id)
            if membership is None or not membership.is_active or membership.role == Role.AGENT:
                raise NotFound("supervisor not found")
            values |= {
                "assignee_id": supervisor_id,
                "status": ConversationStatus.ACTIVE,
                "assigned_at": utcnow(),
            }
        after = batch.put(before, **values)
        after, _ = await append(
            batch,
            after,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.NOTE,
            body=f"{actor.display_name} escalated the conversation",
        )
        await batch.flush()
        await audit.record_conversation(batch.conn, actor, "escalate", before, after)
        batch.emit(*await conversation_updated(batch, after, before))
        if before.status == ConversationStatus.QUEUED:
            batch.emit(*await queue_events(batch.conn, org_id, after.group_id))
        return await _view(batch.conn, after, Side.ORG)

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))
