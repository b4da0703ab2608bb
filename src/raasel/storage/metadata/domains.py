"""Domains organizations claim, and the tokens that prove them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import DomainClaim
from raasel.storage.schema import domain_claims as t


async def claims_of(conn: AsyncConnection, org_id: str) -> dict[str, DomainClaim]:
    rows = (await conn.execute(select(t).where(t.c.org_id == org_id))).all()
    return {row.domain: DomainClaim.from_row(row) for row in rows}


async def insert_claim(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def mark_checked(
    conn: AsyncConnection, org_id: str, domain: str, when: datetime, *, verified: bool
) -> None:
    values: dict[str, Any] = {"checked_at": when}
    if verified:
        values["verified_at"] = when
    await conn.execute(update(t).where(t.c.org_id == org_id, t.c.domain == domain).values(**values))
