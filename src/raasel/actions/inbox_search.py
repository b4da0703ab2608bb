"""Search in the organization's conversations (agents only; docs/protocol.md, "Team inbox").

Two ranked sources on the first page: conversations whose subject, labels or customer
(name, address) match, then messages (texts and internal notes: only agents search)
with a highlighted snippet. A page is ``limit`` message hits after ``offset``; the
cursor carries the offset (a search's result set is bounded by its words, not by the
history, and the index ranks it once per page). Tenant scope: the organization and what
the agent may see are in the queries' WHERE clauses (storage/metadata/inbox_search.py).
"""

from __future__ import annotations

from typing import Any

from raasel.actions.access import require_member
from raasel.actions.context import Actor, Services
from raasel.actions.inbox import is_lead
from raasel.actions.views import conversation_view
from raasel.domain import Side
from raasel.errors import ValidationFailed
from raasel.storage.metadata import inbox, inbox_search, people
from raasel.storage.metadata.inbox_search import MARK_END, MARK_START
from raasel.storage.records import Conversation, User
from raasel.storage.transaction import Tx

MAX_OFFSET = 1000
CONVERSATION_HITS = 5


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.startswith("o") or not cursor[1:].isdigit() or len(cursor) > 8:
        raise ValidationFailed("bad cursor", code="bad_cursor")
    offset = int(cursor[1:])
    if offset > MAX_OFFSET:
        raise ValidationFailed("search pages end at 1000 results", code="bad_cursor")
    return offset


async def search(
    svc: Services, actor: Actor, query: str, *, limit: int = 20, cursor: str | None = None
) -> dict[str, Any]:
    org_id = require_member(actor)
    terms = inbox_search.terms_of(query)
    offset = _offset(cursor)
    answer: dict[str, Any] = {
        "query": query,
        "terms": terms,
        "marks": [MARK_START, MARK_END],
        "conversations": [],
        "messages": [],
        "next_cursor": None,
    }
    if not terms:
        return answer
    groups = None if is_lead(actor) else list(actor.group_ids)
    async with svc.db.read(actor.scope) as conn:
        conversation_hits = (
            await inbox_search.search_conversations(
                conn,
                org_id,
                terms,
                groups=groups,
                me=actor.user_id,
                limit=CONVERSATION_HITS,
                offset=0,
            )
            if offset == 0
            else []
        )
        message_hits = await inbox_search.search_messages(
            conn,
            org_id,
            terms,
            groups=groups,
            me=actor.user_id,
            limit=limit + 1,
            offset=offset,
        )
        more = len(message_hits) > limit
        message_hits = message_hits[:limit]
        ids = sorted(
            {h.conversation_id for h in conversation_hits}
            | {h.conversation_id for h in message_hits}
        )
        conversations, names = await _load(conn, org_id, ids)

    def view(cid: str) -> dict[str, Any] | None:
        c = conversations.get(cid)
        return conversation_view(c, viewer_side=Side.ORG, people=names) if c else None

    answer["conversations"] = [
        {"conversation": v} for h in conversation_hits if (v := view(h.conversation_id))
    ]
    answer["messages"] = [
        {
            "conversation": v,
            "position": h.position,
            "kind": h.kind,
            "snippet": h.snippet,
        }
        for h in message_hits
        if (v := view(h.conversation_id))
    ]
    if more and offset + limit <= MAX_OFFSET:
        answer["next_cursor"] = f"o{offset + limit}"
    return answer


async def _load(
    conn: Tx, org_id: str, ids: list[str]
) -> tuple[dict[str, Conversation], dict[str, User]]:
    conversations = {c.id: c for c in await inbox.conversations_by_id(conn, org_id, ids)}
    person_ids = sorted(
        {i for c in conversations.values() for i in (c.customer_id, c.assignee_id) if i}
    )
    names = await people.get_users(conn, person_ids) if person_ids else {}
    return conversations, names
