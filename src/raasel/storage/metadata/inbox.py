"""The team inbox's views: keyset pages of an organization's conversations, and counts.

A page reads one index range per status (``ix_conversations_recent``) or per status and
priority (``ix_conversations_waiting``), each branch stopping at the page's size, merged
by one outer ORDER BY: one statement, and its cost does not grow with the number of
conversations (the filters that no index holds, labels and channel, only make a branch
read further). The organization is in every branch's WHERE clause.

The ``b2b`` conversations another organization opened with this one are rows of the
opener's partition: they join a page as branches of their own, over the peer's side
(``peer_org_id``, ``peer_status``, ``peer_group_id``, ``peer_assignee_id``, the ``peer``
receipts row; ``ix_conversations_peer``), so the peer's views list them as its own
(docs/protocol.md, "Organization to organization").
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


def _peer_where(f: ViewFilter) -> list[ColumnElement[bool]] | None:
    """The filter over the peer's side of b2b conversations other organizations opened;
    None when the view has none of them (escalation, labels and customers are the
    opener's)."""
    if f.is_escalated or f.label is not None or f.channel is not None:
        return None
    if f.kind not in (None, "b2b"):
        return None
    clauses: list[ColumnElement[bool]] = [c.c.peer_org_id == f.org_id, c.c.kind == "b2b"]
    if f.visible_groups is not None:  # actions.access.can_peer_see
        seen: list[ColumnElement[bool]] = [
            c.c.peer_group_id.in_(f.visible_groups),
            c.c.peer_group_id.is_(None),
        ]
        if f.visible_assignee is not None:
            seen.append(c.c.peer_assignee_id == f.visible_assignee)
        clauses.append(or_(*seen))
    if f.assignee_id is not None:
        clauses.append(c.c.peer_assignee_id == f.assignee_id)
    if f.is_unassigned:
        clauses.append(c.c.peer_assignee_id.is_(None))
    if f.group_ids is not None:
        chosen = c.c.peer_group_id.in_(f.group_ids)
        clauses.append(or_(chosen, c.c.peer_group_id.is_(None)) if f.with_ungrouped else chosen)
    if f.priorities is not None:
        clauses.append(c.c.priority.in_(f.priorities))
    if f.category is not None:
        clauses.append(c.c.category == f.category)
    if f.since is not None:
        clauses.append(c.c.created_at >= f.since)
    if f.until is not None:
        clauses.append(c.c.created_at < f.until)
    return clauses


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
    where: list[ColumnElement[bool]],
    side: str,
    extra: list[ColumnElement[bool]],
    order: list[Any],
    limit: int,
    rank: int | None = None,
    waiting_since: Any = None,
) -> Select[Any]:
    columns = _columns()
    if rank is not None:
        columns.append(literal(rank).label("rank"))
    if waiting_since is not None:
        columns.append(waiting_since.label("waiting_since"))
    return (
        select(*columns)
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == side))
        .where(*where, *extra)
        .order_by(*order)
        .limit(limit)
    )


def _audiences(f: ViewFilter, side: str) -> list[tuple[list[ColumnElement[bool]], str, Any, Any]]:
    """(where, side row, status column, waiting since) of the organization's own rows
    and, for its consoles, of the b2b conversations it is the peer of."""
    own = (_where(f), side, c.c.status, c.c.queued_at)
    peer = _peer_where(f) if side == "org" else None
    if peer is None:
        return [own]
    # The peer's side waits from its acceptance (requests: from the opening).
    since = func.coalesce(c.c.peer_accepted_at, c.c.created_at)
    return [own, (peer, "peer", c.c.peer_status, since)]


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
        _branch(where, row_side, [status_of == status, *keyset], order, limit)
        for where, row_side, status_of, _since in _audiences(f, side)
        for status in f.statuses
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
) -> list[tuple[tuple[Conversation, ConversationSide], int, datetime]]:
    """Most urgent first, then longest waiting (``queued_at``, id; the peer's side of a
    b2b conversation: since its acceptance), from after ``after`` (rank of the priority,
    waiting since, id); each row with its priority's rank and its waiting since."""
    priorities = f.priorities or PRIORITY_ORDER
    branches = []
    for where, row_side, status_of, since in _audiences(f, side):
        for status in f.statuses:
            for rank, priority in enumerate(PRIORITY_ORDER):
                if priority not in priorities or (after is not None and rank < after[0]):
                    continue
                keyset: list[ColumnElement[bool]] = []
                if after is not None and rank == after[0]:
                    keyset = [tuple_(since, c.c.id) > tuple_(after[1], after[2])]
                branches.append(
                    _branch(
                        where,
                        row_side,
                        [status_of == status, c.c.priority == priority, *keyset],
                        [since, c.c.id],
                        limit,
                        rank,
                        since,
                    )
                )
    if not branches:
        return []
    if len(branches) == 1:
        rows = (await conn.execute(branches[0])).all()
    else:
        merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
        query = (
            select(merged).order_by(merged.c.rank, merged.c.waiting_since, merged.c.id).limit(limit)
        )
        rows = (await conn.execute(query)).all()
    return [
        (row, int(r._mapping["rank"]), r._mapping["waiting_since"] or row[0].created_at)
        for row, r in zip(_rows(rows), rows, strict=True)
    ]


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
    own = (
        select(c.c.group_id, c.c.assignee_id, c.c.status, c.c.is_escalated, func.count())
        .where(c.c.org_id == org_id, c.c.status.in_(("queued", "active")))
        .group_by(c.c.group_id, c.c.assignee_id, c.c.status, c.c.is_escalated)
    )
    # The peer's side of b2b conversations other organizations opened with this one
    # (``ix_conversations_peer``): never escalated here.
    peer = (
        select(
            c.c.peer_group_id, c.c.peer_assignee_id, c.c.peer_status, literal(False), func.count()
        )
        .where(
            c.c.peer_org_id == org_id,
            c.c.kind == "b2b",
            c.c.peer_status.in_(("queued", "active")),
        )
        .group_by(c.c.peer_group_id, c.c.peer_assignee_id, c.c.peer_status)
    )
    query = union_all(own, peer)
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
