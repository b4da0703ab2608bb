"""Organizations' invitations to an address (scoped by organization in every query)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Invitation
from raasel.storage.schema import invitations as t

PENDING = "pending"
ACCEPTED = "accepted"
REVOKED = "revoked"


async def insert_invitation(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def get_invitation(conn: AsyncConnection, invitation_id: str) -> Invitation | None:
    """By id alone: only for a holder of its signed link (actions/invitations.py)."""
    row = (await conn.execute(select(t).where(t.c.id == invitation_id))).first()
    return Invitation.from_row(row) if row else None


async def get_org_invitation(
    conn: AsyncConnection, org_id: str, invitation_id: str
) -> Invitation | None:
    query = select(t).where(t.c.id == invitation_id, t.c.org_id == org_id)
    row = (await conn.execute(query)).first()
    return Invitation.from_row(row) if row else None


async def list_pending(conn: AsyncConnection, org_id: str, now: datetime) -> list[Invitation]:
    query = (
        select(t)
        .where(t.c.org_id == org_id, t.c.status == PENDING, t.c.expires_at > now)
        .order_by(t.c.created_at.desc())
        .limit(500)
    )
    return [Invitation.from_row(r) for r in (await conn.execute(query)).all()]


async def revoke_pending_for(conn: AsyncConnection, org_id: str, email: str) -> None:
    """A new invitation replaces the address's earlier ones in this organization."""
    await conn.execute(
        update(t)
        .where(t.c.org_id == org_id, t.c.email == email, t.c.status == PENDING)
        .values(status=REVOKED)
    )


async def set_status(conn: AsyncConnection, invitation_id: str, status: str, **values: Any) -> bool:
    """Move a pending invitation to ``status``; False if it was no longer pending."""
    result = await conn.execute(
        update(t)
        .where(t.c.id == invitation_id, t.c.status == PENDING)
        .values(status=status, **values)
    )
    return result.rowcount == 1
