"""The central directory and the AI router (SPEC 2.1): find an organization and the group
to talk to, and route a free-text request to the right group.

Ranking lives in ``raasel.search`` (an in-memory index, rebuilt when the directory
changes); this module feeds it records, applies plans and shapes answers.
Design and formula: docs/decisions.md, "Directory search and the AI router".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog

from raasel.actions.context import Actor, Services
from raasel.actions.views import group_view, org_view
from raasel.domain import Plan
from raasel.errors import NotFound, Unauthenticated, UpgradeRequired
from raasel.search.embedding import load_embedder
from raasel.search.index import DirectoryIndex, GroupEntry, IndexBuilder, OrgEntry
from raasel.search.router import Filters, GroupHit, OrgHit, route, search_groups, search_orgs
from raasel.storage.metadata import directory as directory_store
from raasel.storage.metadata import organizations
from raasel.storage.records import DispatchGroup, Organization
from raasel.storage.tenancy import CrossTenant

_PUBLIC = CrossTenant("the public directory of listed organizations")

log = structlog.get_logger(__name__)

# A query waits this long for a rebuild after a change, then answers from the previous
# snapshot (only a very large directory takes longer to rebuild).
REFRESH_WAIT_SECONDS = 2.0


def org_entry(org: Organization) -> OrgEntry:
    return OrgEntry(
        id=org.id,
        slug=org.slug,
        name=org.name,
        description=org.description,
        category=org.category,
        domains=tuple(d for d in org.domains if d in org.verified_domains),  # proved only
        tags=tuple(org.tags),
        languages=tuple(org.languages),
        is_listed=org.is_listed,
        plan=org.plan,
    )


def group_entry(group: DispatchGroup) -> GroupEntry:
    return GroupEntry(
        id=group.id,
        org_id=group.org_id,
        slug=group.slug,
        name=group.name,
        description=group.description,
        is_default=group.is_default,
        examples=tuple(group.examples),  # embedded with the description (issue 14)
    )


async def current_index(svc: Services) -> DirectoryIndex:
    """This process's snapshot, rebuilt when the directory changed (one small query)."""
    cache = svc.directory
    async with svc.db.read(_PUBLIC) as conn:
        mark = await directory_store.fingerprint(conn)
    if cache.index is not None and mark == cache.fingerprint:
        return cache.index
    if cache.refreshing is None or cache.refreshing.done():
        cache.refreshing = asyncio.create_task(_refresh(svc, mark))
        cache.refreshing.add_done_callback(_log_failure)
    if cache.index is None:
        await asyncio.shield(cache.refreshing)
    else:
        await asyncio.wait({cache.refreshing}, timeout=REFRESH_WAIT_SECONDS)
    assert cache.index is not None
    return cache.index


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("directory refresh failed", error=type(task.exception()).__name__)


async def _refresh(svc: Services, mark: tuple[object, ...]) -> None:
    cache = svc.directory
    async with svc.db.read(_PUBLIC) as conn:
        orgs = await directory_store.all_orgs(conn)
        groups = await directory_store.all_groups(conn)
    if cache.builder is None:
        embedder = await asyncio.to_thread(load_embedder, svc.settings.embedding_model)
        cache.builder = IndexBuilder(embedder)
    builder = cache.builder
    cache.index = await asyncio.to_thread(
        builder.build, [org_entry(o) for o in orgs], [group_entry(g) for g in groups]
    )
    cache.fingerprint = mark


def require_plus(actor: Actor | None) -> None:
    """Searching groups across every organization is the plus plan's feature (SPEC 2.10)."""
    if actor is None:
        raise Unauthenticated("log in (plan plus) to search groups across organizations")
    if actor.plan != Plan.PLUS:
        raise UpgradeRequired("searching groups across organizations needs the plus plan")


async def search_directory(
    svc: Services,
    query: str,
    limit: int,
    *,
    category: str | None = None,
    language: str | None = None,
) -> list[dict[str, Any]]:
    """Listed organizations matching ``query``, best first, each with its groups."""
    index = await current_index(svc)
    filters = Filters(category, language)

    def run() -> list[OrgHit]:
        return search_orgs(index, index.builder.query(query), filters, limit)

    hits = await asyncio.to_thread(run)
    ids = [h.org.id for h in hits]
    async with svc.db.read(_PUBLIC) as conn:
        records = {o.id: o for o in await organizations.get_orgs(conn, ids)}
        groups = await organizations.list_groups(conn, ids)
    by_org: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        by_org.setdefault(group.org_id, []).append(group_view(group))
    return [
        org_view(records[h.org.id])
        | {"groups": by_org.get(h.org.id, []), "score": h.score, "reason": h.reason}
        | {"matching_group": _matching_group(h)}
        for h in hits
        if h.org.id in records and records[h.org.id].is_listed
    ]


def _matching_group(hit: OrgHit) -> dict[str, str] | None:
    """The organization's team for a need ("I was charged twice"); None for a name."""
    if not hit.groups:
        return None
    group = hit.groups[0].group
    return {"id": group.id, "slug": group.slug, "name": group.name}


async def search_all_groups(
    svc: Services,
    actor: Actor | None,
    query: str,
    limit: int,
    *,
    category: str | None = None,
    language: str | None = None,
) -> list[dict[str, Any]]:
    """Groups of every listed organization matching ``query`` (plan plus)."""
    require_plus(actor)
    index = await current_index(svc)
    filters = Filters(category, language)

    def run() -> list[GroupHit]:
        return search_groups(index, index.builder.query(query), filters, limit)

    return [_group_hit_view(h) for h in await asyncio.to_thread(run)]


async def recommend(
    svc: Services, actor: Actor | None, text: str, *, org_id: str | None, limit: int
) -> dict[str, Any]:
    """The AI router: best groups for ``text`` inside ``org_id``, or across organizations
    (plan plus), with a confidence and a reason each; ``auto_route`` when confident, and
    ``not_routed_because`` when not (``threshold``: the calibrated confidence it needs)."""
    if org_id is None:
        require_plus(actor)
    index = await current_index(svc)
    if org_id is not None and org_id not in index.org_position:
        raise NotFound("organization not found")

    def run() -> dict[str, Any]:
        query = index.builder.query(text)
        routing = route(index, query, org_id=org_id, limit=limit)
        answer: dict[str, Any] = {
            "auto_route": routing.is_confident,
            "confidence": routing.confidence,
            "threshold": routing.threshold,
            "not_routed_because": routing.not_routed_because,
            "language": query.lang,
            "groups": [_group_hit_view(h) for h in routing.groups],
        }
        if org_id is None:
            answer["orgs"] = [_org_hit_view(h) for h in routing.orgs]
        return answer

    return await asyncio.to_thread(run)


@dataclass(frozen=True, slots=True)
class RoutedGroup:
    """Where the first message of a conversation opened without a group goes."""

    group_id: str | None  # None: not confident, use the default group
    confidence: float
    reason: str
    not_routed_because: str | None = None


async def route_first_message(svc: Services, org_id: str, text: str) -> RoutedGroup:
    """Route an opening message inside its organization; None when not confident enough."""
    index = await current_index(svc)
    if org_id not in index.org_position:
        return RoutedGroup(None, 0.0, "")

    def run() -> RoutedGroup:
        routing = route(index, index.builder.query(text), org_id=org_id, limit=1)
        if not routing.groups:
            return RoutedGroup(None, 0.0, "")
        top = routing.groups[0]
        chosen = top.group.id if routing.is_confident else None
        return RoutedGroup(chosen, routing.confidence, top.reason, routing.not_routed_because)

    return await asyncio.to_thread(run)


def _group_hit_view(hit: GroupHit) -> dict[str, Any]:
    return {
        "org": {"id": hit.org.id, "slug": hit.org.slug, "name": hit.org.name},
        "group": {
            "id": hit.group.id,
            "slug": hit.group.slug,
            "name": hit.group.name,
            "description": hit.group.description,
        },
        "score": hit.score,
        "confidence": hit.confidence,
        "reason": hit.reason,
    }


def _org_hit_view(hit: OrgHit) -> dict[str, Any]:
    return {
        "id": hit.org.id,
        "slug": hit.org.slug,
        "name": hit.org.name,
        "category": hit.org.category,
        "plan": hit.org.plan,
        "score": hit.score,
        "confidence": hit.confidence,
        "reason": hit.reason,
    }


async def directory_entry(svc: Services, slug: str) -> dict[str, Any]:
    """One organization by slug, listed or not (a widget knows its own organization)."""
    async with svc.db.read(_PUBLIC) as conn:
        org = await organizations.get_org_by_slug(conn, slug)
        if org is None:
            raise NotFound("organization not found")
        groups = await organizations.list_groups(conn, [org.id])
    return org_view(org) | {"groups": [group_view(g) for g in groups]}


async def embed_origins(svc: Services, slug: str) -> list[str]:
    """The origins allowed to frame ``slug``'s widget (settings.embed_origins); none for
    an unknown organization."""
    async with svc.db.read(_PUBLIC) as conn:
        org = await organizations.get_org_by_slug(conn, slug.lower()[:64])
    if org is None:
        return []
    origins = org.settings.get("embed_origins") or []
    return [o for o in origins if isinstance(o, str)]
