"""Organizations and their dispatch groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import DispatchGroup, Organization
from raasel.storage.schema import dispatch_groups as g
from raasel.storage.schema import group_members as gm
from raasel.storage.schema import memberships as m
from raasel.storage.schema import organizations as o


async def insert_org(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(o.insert().values(**values))


async def get_org(conn: AsyncConnection, org_id: str) -> Organization | None:
    row = (await conn.execute(select(o).where(o.c.id == org_id))).first()
    return Organization.from_row(row) if row else None


async def get_orgs(conn: AsyncConnection, org_ids: list[str]) -> list[Organization]:
    rows = (await conn.execute(select(o).where(o.c.id.in_(org_ids)))).all()
    return [Organization.from_row(r) for r in rows]


async def get_org_by_slug(conn: AsyncConnection, slug: str) -> Organization | None:
    row = (await conn.execute(select(o).where(o.c.slug == slug))).first()
    return Organization.from_row(row) if row else None


async def update_org(conn: AsyncConnection, org_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(o).where(o.c.id == org_id).values(**values))


async def count_orgs(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(o))).scalar_one())


async def insert_group(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(g.insert().values(**values))


async def get_group(conn: AsyncConnection, org_id: str, group_id: str) -> DispatchGroup | None:
    """The group, only if it belongs to ``org_id`` (tenant scope in the query)."""
    row = (await conn.execute(select(g).where(g.c.id == group_id, g.c.org_id == org_id))).first()
    return DispatchGroup.from_row(row) if row else None


async def default_group(conn: AsyncConnection, org_id: str) -> DispatchGroup | None:
    query = select(g).where(g.c.org_id == org_id).order_by(g.c.is_default.desc(), g.c.id).limit(1)
    row = (await conn.execute(query)).first()
    return DispatchGroup.from_row(row) if row else None


async def list_groups(conn: AsyncConnection, org_ids: list[str]) -> list[DispatchGroup]:
    query = select(g).where(g.c.org_id.in_(org_ids)).order_by(g.c.org_id, g.c.id)
    return [DispatchGroup.from_row(r) for r in (await conn.execute(query)).all()]


async def update_group(
    conn: AsyncConnection, org_id: str, group_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(update(g).where(g.c.id == group_id, g.c.org_id == org_id).values(**values))


def _has_members(among: Sequence[str] | None = None) -> Any:
    """EXISTS an active member of the group (set "online" and one of ``among``, if given)."""
    query = (
        exists()
        .where(gm.c.group_id == g.c.id, gm.c.org_id == g.c.org_id)
        .where(m.c.org_id == gm.c.org_id, m.c.user_id == gm.c.user_id, m.c.is_active.is_(True))
    )
    if among is not None:
        query = query.where(m.c.availability == "online", m.c.user_id.in_(list(among) or [""]))
    return query


@dataclass(frozen=True, slots=True)
class Staffing:
    group: DispatchGroup
    has_members: bool
    has_online: bool  # an online member with a console (of ``connected``)


async def groups_with_staffing(
    conn: AsyncConnection, org_id: str, connected: Sequence[str] = ()
) -> list[Staffing]:
    """The organization's groups, default first, each with "has it an active member?"
    and "is one online with a console?" (one statement: routing picks only groups
    someone will see, rules/routing.py; the customer is told when nobody is there)."""
    query = (
        select(
            g,
            _has_members().label("has_members"),
            _has_members(connected).label("has_online"),
        )
        .where(g.c.org_id == org_id)
        .order_by(g.c.is_default.desc(), g.c.id)
    )
    return [
        Staffing(DispatchGroup.from_row(r), bool(r.has_members), bool(r.has_online))
        for r in (await conn.execute(query)).all()
    ]


async def group_has_members(conn: AsyncConnection, org_id: str, group_id: str) -> bool:
    query = select(_has_members()).where(g.c.id == group_id, g.c.org_id == org_id)
    return bool((await conn.execute(query)).scalar())
