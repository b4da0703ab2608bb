"""The team inbox: views and counts, search, the team's load, bulk actions, labels,
canned responses, CSAT and reports (docs/protocol.md, "Team inbox")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Response
from pydantic import AwareDatetime, Field, StringConstraints

from raasel.actions import inbox, inbox_bulk, inbox_canned, inbox_csat, inbox_reports, inbox_search
from raasel.actions.context import Outcome, Services
from raasel.actions.inbox_counts import LiveCounts
from raasel.actions.inbox_mentions import Mentions
from raasel.api.deps import ActorDep, BusDep, ServicesDep
from raasel.api.schemas import Id, Strict, Tag
from raasel.domain import Priority
from raasel.realtime.bus import EventBus

router = APIRouter(prefix="/api/v1", tags=["inbox"])

View = Literal["mine", "unassigned", "queue", "all", "escalated", "resolved"]
Status = Literal["queued", "active", "resolved", "closed"]
Channel = Literal["widget", "web"]
Cursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
LabelName = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f/\\\"]+$")
]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Shortcut = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


async def _answer(outcome: Outcome, bus: EventBus) -> Any:
    await bus.publish(outcome.events)
    return outcome.result


def install(api: FastAPI, svc: Services) -> None:
    """Mount the routes; keep the views' counts live (actions/inbox_counts.py) and tell
    mentioned teammates (actions/inbox_mentions.py), both from committed events."""
    api.include_router(router)
    if svc.db.publisher is not None:
        counted = LiveCounts(svc, svc.db.publisher).publish
        svc.db.publisher = Mentions(svc, counted).publish


# ----- views, counts, team -----------------------------------------------------------


@router.get("/inbox/conversations")
async def list_view(
    view: View,
    actor: ActorDep,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Cursor = None,
    group_id: Annotated[Id | None, Query()] = None,
    assignee_id: Annotated[Id | None, Query()] = None,
    status: Status | None = None,
    label: Annotated[LabelName | None, Query()] = None,
    priority: Priority | None = None,
    channel: Channel | None = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    kind: Annotated[str | None, Query(pattern=r"^(support|outreach|b2b)$")] = None,
) -> dict[str, Any]:
    """A page of a view (cursor-paginated); filters narrow it."""
    query = inbox.ViewQuery(
        view=view,
        limit=limit,
        cursor=cursor,
        group_id=group_id,
        assignee_id=assignee_id,
        status=status,
        label=label,
        priority=priority.value if priority else None,
        channel=channel,
        since=since,
        until=until,
        category=category,
        kind=kind,
    )
    return await inbox.list_view(svc, actor, query)


@router.get("/inbox/counts")
async def counts(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Each view's count for the caller; ``inbox:counts`` keeps them live."""
    return await inbox.get_counts(svc, actor)


@router.get("/inbox/team")
async def team(actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Every agent's availability, connection, capacity and load (supervisors)."""
    return await inbox.team_load(svc, actor)


@router.get("/inbox/search")
async def search(
    actor: ActorDep,
    svc: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, Query(max_length=8, pattern=r"^o[0-9]+$")] = None,
) -> dict[str, Any]:
    """Ranked matches in the organization's conversations (agents only)."""
    return await inbox_search.search(svc, actor, q, limit=limit, cursor=cursor)


# ----- supervisor control ------------------------------------------------------------


class BulkBody(Strict):
    conversation_ids: list[Id] = Field(min_length=1, max_length=100)
    action: Literal["assign", "label", "priority", "resolve", "close"]
    agent_id: Id | None = None
    add: list[Tag] = Field(default_factory=list, max_length=20)
    remove: list[Tag] = Field(default_factory=list, max_length=20)
    priority: Priority | None = None


@router.post("/inbox/bulk")
async def bulk(body: BulkBody, actor: ActorDep, svc: ServicesDep, bus: BusDep) -> dict[str, Any]:
    """One action on a selection: one unit per conversation; each answers on its own."""
    outcome = await inbox_bulk.do_bulk(
        svc,
        actor,
        body.conversation_ids,
        action=body.action,
        agent_id=body.agent_id,
        add=body.add,
        remove=body.remove,
        priority=body.priority.value if body.priority else None,
    )
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


class LabelsBody(Strict):
    add: list[Tag] = Field(default_factory=list, max_length=20)
    remove: list[Tag] = Field(default_factory=list, max_length=20)


@router.post("/conversations/{conversation_id}/labels")
async def change_labels(
    conversation_id: Id, body: LabelsBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """Add and remove labels (applied to the labels it has when the change runs)."""
    outcome = await inbox_bulk.do_label(
        svc, actor, conversation_id, add=body.add, remove=body.remove
    )
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


# ----- CSAT --------------------------------------------------------------------------


class RatingBody(Strict):
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=1000, strip_whitespace=True)] = ""


@router.post("/conversations/{conversation_id}/rating", status_code=201)
async def rate(
    conversation_id: Id, body: RatingBody, actor: ActorDep, svc: ServicesDep, bus: BusDep
) -> dict[str, Any]:
    """The customer rates a resolved conversation, once."""
    outcome = await inbox_csat.do_rate(
        svc, actor, conversation_id, rating=body.rating, comment=body.comment
    )
    result: dict[str, Any] = await _answer(outcome, bus)
    return result


@router.get("/conversations/{conversation_id}/rating")
async def rating(conversation_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await inbox_csat.get_rating(svc, actor, conversation_id)


# ----- labels and canned responses ---------------------------------------------------


@router.get("/inbox/labels")
async def labels(actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    return await inbox_canned.list_labels(svc, actor)


class LabelBody(Strict):
    name: LabelName
    color: Color = "#64748b"
    description: Annotated[str, StringConstraints(max_length=200)] = ""


@router.put("/inbox/labels")
async def put_label(body: LabelBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Create or change a label of the catalogue (supervisors)."""
    return await inbox_canned.put_label(
        svc, actor, body.name, color=body.color, description=body.description
    )


@router.delete("/inbox/labels/{name}", status_code=204)
async def delete_label(
    name: Annotated[str, Path(max_length=40, pattern=r"^[^\x00-\x1f/\\\"]+$")],
    actor: ActorDep,
    svc: ServicesDep,
) -> Response:
    await inbox_canned.delete_label(svc, actor, name)
    return Response(status_code=204)


class CannedBody(Strict):
    shortcut: Shortcut
    title: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    is_personal: bool = False


class CannedUpdateBody(Strict):
    shortcut: Shortcut
    title: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


@router.get("/inbox/canned")
async def canned(actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """The organization's canned responses and the caller's own."""
    return await inbox_canned.list_canned(svc, actor)


@router.post("/inbox/canned", status_code=201)
async def create_canned(body: CannedBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await inbox_canned.create_canned(
        svc,
        actor,
        shortcut=body.shortcut,
        title=body.title,
        body=body.body,
        is_personal=body.is_personal,
    )


@router.put("/inbox/canned/{canned_id}")
async def update_canned(
    canned_id: Id, body: CannedUpdateBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await inbox_canned.update_canned(
        svc, actor, canned_id, shortcut=body.shortcut, title=body.title, body=body.body
    )


@router.delete("/inbox/canned/{canned_id}", status_code=204)
async def delete_canned(canned_id: Id, actor: ActorDep, svc: ServicesDep) -> Response:
    await inbox_canned.delete_canned(svc, actor, canned_id)
    return Response(status_code=204)


class InboxSettingsBody(Strict):
    require_label_to_resolve: bool


@router.get("/inbox/settings")
async def inbox_settings(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await inbox_canned.get_inbox_settings(svc, actor)


@router.put("/inbox/settings")
async def put_inbox_settings(
    body: InboxSettingsBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """The organization's inbox options (admins): a label required before resolving."""
    return await inbox_canned.put_inbox_settings(svc, actor, body.model_dump())


# ----- reports -----------------------------------------------------------------------


@router.get("/inbox/reports")
async def reports(
    actor: ActorDep,
    svc: ServicesDep,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    group_id: Annotated[Id | None, Query()] = None,
) -> dict[str, Any]:
    """Per day, first response, resolution, queue wait and CSAT (supervisors)."""
    return await inbox_reports.report(svc, actor, since=since, until=until, group_id=group_id)


@router.get("/inbox/activity")
async def activity(
    actor: ActorDep,
    svc: ServicesDep,
    before: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """Conversation events for the audit log, newest first (supervisors)."""
    return await inbox_reports.activity(
        svc, actor, before=int(before) if before else None, limit=limit
    )


@router.get("/inbox/reports.csv")
async def reports_csv(
    actor: ActorDep,
    svc: ServicesDep,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    group_id: Annotated[Id | None, Query()] = None,
) -> Response:
    data = await inbox_reports.report(svc, actor, since=since, until=until, group_id=group_id)
    return Response(
        inbox_reports.to_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="raasel-report.csv"'},
    )
