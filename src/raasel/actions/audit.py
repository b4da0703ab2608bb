"""The audit log: who did what, when, to which organization's settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.access import require_role
from raasel.actions.context import Actor, Services
from raasel.domain import Role
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import audit


async def record(
    conn: AsyncConnection,
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


async def list_audit(
    svc: Services, actor: Actor, org_id: str, before: str | None, limit: int
) -> list[dict[str, Any]]:
    require_role(actor, org_id, Role.ADMIN)
    async with svc.db.read() as conn:
        entries = await audit.list_entries(conn, org_id, before, limit)
    return [
        {
            "id": e.id,
            "actor_id": e.actor_id,
            "action": e.action,
            "target": e.target,
            "details": e.details,
            "created_at": e.created_at.isoformat(),
        }
        for e in entries
    ]
