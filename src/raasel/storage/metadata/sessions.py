"""Refresh tokens: rotating, grouped in families so reuse can revoke them all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import RefreshToken
from raasel.storage.schema import refresh_tokens as t


async def insert_refresh_token(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def get_by_digest(conn: AsyncConnection, digest: str) -> RefreshToken | None:
    row = (await conn.execute(select(t).where(t.c.token_digest == digest))).first()
    return RefreshToken.from_row(row) if row else None


async def mark_used(conn: AsyncConnection, token_id: str, when: datetime) -> bool:
    """Mark a token used; False if someone used it first (a replay)."""
    result = await conn.execute(
        update(t).where(t.c.id == token_id, t.c.used_at.is_(None)).values(used_at=when)
    )
    return result.rowcount == 1


async def revoke_family(conn: AsyncConnection, family_id: str, when: datetime) -> None:
    await conn.execute(
        update(t)
        .where(t.c.family_id == family_id, t.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )


async def is_family_live(conn: AsyncConnection, family_id: str) -> bool:
    query = select(t.c.id).where(t.c.family_id == family_id, t.c.revoked_at.is_(None)).limit(1)
    return (await conn.execute(query)).first() is not None


async def revoke_all_of_user(conn: AsyncConnection, user_id: str, when: datetime) -> list[str]:
    """Revoke every live session of the user; returns their family ids."""
    live = select(t.c.family_id).where(t.c.user_id == user_id, t.c.revoked_at.is_(None))
    families = sorted({row[0] for row in (await conn.execute(live)).all()})
    if families:
        await conn.execute(
            update(t)
            .where(t.c.user_id == user_id, t.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )
    return families
