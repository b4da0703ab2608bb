"""Ticket fields: the organization's list of conversation categories (docs/protocol.md,
"Ticket fields"). A conversation's category is set with ``PATCH /conversations/{id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raasel.actions import ticket_fields
from raasel.api.deps import ActorDep, ServicesDep
from raasel.api.schemas import CategoriesBody

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox"])


@router.get("/categories")
async def categories(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """The caller's organization's categories (members)."""
    return await ticket_fields.get_categories(svc, actor)


@router.put("/categories")
async def put_categories(body: CategoriesBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Replace the list (admins and owners)."""
    return await ticket_fields.put_categories(svc, actor, body.categories)
