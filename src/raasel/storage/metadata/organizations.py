"""Organizations and their dispatch groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import DispatchGroup, Organization
from raasel.storage.schema import dispatch_groups as g
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
