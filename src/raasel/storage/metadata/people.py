"""Users, organization memberships and dispatch-group membership."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Membership, User
from raasel.storage.schema import group_members as gm
from raasel.storage.schema import memberships as m
from raasel.storage.schema import users as u


async def insert_user(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(u.insert().values(**values))


async def get_user(conn: AsyncConnection, user_id: str) -> User | None:
    row = (await conn.execute(select(u).where(u.c.id == user_id))).first()
    return User.from_row(row) if row else None


async def get_users(conn: AsyncConnection, user_ids: list[str]) -> dict[str, User]:
    if not user_ids:
        return {}
    rows = (await conn.execute(select(u).where(u.c.id.in_(user_ids)))).all()
    return {row.id: User.from_row(row) for row in rows}


async def get_user_by_email(conn: AsyncConnection, email: str) -> User | None:
    row = (await conn.execute(select(u).where(u.c.email == email))).first()
    return User.from_row(row) if row else None


async def update_user(conn: AsyncConnection, user_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(u).where(u.c.id == user_id).values(**values))


async def insert_membership(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(m.insert().values(**values))


async def get_membership(conn: AsyncConnection, org_id: str, user_id: str) -> Membership | None:
    row = (
        await conn.execute(select(m).where(m.c.org_id == org_id, m.c.user_id == user_id))
    ).first()
    return Membership.from_row(row) if row else None


async def memberships_of_user(conn: AsyncConnection, user_id: str) -> list[Membership]:
    rows = (await conn.execute(select(m).where(m.c.user_id == user_id))).all()
    return [Membership.from_row(r) for r in rows]


async def list_memberships(conn: AsyncConnection, org_id: str) -> list[Membership]:
    rows = (
        await conn.execute(select(m).where(m.c.org_id == org_id).order_by(m.c.created_at))
    ).all()
    return [Membership.from_row(r) for r in rows]


async def update_membership(
    conn: AsyncConnection, org_id: str, user_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        update(m).where(m.c.org_id == org_id, m.c.user_id == user_id).values(**values)
    )


async def set_member_groups(
    conn: AsyncConnection, org_id: str, user_id: str, group_ids: list[str]
) -> None:
    await conn.execute(delete(gm).where(gm.c.org_id == org_id, gm.c.user_id == user_id))
    for group_id in group_ids:
        await conn.execute(gm.insert().values(group_id=group_id, user_id=user_id, org_id=org_id))


async def group_ids_of_member(conn: AsyncConnection, org_id: str, user_id: str) -> list[str]:
    query = select(gm.c.group_id).where(gm.c.org_id == org_id, gm.c.user_id == user_id)
    return list((await conn.execute(query)).scalars())


async def groups_by_member(conn: AsyncConnection, org_id: str) -> dict[str, list[str]]:
    rows = (await conn.execute(select(gm).where(gm.c.org_id == org_id))).all()
    result: dict[str, list[str]] = {}
    for row in rows:
        result.setdefault(row.user_id, []).append(row.group_id)
    return result


async def group_members_of(
    conn: AsyncConnection, group_id: str, *, lock: bool = False
) -> list[Membership]:
    """Active memberships of the agents in ``group_id``.

    ``lock`` takes their rows (PostgreSQL ``FOR UPDATE``, in user-id order so lockers
    never deadlock each other) until commit: an assignment updates the chosen agent's
    row, so two nodes routing to the same agents count loads one after the other.
    SQLite has one writer and ignores the clause.
    """
    query = (
        select(m)
        .join(gm, (gm.c.user_id == m.c.user_id) & (gm.c.org_id == m.c.org_id))
        .where(gm.c.group_id == group_id, m.c.is_active.is_(True))
        .order_by(m.c.user_id)
    )
    if lock:
        query = query.with_for_update(of=m)
    return [Membership.from_row(r) for r in (await conn.execute(query)).all()]


async def active_member_ids(conn: AsyncConnection, org_id: str) -> list[str]:
    """Every active member of the organization (whose presence routing may ask for)."""
    query = select(m.c.user_id).where(m.c.org_id == org_id, m.c.is_active.is_(True))
    return [row[0] for row in (await conn.execute(query)).all()]


async def online_memberships(conn: AsyncConnection) -> list[Membership]:
    """Every active membership set "online", of every organization (the presence sweep)."""
    query = select(m).where(m.c.availability == "online", m.c.is_active.is_(True))
    return [Membership.from_row(r) for r in (await conn.execute(query)).all()]


async def mark_disconnected(
    conn: AsyncConnection, keys: list[tuple[str, str]], at: datetime
) -> None:
    """Note when these members' last console went, unless already noted."""
    for org_id, user_id in keys:
        await conn.execute(
            update(m)
            .where(m.c.org_id == org_id, m.c.user_id == user_id, m.c.disconnected_at.is_(None))
            .values(disconnected_at=at)
        )


async def mark_auto_away(
    conn: AsyncConnection, org_id: str, user_id: str, disconnected_before: datetime
) -> bool:
    """Away, because no console came back since before ``disconnected_before``.

    The condition is checked by the UPDATE itself: a console that returned meanwhile
    cleared ``disconnected_at`` and nothing changes (returns False)."""
    result = await conn.execute(
        update(m)
        .where(
            m.c.org_id == org_id,
            m.c.user_id == user_id,
            m.c.availability == "online",
            m.c.disconnected_at <= disconnected_before,
        )
        .values(availability="away", is_auto_away=True, away_since=m.c.disconnected_at)
    )
    return bool(result.rowcount)


async def clear_disconnected(
    conn: AsyncConnection, org_id: str, user_id: str, was: datetime | None
) -> None:
    """A console is connected after all: forget the note, if it is still the one read."""
    await conn.execute(
        update(m)
        .where(m.c.org_id == org_id, m.c.user_id == user_id, m.c.disconnected_at == was)
        .values(disconnected_at=None)
    )
