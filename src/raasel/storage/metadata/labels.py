"""An organization's labels (the names and colours agents pick from) and canned responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import _FromRow
from raasel.storage.schema import canned_responses as cr
from raasel.storage.schema import labels as lb
from raasel.storage.schema import organizations as orgs


@dataclass(frozen=True, slots=True)
class Label(_FromRow):
    org_id: str
    name: str
    color: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CannedResponse(_FromRow):
    id: str
    org_id: str
    owner_id: str | None
    shortcut: str
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


async def list_labels(conn: AsyncConnection, org_id: str) -> list[Label]:
    query = select(lb).where(lb.c.org_id == org_id).order_by(lb.c.name)
    return [Label.from_row(r) for r in (await conn.execute(query)).all()]


async def put_label(conn: AsyncConnection, label: Label) -> None:
    """Create or change (name is the key)."""
    found = (
        await conn.execute(
            select(lb.c.name).where(lb.c.org_id == label.org_id, lb.c.name == label.name)
        )
    ).first()
    if found is None:
        await conn.execute(
            lb.insert().values(
                org_id=label.org_id,
                name=label.name,
                color=label.color,
                description=label.description,
                created_at=label.created_at,
            )
        )
    else:
        await conn.execute(
            update(lb)
            .where(lb.c.org_id == label.org_id, lb.c.name == label.name)
            .values(color=label.color, description=label.description)
        )


async def delete_label(conn: AsyncConnection, org_id: str, name: str) -> bool:
    result = await conn.execute(delete(lb).where(lb.c.org_id == org_id, lb.c.name == name))
    return result.rowcount == 1


async def list_canned(conn: AsyncConnection, org_id: str, user_id: str) -> list[CannedResponse]:
    """The organization's and the user's own, by shortcut (the user's first on a tie)."""
    query = (
        select(cr)
        .where(cr.c.org_id == org_id, or_(cr.c.owner_id.is_(None), cr.c.owner_id == user_id))
        .order_by(cr.c.shortcut, cr.c.owner_id.is_(None), cr.c.id)
    )
    return [CannedResponse.from_row(r) for r in (await conn.execute(query)).all()]


async def get_canned(conn: AsyncConnection, org_id: str, canned_id: str) -> CannedResponse | None:
    row = (
        await conn.execute(select(cr).where(cr.c.org_id == org_id, cr.c.id == canned_id))
    ).first()
    return CannedResponse.from_row(row) if row else None


async def insert_canned(conn: AsyncConnection, canned: CannedResponse) -> None:
    await conn.execute(
        cr.insert().values(
            id=canned.id,
            org_id=canned.org_id,
            owner_id=canned.owner_id,
            shortcut=canned.shortcut,
            title=canned.title,
            body=canned.body,
            created_at=canned.created_at,
            updated_at=canned.updated_at,
        )
    )


async def update_canned(conn: AsyncConnection, canned: CannedResponse) -> None:
    await conn.execute(
        update(cr)
        .where(cr.c.org_id == canned.org_id, cr.c.id == canned.id)
        .values(
            shortcut=canned.shortcut,
            title=canned.title,
            body=canned.body,
            updated_at=canned.updated_at,
        )
    )


async def delete_canned(conn: AsyncConnection, org_id: str, canned_id: str) -> None:
    await conn.execute(delete(cr).where(cr.c.org_id == org_id, cr.c.id == canned_id))


async def inbox_settings(conn: AsyncConnection, org_id: str) -> dict[str, object]:
    """The organization's team inbox options (``settings.inbox``)."""
    row = (await conn.execute(select(orgs.c.settings).where(orgs.c.id == org_id))).first()
    settings = row[0] if row and isinstance(row[0], dict) else {}
    inbox = settings.get("inbox")
    return dict(inbox) if isinstance(inbox, dict) else {}


async def set_inbox_settings(
    conn: AsyncConnection, org_id: str, values: Mapping[str, object]
) -> None:
    row = (await conn.execute(select(orgs.c.settings).where(orgs.c.id == org_id))).first()
    settings = dict(row[0]) if row and isinstance(row[0], dict) else {}
    settings["inbox"] = {**(settings.get("inbox") or {}), **values}
    await conn.execute(update(orgs).where(orgs.c.id == org_id).values(settings=settings))
