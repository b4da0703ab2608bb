"""Platform support (SPEC 1, kind ``platform``): an organization and the node's operators.

- An organization's admin opens a ``platform`` conversation (billing, feature request,
  incident): stored in the organization's partition, its sides the organization
  (``org``: its leads' consoles) and the platform (``platform``: every operator's).
- A supervisor escalates any support (or outreach) conversation to the platform: from
  then on the operators may read it (what its customer sees, never internal notes) and,
  once one of them joined it (a public system message and an entry in the
  organization's audit log), write into it like an agent.

Every command is one unit keyed on its conversation (``Database.run``); the events go
out after the commit. Operators read with ``OperatorScope`` and every lookup names
``platform_at IS NOT NULL`` (storage/metadata/platform.py): a conversation that was not
opened or escalated to them answers "not found", whatever its tenant.
docs/protocol.md, "Platform support".
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from raasel.actions import audit
from raasel.actions.access import require_member, require_role
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.conversation_events import conversation_updated
from raasel.actions.conversation_units import append, load_for
from raasel.actions.limits import check_rate
from raasel.actions.views import conversation_view
from raasel.domain import ConversationKind, ConversationStatus, MessageKind, Role, Side
from raasel.errors import Conflict, Forbidden, NotFound
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id, new_str_id
from raasel.rules.conversations import OPEN_STATUSES
from raasel.storage.metadata import conversations, organizations, people, platform
from raasel.storage.records import Conversation
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch


class PlatformCategory(StrEnum):
    BILLING = "billing"
    FEATURE_REQUEST = "feature_request"
    INCIDENT = "incident"


ESCALATED = "escalation"  # the category of an escalated support conversation
ESCALATABLE = (ConversationKind.SUPPORT, ConversationKind.OUTREACH)


def require_operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise NotFound("not found")


def _open_key(admin_id: str, client_id: str) -> str:
    digest = hashlib.sha256(f"platform\0{admin_id}\0{client_id}".encode()).hexdigest()
    return f"plt:{digest[:56]}"


async def do_open_platform_conversation(
    svc: Services,
    actor: Actor,
    org_id: str,
    *,
    category: PlatformCategory,
    subject: str,
    text: str,
    client_id: str,
) -> Outcome:
    """The admin's question to the platform with its first message: one unit. A retry
    with the same ``client_id`` returns the conversation opened the first time."""
    require_role(actor, org_id, Role.ADMIN)
    await check_rate(svc, "open", f"user:{actor.user_id}")
    key = _open_key(actor.user_id, client_id)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        existing = await platform.find_opened(conn, org_id, key)
        if existing is not None:
            return await _org_view(conn, existing)
        now = utcnow()
        conversation_id = new_str_id()
        await conversations.insert_conversation(
            conn,
            {
                "id": conversation_id,
                "org_id": org_id,
                "kind": ConversationKind.PLATFORM,
                "group_id": None,
                "customer_id": None,
                "assignee_id": actor.user_id,  # the admin's consoles, and "mine"
                "status": ConversationStatus.ACTIVE,
                "priority": "high" if category == PlatformCategory.INCIDENT else "normal",
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
                "platform_at": now,
                "platform_category": category.value,
                "platform_operator_ids": [],
            },
            sides=(Side.ORG, Side.PLATFORM),
        )
        created = await batch.conversation(conversation_id)
        assert created is not None
        created, _ = await append(
            batch,
            created,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
        )
        await batch.flush()
        await audit.record(
            conn,
            org_id,
            actor.user_id,
            "platform.open",
            conversation_id,
            {"category": category.value, "subject": created.subject},
        )
        batch.emit(*await conversation_updated(batch, created))
        return await _org_view(conn, created)

    return Outcome({"conversation": await svc.db.run(unit)})


async def do_escalate_to_platform(
    svc: Services, actor: Actor, conversation_id: str, reason: str
) -> Outcome:
    """A supervisor (or above) hands a conversation to the platform team as well: the
    operators see it from this commit on; an internal note and the audit log say so."""
    require_member(actor)
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden(f"requires the {Role.SUPERVISOR} role")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        if before.kind not in ESCALATABLE:
            raise Conflict("only support conversations are escalated", code="invalid_state")
        if before.platform_at is not None:
            raise Conflict("already with the platform team", code="already_escalated")
        if before.status not in OPEN_STATUSES:
            raise Conflict("only open conversations can be escalated", code="not_open")
        now = utcnow()
        after = batch.put(
            before,
            is_escalated=True,
            updated_at=now,
            platform_at=now,
            platform_category=ESCALATED,
            platform_operator_ids=[],
            platform_reason=reason.strip() or None,
        )
        after, _ = await append(
            batch,
            after,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.NOTE,
            body=f"{actor.display_name} escalated the conversation to platform support"
            + (f": {reason.strip()}" if reason.strip() else ""),
        )
        await batch.flush()
        await audit.record_conversation(
            batch.conn, actor, "escalate_platform", before, after, reason=reason.strip() or None
        )
        batch.emit(*await conversation_updated(batch, after, before))
        return await _org_view(batch.conn, after)

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def do_join(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """An operator joins: from now on they may write. Joining twice changes nothing."""
    require_operator(actor)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        joined = before.platform_operator_ids or []
        if actor.user_id in joined:
            return await _platform_view(batch.conn, before)
        if before.status == ConversationStatus.CLOSED:
            raise Conflict("the conversation is closed", code="conversation_closed")
        after = batch.put(before, platform_operator_ids=[*joined, actor.user_id])
        after, _ = await append(
            batch,
            after,
            sender_id=actor.user_id,
            sender_side=Side.PLATFORM,
            kind=MessageKind.SYSTEM,
            body=f"{actor.display_name} from platform support joined the conversation",
        )
        await batch.flush()
        await audit.record(
            batch.conn,
            after.org_id,
            actor.user_id,
            "platform.join",
            after.id,
            {"subject": after.subject, "customer_id": after.customer_id},
        )
        batch.emit(*await conversation_updated(batch, after, before))
        return await _platform_view(batch.conn, after)

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def list_platform_conversations(
    svc: Services, actor: Actor, *, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """The operators' list: what was opened or escalated to the platform, and nothing else."""
    require_operator(actor)
    statuses = [status] if status else [s.value for s in ConversationStatus]
    async with svc.db.read(actor.scope) as conn:
        found = await platform.list_platform_conversations(conn, statuses=statuses, limit=limit)
        return [await _platform_view(conn, c) for c in found]


async def get_platform_conversation(
    svc: Services, actor: Actor, conversation_id: str
) -> dict[str, Any]:
    require_operator(actor)
    async with svc.db.read(actor.scope) as conn:
        found = await platform.find_platform_conversation(conn, conversation_id)
        if found is None:
            raise NotFound("conversation not found")
        return await _platform_view(conn, found)


async def list_org_platform_conversations(
    svc: Services, actor: Actor, org_id: str, limit: int
) -> list[dict[str, Any]]:
    """An organization's own platform conversations (its leads: supervisors and above)."""
    require_role(actor, org_id, Role.SUPERVISOR)
    async with svc.db.read(actor.scope) as conn:
        found = await platform.list_of_org(conn, org_id, limit)
        return [await _org_view(conn, c) for c in found]


async def _names(conn: Tx, conversation: Conversation) -> dict[str, Any]:
    ids = [
        i
        for i in (
            conversation.customer_id,
            conversation.assignee_id,
            *(conversation.platform_operator_ids or []),
        )
        if i
    ]
    return await people.get_users(conn, ids)


async def _org_view(conn: Tx, conversation: Conversation) -> dict[str, Any]:
    return conversation_view(
        conversation,
        viewer_side=Side.ORG,
        people=await _names(conn, conversation),
        sides=await conversations.get_sides(conn, conversation.id),
    )


async def _platform_view(conn: Tx, conversation: Conversation) -> dict[str, Any]:
    """What an operator sees: the customer's view, the organization named, who joined."""
    names = await _names(conn, conversation)
    view = conversation_view(
        conversation,
        viewer_side=Side.PLATFORM,
        people=names,
        sides=await conversations.get_sides(conn, conversation.id),
    )
    org = await organizations.get_org(conn, conversation.org_id)
    view["organization"] = {"id": org.id, "slug": org.slug, "name": org.name} if org else None
    view["platform"]["operators"] = [
        {"id": i, "name": names[i].display_name if i in names else None}
        for i in conversation.platform_operator_ids or []
    ]
    return view
