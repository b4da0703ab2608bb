"""Links sent by mail (email verification, password reset): single use, expiring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import EmailToken
from raasel.storage.schema import email_tokens as t


async def insert_token(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def get_token(conn: AsyncConnection, token_id: str, purpose: str) -> EmailToken | None:
    query = select(t).where(t.c.id == token_id, t.c.purpose == purpose)
    row = (await conn.execute(query)).first()
    return EmailToken.from_row(row) if row else None


async def newest_live(
    conn: AsyncConnection, email: str, purpose: str, now: datetime
) -> EmailToken | None:
    """The address's newest unused, unexpired token of ``purpose`` (a pending sign-up)."""
    query = (
        select(t)
        .where(t.c.email == email, t.c.purpose == purpose)
        .where(t.c.used_at.is_(None), t.c.expires_at > now)
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return EmailToken.from_row(row) if row else None


async def use_token(conn: AsyncConnection, token_id: str, when: datetime) -> bool:
    """Spend the token; False if it was spent already (a replay or a race)."""
    result = await conn.execute(
        update(t).where(t.c.id == token_id, t.c.used_at.is_(None)).values(used_at=when)
    )
    return result.rowcount == 1


async def spend_all(conn: AsyncConnection, email: str, purpose: str, when: datetime) -> None:
    """Every unused token of this address and purpose stops working (a newer one was
    issued, or one of them was used)."""
    await conn.execute(
        update(t)
        .where(t.c.email == email, t.c.purpose == purpose, t.c.used_at.is_(None))
        .values(used_at=when)
    )
