"""Ticket fields of a conversation: the category (from the organization's own list) and
the resolution note, beside status, priority and subject (docs/protocol.md, "Ticket
fields"). The list lives in the organization's inbox settings; a conversation's
category is checked against it inside the unit that sets it.
"""

from __future__ import annotations

from typing import Any

from raasel.actions.access import require_member
from raasel.actions.context import Actor, Services
from raasel.domain import Role
from raasel.errors import Forbidden, ValidationFailed
from raasel.storage.metadata import labels
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch


def _categories_of(options: dict[str, object]) -> list[str]:
    found = options.get("categories")
    return [str(c) for c in found] if isinstance(found, list) else []


async def get_categories(svc: Services, actor: Actor) -> dict[str, Any]:
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        options = await labels.inbox_settings(conn, org_id)
    return {"categories": _categories_of(options)}


async def put_categories(svc: Services, actor: Actor, categories: list[str]) -> dict[str, Any]:
    """Replace the list (admins). Conversations keep a category taken off the list."""
    org_id = require_member(actor)
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("requires the admin role")
    cleaned: list[str] = []
    for name in (c.strip() for c in categories):
        if not name:
            raise ValidationFailed("a category needs a name")
        if name.casefold() not in {c.casefold() for c in cleaned}:
            cleaned.append(name)

    async def work(conn: Tx) -> None:
        await labels.set_inbox_settings(conn, org_id, {"categories": cleaned})

    await svc.db.write(work)
    return {"categories": cleaned}


async def checked_category(batch: UnitBatch, org_id: str, category: str) -> str | None:
    """Inside the update unit: one of the organization's categories, or "" to clear."""
    if not category:
        return None
    allowed = _categories_of(await labels.inbox_settings(batch.conn, org_id))
    if category not in allowed:
        raise ValidationFailed(
            f"{category!r} is not one of the organization's categories",
            code="unknown_category",
        )
    return category
