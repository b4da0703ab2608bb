"""The public directory of organizations and their groups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from raasel.actions import directory
from raasel.api.deps import ServicesDep
from raasel.api.schemas import Slug

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])


@router.get("/orgs")
async def search(
    svc: ServicesDep,
    q: Annotated[str, Query(max_length=200, pattern=r"^[^\x00]*$")] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[dict[str, Any]]:
    """Listed organizations matching every word of ``q`` (name, domain, tags, description,
    or a group's name and description), each with its groups."""
    return await directory.search_directory(svc, q, limit)


@router.get("/orgs/{slug}")
async def entry(slug: Slug, svc: ServicesDep) -> dict[str, Any]:
    """One organization by slug (listed or not) with its groups."""
    return await directory.directory_entry(svc, slug)
