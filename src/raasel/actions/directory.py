"""The central directory: find an organization and the group to talk to (SPEC 2.1).

Lexical for now (every search term must appear in the organization's or one of its
groups' name, slug, domains, tags or description); the AI router is issue 5.
"""

from __future__ import annotations

import re
from typing import Any

from raasel.actions.context import Services
from raasel.actions.views import group_view, org_view
from raasel.errors import NotFound
from raasel.storage.metadata import organizations

_WORD = re.compile(r"[\w.-]+", re.UNICODE)


def _terms(query: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(query)][:8]


async def search_directory(svc: Services, query: str, limit: int) -> list[dict[str, Any]]:
    """Listed organizations matching ``query``, each with its groups."""
    async with svc.db.read() as conn:
        orgs = await organizations.search_listed_orgs(conn, _terms(query), limit)
        groups = await organizations.list_groups(conn, [o.id for o in orgs])
    by_org: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        by_org.setdefault(group.org_id, []).append(group_view(group))
    return [org_view(o) | {"groups": by_org.get(o.id, [])} for o in orgs]


async def directory_entry(svc: Services, slug: str) -> dict[str, Any]:
    """One organization by slug, listed or not (a widget knows its own organization)."""
    async with svc.db.read() as conn:
        org = await organizations.get_org_by_slug(conn, slug)
        if org is None:
            raise NotFound("organization not found")
        groups = await organizations.list_groups(conn, [org.id])
    return org_view(org) | {"groups": [group_view(g) for g in groups]}
