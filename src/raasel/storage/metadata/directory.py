"""What the directory's in-memory index is built from, and how to tell it changed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import DispatchGroup, Organization
from raasel.storage.schema import audit_log, dispatch_groups, organizations

# The audit actions that change what the directory shows (orgs.py, billing.py,
# domains.py); conversation commands, members and invitations do not.
DIRECTORY_ACTIONS = (
    "org.create",
    "org.update",
    "group.create",
    "group.update",
    "plan.change",
    "domain.verify",
)


async def fingerprint(conn: AsyncConnection) -> tuple[object, ...]:
    """Changes whenever an organization or group is created or changed.

    Every such change writes the audit log in the same transaction (orgs.py, billing.py),
    so the newest audit id of those actions (index ``ix_audit_action``) plus the row
    counts is enough, and costs one small query; the far more frequent conversation
    entries leave the index alone.
    """
    newest = select(func.max(audit_log.c.id)).where(audit_log.c.action.in_(DIRECTORY_ACTIONS))
    query = select(
        newest.scalar_subquery(),
        select(func.count()).select_from(organizations).scalar_subquery(),
        select(func.count()).select_from(dispatch_groups).scalar_subquery(),
    )
    row = (await conn.execute(query)).one()
    return tuple(row)


async def all_orgs(conn: AsyncConnection) -> list[Organization]:
    rows = (await conn.execute(select(organizations))).all()
    return [Organization.from_row(r) for r in rows]


async def all_groups(conn: AsyncConnection) -> list[DispatchGroup]:
    rows = (await conn.execute(select(dispatch_groups).order_by(dispatch_groups.c.id))).all()
    return [DispatchGroup.from_row(r) for r in rows]
