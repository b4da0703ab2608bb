"""Reports for supervisors and admins, from the raw reporting events (issue 13, item 7).

The events are written by the database in the transaction of the unit that caused them
(storage/inbox_ddl.py): ``opened``, ``assigned`` (from queued: the queue wait),
``first_response`` (the first agent text of a conversation) and ``resolved``; reports are
arithmetic on those rows and on the CSAT ratings, never recomputed from messages.

Durations are business-hours aware: when the conversation's group has business hours,
only the time inside them counts (a conversation opened on Friday evening and answered
on Monday morning waited minutes, not a weekend). Hours are read in the organization's
``settings.timezone`` (UTC when unset).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from raasel.actions.access import require_member
from raasel.actions.context import Actor, Services
from raasel.actions.inbox import is_lead
from raasel.errors import Forbidden, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.rules import business_hours
from raasel.storage.metadata import csat, inbox, organizations, people

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=30)


def business_seconds(
    start: datetime, end: datetime, hours: dict[str, Any] | None, zone: tzinfo = UTC
) -> float:
    """Seconds between ``start`` and ``end`` inside the business hours (all of them
    when there are none; rules/business_hours.py: overnight ranges, holidays)."""
    if end <= start:
        return 0.0
    if not business_hours.has_hours(hours):
        return (end - start).total_seconds()
    assert hours is not None
    total = 0.0
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    for a, b in business_hours.intervals(hours, zone, first, last):
        total += max((min(b, end) - max(a, start)).total_seconds(), 0.0)
    return total


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "p90": None}
    ordered = sorted(values)
    p90 = ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]
    return {"count": len(ordered), "median": statistics.median(ordered), "p90": p90}


def _grouped(samples: Iterable[tuple[str | None, str | None, float]]) -> dict[str, Any]:
    every: list[float] = []
    by_group: dict[str, list[float]] = {}
    by_agent: dict[str, list[float]] = {}
    for group_id, agent_id, seconds in samples:
        every.append(seconds)
        if group_id:
            by_group.setdefault(group_id, []).append(seconds)
        if agent_id:
            by_agent.setdefault(agent_id, []).append(seconds)
    return {
        **_stats(every),
        "by_group": {g: _stats(v) for g, v in sorted(by_group.items())},
        "by_agent": {a: _stats(v) for a, v in sorted(by_agent.items())},
    }


def _zone(settings: dict[str, Any]) -> tzinfo:
    name = settings.get("timezone")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    return UTC


async def report(
    svc: Services,
    actor: Actor,
    *,
    since: datetime | None,
    until: datetime | None,
    group_id: str | None,
) -> dict[str, Any]:
    org_id = require_member(actor)
    if not is_lead(actor):
        raise Forbidden("requires the supervisor role")
    until = until or utcnow()
    since = since or until - DEFAULT_RANGE
    if since >= until or until - since > MAX_RANGE:
        raise ValidationFailed("a report covers 1 second to 366 days")
    async with svc.db.read(actor.scope) as conn:
        org = await organizations.get_org(conn, org_id)
        groups = {g.id: g for g in await organizations.list_groups(conn, [org_id])}
        events = await csat.report_events_between(conn, org_id, since, until)
        ratings = await csat.ratings_between(conn, org_id, since, until)
        if group_id is not None:
            events = [e for e in events if e.group_id == group_id]
            ratings = [r for r in ratings if r.group_id == group_id]
        agent_ids = sorted(
            {e.agent_id for e in events if e.agent_id}
            | {r.assignee_id for r in ratings if r.assignee_id}
        )
        names = await people.get_users(conn, agent_ids) if agent_ids else {}
    zone = _zone(org.settings if org else {})

    def seconds(group: str | None, start: datetime | None, end: datetime) -> float:
        hours = groups[group].business_hours if group in groups else None
        return business_seconds(start, end, hours, zone) if start else 0.0

    days: dict[str, dict[str, int]] = {}
    day = since.astimezone(zone).date()
    while day <= until.astimezone(zone).date():
        days[day.isoformat()] = {"opened": 0, "resolved": 0}
        day += timedelta(days=1)
    samples: dict[str, list[tuple[str | None, str | None, float]]] = {
        "first_response": [],
        "resolved": [],
        "assigned": [],
    }
    for e in events:
        key = e.at.astimezone(zone).date().isoformat()
        if e.kind in ("opened", "resolved") and key in days:
            days[key][e.kind] += 1
        if e.kind in samples and e.started_at is not None:
            samples[e.kind].append(
                (e.group_id, e.agent_id, seconds(e.group_id, e.started_at, e.at))
            )
    by_agent: dict[str, list[int]] = {}
    for r in ratings:
        if r.assignee_id:
            by_agent.setdefault(r.assignee_id, []).append(r.rating)
    values = [r.rating for r in ratings]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "group_id": group_id,
        "timezone": str(zone),
        "days": [{"date": d, **counts} for d, counts in days.items()],
        "first_response": _grouped(samples["first_response"]),
        "resolution": _grouped(samples["resolved"]),
        "queue_wait": _grouped(samples["assigned"]),
        "csat": {
            "count": len(values),
            "average": round(statistics.fmean(values), 2) if values else None,
            "distribution": {str(n): values.count(n) for n in range(1, 6)},
            "by_agent": {
                a: {"count": len(v), "average": round(statistics.fmean(v), 2)}
                for a, v in sorted(by_agent.items())
            },
            "comments": [
                {
                    "rating": r.rating,
                    "comment": r.comment,
                    "assignee_id": r.assignee_id,
                    "created_at": r.created_at.isoformat(),
                }
                for r in ratings[-20:]
                if r.comment
            ],
        },
        "names": {i: u.display_name for i, u in names.items()},
        "groups": {g.id: g.name for g in groups.values()},
    }


def _cell(value: Any) -> Any:
    """No text cell starts a spreadsheet formula (CSV injection: names are user text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(data: dict[str, Any]) -> str:
    """The report as a spreadsheet: one row per day, then one per metric and scope."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(*cells: Any) -> None:
        writer.writerow([_cell(c) for c in cells])

    row("date", "opened", "resolved")
    for day in data["days"]:
        row(day["date"], day["opened"], day["resolved"])
    row()
    row("metric", "scope", "name", "count", "median_seconds", "p90_seconds")
    names = data["names"]
    groups = data["groups"]
    for metric in ("first_response", "resolution", "queue_wait"):
        m = data[metric]
        row(metric, "all", "", m["count"], m["median"], m["p90"])
        for gid, s in m["by_group"].items():
            row(metric, "group", groups.get(gid, gid), s["count"], s["median"], s["p90"])
        for aid, s in m["by_agent"].items():
            row(metric, "agent", names.get(aid, aid), s["count"], s["median"], s["p90"])
    row()
    row("csat", "scope", "name", "count", "average")
    c = data["csat"]
    row("csat", "all", "", c["count"], c["average"])
    for aid, s in c["by_agent"].items():
        row("csat", "agent", names.get(aid, aid), s["count"], s["average"])
    return out.getvalue()


async def activity(
    svc: Services, actor: Actor, *, before: int | None, limit: int
) -> dict[str, Any]:
    """Conversations opened, assigned, transferred, answered, resolved, closed and
    reopened, newest first, with the names of the people (the audit log shows them)."""
    org_id = require_member(actor)
    if not is_lead(actor):
        raise Forbidden("requires the supervisor role")
    async with svc.db.read(actor.scope) as conn:
        events = await csat.activity_page(conn, org_id, before=before, limit=limit + 1)
        more = len(events) > limit
        events = events[:limit]
        found = await inbox.conversations_by_id(
            conn, org_id, sorted({e.conversation_id for e in events})
        )
        by_id = {c.id: c for c in found}
        people_ids = {e.agent_id for e in events if e.agent_id}
        people_ids |= {c.customer_id for c in found if c.customer_id}
        names = await people.get_users(conn, sorted(people_ids)) if people_ids else {}

    def name(user_id: str | None) -> str | None:
        return names[user_id].display_name if user_id and user_id in names else None

    entries = []
    for e in events:
        conversation = by_id.get(e.conversation_id)
        entries.append(
            {
                "id": str(e.id),
                "kind": e.kind,
                "conversation_id": e.conversation_id,
                "subject": conversation.subject if conversation else None,
                "customer": name(conversation.customer_id) if conversation else None,
                "agent": name(e.agent_id),
                "group_id": e.group_id,
                "waited_seconds": (e.at - e.started_at).total_seconds()
                if e.started_at is not None
                else None,
                "at": e.at.isoformat(),
            }
        )
    return {"entries": entries, "next_before": entries[-1]["id"] if more and entries else None}
