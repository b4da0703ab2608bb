"""The public directory, its search and the AI router (docs/protocol.md, "Directory")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field, StringConstraints

from raasel.actions import directory
from raasel.api.deps import OptionalActorDep, ServicesDep
from raasel.api.schemas import Id, Slug, Strict

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])

SearchText = Annotated[str, Query(max_length=200, pattern=r"^[^\x00]*$")]
Category = Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")]
Language = Annotated[
    str | None, Query(min_length=2, max_length=8, pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")
]


class RouteBody(Strict):
    """A person's need in their own words; ``org_id`` when they already chose one."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    org_id: Id | None = None
    limit: int = Field(default=3, ge=1, le=10)


@router.get("/orgs")
async def search(
    svc: ServicesDep,
    q: SearchText = "",
    category: Category = None,
    language: Language = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[dict[str, Any]]:
    """Listed organizations matching ``q`` by name, slug, domain, tags, category,
    description or what one of their groups handles; best first (promoted ones get a
    small bounded boost), each with its groups, a ``score`` and a ``reason``."""
    return await directory.search_directory(svc, q, limit, category=category, language=language)


@router.get("/orgs/{slug}")
async def entry(slug: Slug, svc: ServicesDep) -> dict[str, Any]:
    """One organization by slug (listed or not) with its groups."""
    return await directory.directory_entry(svc, slug)


@router.get("/groups")
async def search_groups(
    svc: ServicesDep,
    actor: OptionalActorDep,
    q: SearchText = "",
    category: Category = None,
    language: Language = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[dict[str, Any]]:
    """Groups of every listed organization matching ``q`` (plan plus, else
    ``402 upgrade_required``)."""
    return await directory.search_all_groups(
        svc, actor, q, limit, category=category, language=language
    )


@router.post("/route")
async def route(body: RouteBody, svc: ServicesDep, actor: OptionalActorDep) -> dict[str, Any]:
    """The AI router: the best groups for ``text`` with a confidence and a reason each.
    With ``org_id``: inside that organization (anyone). Without: across organizations,
    also recommending organizations (plan plus, else ``402 upgrade_required``)."""
    return await directory.recommend(svc, actor, body.text, org_id=body.org_id, limit=body.limit)
