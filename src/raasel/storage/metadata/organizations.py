"""Organizations and their dispatch groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, func, or_, select, update
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


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_listed_orgs(
    conn: AsyncConnection, terms: list[str], limit: int
) -> list[Organization]:
    """Listed organizations whose name, slug, domains, tags or description hold every term."""
    query = select(o).where(o.c.is_listed.is_(True))
    for term in terms:
        pattern = _like(term)
        query = query.where(
            or_(
                func.lower(o.c.name).like(pattern, escape="\\"),
                func.lower(o.c.slug).like(pattern, escape="\\"),
                func.lower(o.c.description).like(pattern, escape="\\"),
                func.lower(o.c.category).like(pattern, escape="\\"),
                func.lower(cast(o.c.domains, String)).like(pattern, escape="\\"),
                func.lower(cast(o.c.tags, String)).like(pattern, escape="\\"),
                o.c.id.in_(
                    select(g.c.org_id).where(
                        or_(
                            func.lower(g.c.name).like(pattern, escape="\\"),
                            func.lower(g.c.description).like(pattern, escape="\\"),
                        )
                    )
                ),
            )
        )
    query = query.order_by(o.c.plan.desc(), o.c.name).limit(limit)
    return [Organization.from_row(r) for r in (await conn.execute(query)).all()]


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
