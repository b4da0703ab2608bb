"""An individual's standing with organizations that write to them first (muted, blocked).

``lock_contact`` is an upsert: it creates the row or touches it, which on PostgreSQL
holds the row until COMMIT, so a block and an organization's new outreach to the same
person are serialized across nodes (on SQLite the one writer does that already).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import _FromRow
from raasel.storage.schema import org_contacts as oc


@dataclass(frozen=True, slots=True)
class Contact(_FromRow):
    user_id: str
    org_id: str
    is_muted: bool
    is_blocked: bool
    updated_at: datetime


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(oc)


async def lock_contact(
    conn: AsyncConnection, user_id: str, org_id: str, now: datetime, **changes: bool
) -> Contact:
    """The row as of this transaction (made if missing), with ``changes`` applied."""
    values = {"user_id": user_id, "org_id": org_id, "is_muted": False, "is_blocked": False}
    values |= changes
    insert = _insert(conn).values(**values, updated_at=now)
    # Without changes the row is only touched (set to itself): enough to hold it.
    touched: dict[str, Any] = (
        {**changes, "updated_at": now} if changes else {"updated_at": oc.c.updated_at}
    )
    query = insert.on_conflict_do_update(
        index_elements=[oc.c.user_id, oc.c.org_id], set_=touched
    ).returning(*oc.c)
    row = (await conn.execute(query)).one()
    return Contact.from_row(row)


async def get_contact(
    conn: AsyncConnection, user_id: str, org_id: str, *, for_update: bool = False
) -> Contact | None:
    """``for_update``: hold the row until COMMIT (PostgreSQL; SQLite has one writer)."""
    query = select(oc).where(oc.c.user_id == user_id, oc.c.org_id == org_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return Contact.from_row(row) if row else None


async def contacts_of(
    conn: AsyncConnection, user_id: str, org_ids: list[str] | None = None
) -> dict[str, Contact]:
    """The individual's rows (for ``org_ids`` only, if given), by organization."""
    query = select(oc).where(oc.c.user_id == user_id)
    if org_ids is not None:
        if not org_ids:
            return {}
        query = query.where(oc.c.org_id.in_(org_ids))
    return {r.org_id: Contact.from_row(r) for r in (await conn.execute(query)).all()}
