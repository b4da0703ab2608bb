"""The audit log: who did what, when: an organization's settings, its members, its plan,
and what its people did to conversations (assignments, transfers, resolutions...),
each written in the transaction (or the conversation's unit) that did it, and read back
as sentences with names (``rules/audit_sentences.py``)."""

from __future__ import annotations

from typing import Any

from raasel.actions.access import require_role
from raasel.actions.context import Actor, Services
from raasel.domain import Role
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.rules import audit_sentences
from raasel.storage.metadata import audit, organizations, people
from raasel.storage.records import Conversation
from raasel.storage.transaction import Tx


async def record(
    conn: Tx,
    org_id: str,
    actor_id: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Write an audit entry inside the caller's transaction: logged if and only if done."""
    await audit.insert_entry(
        conn,
        {
            "id": new_str_id(),
            "org_id": org_id,
            "actor_id": actor_id,
            "action": action,
            "target": target,
            "details": details or {},
            "created_at": utcnow(),
        },
    )


async def record_conversation(
    conn: Tx,
    actor: Actor,
    action: str,
    before: Conversation,
    after: Conversation,
    **details: str | None,
) -> None:
    """A member's command on a conversation, in the conversation's own unit (customers'
    own closes and reopens are theirs, not the organization's doing: not audited)."""
    if not actor.is_member:
        return
    facts = {
        "subject": after.subject,
        "customer_id": after.customer_id,
        "agent_id": after.assignee_id,
        "from_agent_id": before.assignee_id if before.assignee_id != after.assignee_id else None,
        "group_id": after.group_id,
        "from_group_id": before.group_id if before.group_id != after.group_id else None,
    } | details
    kept = {k: v for k, v in facts.items() if v is not None}
    await record(conn, after.org_id, actor.user_id, f"conversation.{action}", after.id, kept)


async def list_audit(
    svc: Services, actor: Actor, org_id: str, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first, each with ``actor_name`` and ``summary``: a sentence with names
    (people and groups looked up once for the page, in the organization)."""
    require_role(actor, org_id, Role.ADMIN)
    async with svc.db.read(actor.scope) as conn:
        entries = await audit.list_entries(conn, org_id, before, limit)
        person_ids = {i for e in entries for i in audit_sentences.people_named(e)}
        people_found = await people.get_users(conn, sorted(person_ids))
        groups = {g.id: g.name for g in await organizations.list_groups(conn, [org_id])}
    names = audit_sentences.Names(
        people={i: u.display_name for i, u in people_found.items()}, groups=groups
    )
    return [
        {
            "id": e.id,
            "actor_id": e.actor_id,
            "actor_name": names.person(e.actor_id),
            "action": e.action,
            "target": e.target,
            "details": e.details,
            "summary": audit_sentences.sentence(e, names),
            "created_at": e.created_at.isoformat(),
        }
        for e in entries
    ]
