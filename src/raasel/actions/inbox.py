"""The team inbox's views, their counts, and the team's load (issue 13, docs/protocol.md,
"Team inbox").

Views are query functions: the organization and what the caller may see are in the
WHERE clause (storage/metadata/inbox.py); pages are keyset pages behind an opaque cursor,
so a page costs the same on the first day and after a million conversations.

- ``mine``        open conversations assigned to me, most recent activity first;
- ``unassigned``  waiting with nobody assigned, that I may see: most urgent, then
                  longest waiting first;
- ``queue``       waiting in my groups, in the same order (what a customer told
                  "number 1" is at the top);
- ``all``         every open conversation (supervisors and above);
- ``escalated``   open conversations flagged for the leads (supervisors and above);
- ``resolved``    history: resolved and closed, most recent first.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from raasel.actions.access import require_member
from raasel.actions.assignment import presence_key
from raasel.actions.b2b_views import b2b_view
from raasel.actions.context import Actor, Services
from raasel.actions.views import conversation_view
from raasel.domain import ConversationKind, ConversationStatus, Role, Side
from raasel.errors import Forbidden, ValidationFailed
from raasel.storage.metadata import conversations, inbox, organizations, people
from raasel.storage.metadata.inbox import OpenCount, ViewFilter
from raasel.storage.records import Conversation, ConversationSide
from raasel.storage.transaction import Tx

VIEWS = ("mine", "unassigned", "queue", "all", "escalated", "resolved")
LEAD_VIEWS = frozenset({"all", "escalated"})
WAITING_VIEWS = frozenset({"unassigned", "queue"})
OPEN = (ConversationStatus.QUEUED.value, ConversationStatus.ACTIVE.value)
HISTORY = (ConversationStatus.RESOLVED.value, ConversationStatus.CLOSED.value)
_STATUSES = {
    "mine": OPEN,
    "unassigned": (ConversationStatus.QUEUED.value,),
    "queue": (ConversationStatus.QUEUED.value,),
    "all": OPEN,
    "escalated": OPEN,
    "resolved": HISTORY,
}


@dataclass(frozen=True, slots=True)
class ViewQuery:
    view: str
    limit: int = 25
    cursor: str | None = None
    group_id: str | None = None
    assignee_id: str | None = None
    status: str | None = None
    label: str | None = None
    priority: str | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None
    kind: str | None = None


def is_lead(actor: Actor) -> bool:
    return actor.has_role(Role.SUPERVISOR)


# ----- cursors -----------------------------------------------------------------------


def _encode(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("bad cursor", code="bad_cursor") from exc
    if not isinstance(key, list):
        raise ValidationFailed("bad cursor", code="bad_cursor")
    return key


def _recent_key(cursor: str) -> tuple[datetime, str]:
    key = _decode(cursor)
    try:
        kind, at, cid = key
        if kind != "r" or not isinstance(cid, str) or not cid.isdigit():
            raise ValueError
        return datetime.fromisoformat(at), cid
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("bad cursor", code="bad_cursor") from exc


def _waiting_key(cursor: str) -> tuple[int, datetime, str]:
    key = _decode(cursor)
    try:
        kind, rank, at, cid = key
        if kind != "w" or not isinstance(rank, int) or not 0 <= rank < 4:
            raise ValueError
        if not isinstance(cid, str) or not cid.isdigit():
            raise ValueError
        return rank, datetime.fromisoformat(at), cid
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("bad cursor", code="bad_cursor") from exc


# ----- views -------------------------------------------------------------------------


def view_filter(actor: Actor, q: ViewQuery) -> ViewFilter:
    """The view's rows that ``actor`` may see, narrowed by the caller's filters."""
    org_id = require_member(actor)
    if q.view not in VIEWS:
        raise ValidationFailed(f"unknown view {q.view!r}")
    lead = is_lead(actor)
    if q.view in LEAD_VIEWS and not lead:
        raise Forbidden("requires the supervisor role")
    statuses = _STATUSES[q.view]
    if q.status is not None:
        if q.status not in statuses:
            raise ValidationFailed(f"the {q.view} view has no {q.status} conversations")
        statuses = (q.status,)
    groups: tuple[str, ...] | None = None
    if q.view == "queue":
        groups = actor.group_ids if not lead or actor.group_ids else None
    if q.group_id is not None:
        groups = (q.group_id,) if groups is None or q.group_id in groups else ()
    return ViewFilter(
        org_id=org_id,
        statuses=statuses,
        visible_groups=None if lead else actor.group_ids,
        visible_assignee=None if lead else actor.user_id,
        assignee_id=actor.user_id if q.view == "mine" else q.assignee_id,
        is_unassigned=q.view == "unassigned",
        is_escalated=True if q.view == "escalated" else None,
        group_ids=groups,
        with_ungrouped=q.view == "queue" and q.group_id is None,
        priorities=(q.priority,) if q.priority else None,
        label=q.label,
        channel=q.channel,
        since=q.since,
        until=q.until,
        category=q.category,
        kind=q.kind,
    )


async def list_view(svc: Services, actor: Actor, q: ViewQuery) -> dict[str, Any]:
    """One page of a view: ``items`` and ``next_cursor`` (null on the last page).

    Two statements whatever the page (tests/actions/test_inbox_views.py counts them):
    the page with each conversation's unread count, and the names of its people."""
    f = view_filter(actor, q)
    async with svc.db.read(actor.scope) as conn:
        if q.view in WAITING_VIEWS:
            after = _waiting_key(q.cursor) if q.cursor else None
            ranked = await inbox.waiting_page(conn, f, Side.ORG, after=after, limit=q.limit + 1)
            rows = [row for row, _, _ in ranked]
            next_cursor = None
            if len(ranked) > q.limit:
                (last, _side), rank, since = ranked[q.limit - 1]
                next_cursor = _encode(["w", rank, since.isoformat(), last.id])
        else:
            after_r = _recent_key(q.cursor) if q.cursor else None
            rows = await inbox.recent_page(conn, f, Side.ORG, after=after_r, limit=q.limit + 1)
            next_cursor = None
            if len(rows) > q.limit:
                last = rows[q.limit - 1][0]
                next_cursor = _encode(["r", last.updated_at.isoformat(), last.id])
        rows = rows[: q.limit]
        items = await views_of(conn, rows)
    return {"view": q.view, "items": items, "next_cursor": next_cursor}


async def views_of(
    conn: Tx, rows: Iterable[tuple[Conversation, ConversationSide]]
) -> list[dict[str, Any]]:
    """Each row as its side sees it: b2b conversations as the organization's side of
    them (``org`` or ``peer``: ``s.side``), with the other organization's name (one more
    statement, only when the page has b2b conversations)."""
    rows = list(rows)
    ids = {i for c, _ in rows for i in (c.customer_id, c.assignee_id, c.peer_assignee_id) if i}
    names = await people.get_users(conn, sorted(ids)) if ids else {}
    org_ids = sorted(
        {
            o
            for c, _ in rows
            if c.kind == ConversationKind.B2B
            for o in (c.org_id, c.peer_org_id)
            if o
        }
    )
    orgs = {o.id: o for o in await organizations.get_orgs(conn, org_ids)} if org_ids else {}
    views = []
    for c, s in rows:
        if c.kind == ConversationKind.B2B:
            view = b2b_view(c, viewer_side=s.side, people_by_id=names, sides={s.side: s}, orgs=orgs)
            view["unread"] = s.unread
        else:
            view = conversation_view(c, viewer_side=Side.ORG, people=names, unread=s.unread)
        views.append(view)
    return views


# ----- counts ------------------------------------------------------------------------


def summarize(rows: Iterable[OpenCount]) -> dict[str, Any]:
    """Every count a console shows, from the open conversations counted once:
    ``groups`` waiting per group, ``agents`` open per assignee, and the totals."""
    groups: dict[str, int] = {}
    agents: dict[str, int] = {}
    total = escalated = unassigned = ungrouped = 0
    for row in rows:
        total += row.count
        if row.is_escalated:
            escalated += row.count
        if row.assignee_id is None:
            unassigned += row.count
        else:
            agents[row.assignee_id] = agents.get(row.assignee_id, 0) + row.count
        if row.status == ConversationStatus.QUEUED and row.group_id is not None:
            groups[row.group_id] = groups.get(row.group_id, 0) + row.count
        elif row.status == ConversationStatus.QUEUED:
            ungrouped += row.count
    return {
        "open": total,
        "escalated": escalated,
        "unassigned": unassigned,
        "groups": groups,
        "agents": agents,
        "ungrouped": ungrouped,  # waiting in no group ("Unassigned"): every agent's
    }


def view_counts(actor: Actor, summary: dict[str, Any]) -> dict[str, int]:
    """What each view's badge says for ``actor`` (the client computes the same from
    ``inbox:counts``, docs/protocol.md)."""
    groups: dict[str, int] = summary["groups"]
    in_mine = sum(groups.get(g, 0) for g in actor.group_ids) + int(summary.get("ungrouped", 0))
    lead = is_lead(actor)
    counts = {
        "mine": int(summary["agents"].get(actor.user_id, 0)),
        "queue": in_mine
        if actor.group_ids or not lead
        else int(sum(groups.values())) + int(summary.get("ungrouped", 0)),
        "unassigned": int(summary["unassigned"]) if lead else in_mine,
    }
    if lead:
        counts |= {"all": int(summary["open"]), "escalated": int(summary["escalated"])}
    return counts


def visible_summary(actor: Actor, summary: dict[str, Any]) -> dict[str, Any]:
    """The part of the summary ``actor`` may see: leads all of it, agents their groups
    and themselves."""
    if is_lead(actor):
        return summary
    return {
        "groups": {g: n for g, n in summary["groups"].items() if g in actor.group_ids},
        "agents": {a: n for a, n in summary["agents"].items() if a == actor.user_id},
        "ungrouped": summary.get("ungrouped", 0),
    }


async def get_counts(svc: Services, actor: Actor) -> dict[str, Any]:
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        summary = summarize(await inbox.open_counts(conn, org_id))
    return {
        "views": view_counts(actor, summary),
        "counts": visible_summary(actor, summary),
        "group_ids": list(actor.group_ids),
        "is_lead": is_lead(actor),
    }


# ----- the team's load (supervisors) -----------------------------------------------


async def team_load(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """Every member's availability, connection, capacity and active conversations."""
    org_id = require_member(actor)
    if not is_lead(actor):
        raise Forbidden("requires the supervisor role")
    async with svc.db.read(actor.scope) as conn:
        memberships = [m for m in await people.list_memberships(conn, org_id) if m.is_active]
        users = await people.get_users(conn, [m.user_id for m in memberships])
        # Active conversations per agent, b2b sides of other organizations' included:
        # the load routing counts (storage/metadata/conversations.py: active_counts).
        loads = await conversations.active_counts(conn, org_id, [m.user_id for m in memberships])
        groups = await people.groups_by_member(conn, org_id)
    keys = {presence_key(org_id, m.user_id): m.user_id for m in memberships}
    connected = {keys[k] for k in await svc.ephemeral.connected(list(keys)) if k in keys}
    return [
        {
            "user_id": m.user_id,
            "display_name": users[m.user_id].display_name if m.user_id in users else "",
            "role": m.role,
            "availability": m.availability,
            "is_auto_away": m.is_auto_away,
            "is_connected": m.user_id in connected,
            "capacity": m.capacity,
            "open": loads[m.user_id],
            "group_ids": groups.get(m.user_id, []),
        }
        for m in sorted(
            memberships,
            key=lambda m: users[m.user_id].display_name if m.user_id in users else "",
        )
    ]
