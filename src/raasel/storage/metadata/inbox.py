"""The team inbox's views: keyset pages of an organization's conversations, and counts.

A page reads one index range per status (``ix_conversations_recent``) or per status and
priority (``ix_conversations_waiting``), each branch stopping at the page's size, merged
by one outer ORDER BY: one statement, and its cost does not grow with the number of
conversations (the filters that no index holds, labels and channel, only make a branch
read further). The organization is in every branch's WHERE clause.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Conversation, ConversationSide
from raasel.storage.schema import conversation_sides as s
from raasel.storage.schema import conversations as c
from raasel.storage.schema import users as u

# Waiting views show the most urgent first, then the longest waiting.
PRIORITY_ORDER = ("urgent", "high", "normal", "low")

_SIDE_FIELDS = (
    "side",
    "delivered_position",
    "read_position",
    "delivered_up_to",
    "read_up_to",
    "received",
    "read_count",
)


@dataclass(frozen=True, slots=True)
class ViewFilter:
    """Who sees what (``visible_*``: an agent's groups and their own; None for leads) and
    what the caller asked for."""

    org_id: str
    statuses: tuple[str, ...]
    visible_groups: tuple[str, ...] | None = None
    visible_assignee: str | None = None
    assignee_id: str | None = None
    is_unassigned: bool = False
    is_escalated: bool | None = None
    group_ids: tuple[str, ...] | None = None
    with_ungrouped: bool = False  # with ``group_ids``: also those in no group
    priorities: tuple[str, ...] | None = None
    label: str | None = None
    channel: str | None = None  # "widget" (visitors) | "web" (accounts)
    since: datetime | None = None
    until: datetime | None = None
    category: str | None = None  # ticket fields (actions/ticket_fields.py)
    kind: str | None = None  # support | outreach ...


def _where(f: ViewFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [c.c.org_id == f.org_id]
    if f.visible_groups is not None:
        seen: list[ColumnElement[bool]] = [
            c.c.group_id.in_(f.visible_groups),
            and_(c.c.group_id.is_(None), c.c.kind == "support"),  # "Unassigned": all see it
        ]
        if f.visible_assignee is not None:
            seen.append(c.c.assignee_id == f.visible_assignee)
        clauses.append(or_(*seen) if len(seen) > 1 else seen[0])
    if f.assignee_id is not None:
        clauses.append(c.c.assignee_id == f.assignee_id)
    if f.is_unassigned:
        clauses.append(c.c.assignee_id.is_(None))
    if f.is_escalated is not None:
        clauses.append(c.c.is_escalated == f.is_escalated)
    if f.group_ids is not None:
        chosen = c.c.group_id.in_(f.group_ids)
        ungrouped = and_(c.c.group_id.is_(None), c.c.kind == "support")
        clauses.append(or_(chosen, ungrouped) if f.with_ungrouped else chosen)
    if f.label is not None:
        # Labels are the JSON list ``tags``: the label, JSON-quoted, is one element.
        needle = json.dumps(f.label).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(cast(c.c.tags, Text).like(f"%{needle}%", escape="\\"))
    if f.channel is not None:
        is_visitor = exists().where(u.c.id == c.c.customer_id, u.c.kind == "visitor")
        clauses.append(is_visitor if f.channel == "widget" else ~is_visitor)
    if f.priorities is not None:
        # The waiting views also split by priority (``waiting_page``); the recent ones
        # (mine, all, escalated, resolved) only had this filter ignored before.
        clauses.append(c.c.priority.in_(f.priorities))
    if f.category is not None:
        clauses.append(c.c.category == f.category)
    if f.kind is not None:
        clauses.append(c.c.kind == f.kind)
    if f.since is not None:
        clauses.append(c.c.created_at >= f.since)
    if f.until is not None:
        clauses.append(c.c.created_at < f.until)
    return clauses


def _columns() -> list[Any]:
    return [*c.c, *(s.c[name] for name in _SIDE_FIELDS)]


def _branch(
    f: ViewFilter,
    side: str,
    extra: list[ColumnElement[bool]],
    order: list[Any],
    limit: int,
    rank: int | None = None,
) -> Select[Any]:
    columns = _columns()
    if rank is not None:
        columns.append(literal(rank).label("rank"))
    return (
        select(*columns)
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == side))
        .where(*_where(f), *extra)
        .order_by(*order)
        .limit(limit)
    )


def _rows(rows: Sequence[Any]) -> list[tuple[Conversation, ConversationSide]]:
    out = []
    for row in rows:
        mapping = row._mapping
        conversation = Conversation.from_row(row)
        side = ConversationSide(conversation.id, *(mapping[name] for name in _SIDE_FIELDS))
        out.append((conversation, side))
    return out


async def recent_page(
    conn: AsyncConnection,
    f: ViewFilter,
    side: str,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Conversation, ConversationSide]]:
    """Most recent activity first (``updated_at`` DESC, id DESC), from after ``after``."""
    keyset = [tuple_(c.c.updated_at, c.c.id) < tuple_(*after)] if after else []
    order = [c.c.updated_at.desc(), c.c.id.desc()]
    branches = [
        _branch(f, side, [c.c.status == status, *keyset], order, limit) for status in f.statuses
    ]
    if len(branches) == 1:
        return _rows((await conn.execute(branches[0])).all())
    merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
    query = select(merged).order_by(merged.c.updated_at.desc(), merged.c.id.desc()).limit(limit)
    return _rows((await conn.execute(query)).all())


async def waiting_page(
    conn: AsyncConnection,
    f: ViewFilter,
    side: str,
    *,
    after: tuple[int, datetime, str] | None,
    limit: int,
) -> list[tuple[tuple[Conversation, ConversationSide], int]]:
    """Most urgent first, then longest waiting (``queued_at``, id), from after ``after``
    (rank of the priority, queued_at, id); each row with its priority's rank."""
    priorities = f.priorities or PRIORITY_ORDER
    branches = []
    for status in f.statuses:
        for rank, priority in enumerate(PRIORITY_ORDER):
            if priority not in priorities or (after is not None and rank < after[0]):
                continue
            keyset: list[ColumnElement[bool]] = []
            if after is not None and rank == after[0]:
                keyset = [tuple_(c.c.queued_at, c.c.id) > tuple_(after[1], after[2])]
            branches.append(
                _branch(
                    f,
                    side,
                    [c.c.status == status, c.c.priority == priority, *keyset],
                    [c.c.queued_at, c.c.id],
                    limit,
                    rank,
                )
            )
    if not branches:
        return []
    if len(branches) == 1:
        rows = (await conn.execute(branches[0])).all()
    else:
        merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
        query = select(merged).order_by(merged.c.rank, merged.c.queued_at, merged.c.id).limit(limit)
        rows = (await conn.execute(query)).all()
    return list(zip(_rows(rows), (int(r._mapping["rank"]) for r in rows), strict=True))


@dataclass(frozen=True, slots=True)
class OpenCount:
    group_id: str | None
    assignee_id: str | None
    status: str
    is_escalated: bool
    count: int


async def open_counts(conn: AsyncConnection, org_id: str) -> list[OpenCount]:
    """The organization's open conversations counted by group, assignee, status and flag:
    every view's count follows from these rows (actions/inbox.py). One statement over the
    open conversations only (``ix_conversations_org_status``), not the history."""
    query = (
        select(c.c.group_id, c.c.assignee_id, c.c.status, c.c.is_escalated, func.count())
        .where(c.c.org_id == org_id, c.c.status.in_(("queued", "active")))
        .group_by(c.c.group_id, c.c.assignee_id, c.c.status, c.c.is_escalated)
    )
    return [
        OpenCount(r[0], r[1], r[2], bool(r[3]), int(r[4]))
        for r in (await conn.execute(query)).all()
    ]


async def conversations_by_id(
    conn: AsyncConnection, org_id: str, ids: Sequence[str]
) -> list[Conversation]:
    """The organization's conversations among ``ids`` (others' ids find nothing)."""
    if not ids:
        return []
    query = select(c).where(c.c.org_id == org_id, c.c.id.in_(list(ids)))
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]
