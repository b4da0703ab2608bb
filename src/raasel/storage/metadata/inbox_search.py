"""Full-text search in one organization's conversations (storage/inbox_ddl.py keeps the
indexes): SQLite FTS5 with bm25, PostgreSQL ``tsvector`` with ``ts_rank_cd``.

Terms are whole words (``\\w+``), or prefixes when they end with ``*``, all required: no
other query syntax reaches the engine from the user (whole words by default: a prefix
walks the doclists of every word it starts, which is what costs on a large index).
The organization is in the WHERE clause of the index table *and* of the conversation it
joins; an agent who is not a lead only finds conversations of
their groups or their own (the same rule as ``actions.access.can_agent_see``).
"""

# ruff: noqa: S608  (only constant fragments are formatted in; every value is a bind parameter)
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

# Highlight marks around matched words in snippets (private-use characters: never in
# HTML, the client splits on them; docs/protocol.md).
MARK_START = "\ue000"
MARK_END = "\ue001"
MAX_TERMS = 8
# Ranking looks at the newest WINDOW matches of the words (docs/decisions.md, "Inbox
# search"): a word in most messages costs the same as a rare one.
WINDOW = 2000

# A word, or a prefix when it ends with ``*`` ("refund appr*").
_WORD = re.compile(r"\w+\*?", re.UNICODE)


def terms_of(query: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(query)][:MAX_TERMS]


@dataclass(frozen=True, slots=True)
class MessageHit:
    conversation_id: str
    position: int
    kind: str
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class ConversationHit:
    conversation_id: str
    score: float


_UNGROUPED = "(c.group_id IS NULL AND c.kind = 'support')"  # "Unassigned": every agent's
# A b2b conversation's notes are each side's own, and the index does not say whose a
# note is: they are left out of search (its texts are found), never shown to the other
# organization (docs/protocol.md, "Organization to organization").
_NOT_B2B_NOTE = " AND NOT (c.kind = 'b2b' AND {m}.kind = 'note')"


def _visibility(groups: list[str] | None, assignee: str | None) -> tuple[str, dict[str, Any]]:
    if groups is None:
        return "", {}
    if not groups:
        return " AND (" + _UNGROUPED + " OR c.assignee_id = :me)", {"me": assignee}
    return " AND (c.group_id IN :groups OR " + _UNGROUPED + " OR c.assignee_id = :me)", {
        "groups": groups,
        "me": assignee,
    }


def _bind(sql: str, params: dict[str, Any]) -> Any:
    statement = text(sql)
    if "groups" in params:
        statement = statement.bindparams(bindparam("groups", expanding=True))
    return statement.bindparams(**params)


def _fts5(terms: list[str]) -> str:
    return " ".join(f'"{t[:-1]}"*' if t.endswith("*") else f'"{t}"' for t in terms)


def _tsquery(terms: list[str]) -> str:
    return " & ".join(f"{t[:-1]}:*" if t.endswith("*") else t for t in terms)


async def search_conversations(
    conn: AsyncConnection,
    org_id: str,
    terms: list[str],
    *,
    groups: list[str] | None,
    me: str | None,
    limit: int,
    offset: int,
) -> list[ConversationHit]:
    """Conversations whose subject, labels or customer (name, address) match."""
    if not terms:
        return []
    seen, params = _visibility(groups, me)
    params |= {"org": org_id, "limit": limit, "offset": offset}
    if conn.dialect.name == "sqlite":
        sql = (
            "SELECT r.conversation_id AS id, bm25(conversation_search, 4.0, 2.0, 4.0) AS score"
            " FROM conversation_search"
            " JOIN conversation_search_rows r ON r.id = conversation_search.rowid"
            " JOIN conversations c ON c.id = r.conversation_id"
            " WHERE conversation_search MATCH :q AND r.org_id = :org AND c.org_id = :org"
            f"{seen} ORDER BY score, c.updated_at DESC LIMIT :limit OFFSET :offset"
        )
        params["q"] = _fts5(terms)
    else:
        sql = (
            # The match step runs on the GIN index, held to the caller's organization
            # (row-level security would keep the index out: storage/tenant_ddl.py).
            "SELECT s.conversation_id AS id, -ts_rank_cd(s.document, q.q) AS score"
            " FROM to_tsquery('simple', :q) AS q(q),"
            " raasel_conversation_matches(q.q) s JOIN conversations c ON c.id = s.conversation_id"
            " WHERE s.org_id = :org AND c.org_id = :org"
            f"{seen} ORDER BY score, c.updated_at DESC LIMIT :limit OFFSET :offset"
        )
        params["q"] = _tsquery(terms)
    rows = (await conn.execute(_bind(sql, params))).all()
    return [ConversationHit(r.id, float(r.score)) for r in rows]


async def search_messages(
    conn: AsyncConnection,
    org_id: str,
    terms: list[str],
    *,
    groups: list[str] | None,
    me: str | None,
    limit: int,
    offset: int,
) -> list[MessageHit]:
    """Text messages and internal notes that match, best first among the newest
    ``WINDOW`` matches, with a snippet."""
    if not terms:
        return []
    seen, params = _visibility(groups, me)
    params |= {"org": org_id, "limit": limit, "offset": offset}
    params["window"] = WINDOW
    if conn.dialect.name == "sqlite":
        # FTS5 streams matches newest first by rowid: the window's floor costs WINDOW
        # steps, and bm25 then ranks only the rows above it.
        sql = (
            "WITH page AS (SELECT m.rowid AS r, m.conversation_id, m.position, m.kind,"
            " bm25(message_search) AS score"
            " FROM message_search m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE message_search MATCH :q AND m.org_id = :org AND c.org_id = :org"
            " AND m.rowid >= COALESCE((SELECT w.rowid FROM message_search w"
            "   WHERE message_search MATCH :q AND w.org_id = :org"
            "   ORDER BY w.rowid DESC LIMIT 1 OFFSET :window - 1), 0)"
            f"{seen}{_NOT_B2B_NOTE.format(m='m')}"
            " ORDER BY score, m.rowid DESC LIMIT :limit OFFSET :offset)"
            # Snippets for the page's rows only.
            " SELECT page.conversation_id, page.position, page.kind, page.score,"
            f" snippet(message_search, 0, '{MARK_START}', '{MARK_END}', '…', 16) AS snippet"
            " FROM page JOIN message_search ON message_search.rowid = page.r"
            " WHERE message_search MATCH :q ORDER BY page.score, page.r DESC"
        )
        params["q"] = _fts5(terms)
    else:
        # The newest WINDOW matches (by message id: the planner walks
        # ix_message_search_recent for common words, the GIN index for rare ones; inside
        # raasel_message_matches, held to the caller's organization, storage/tenant_ddl.py),
        # ranked; headlines only for the page's rows.
        sql = (
            "SELECT p.conversation_id, p.position, p.kind, p.score,"
            " ts_headline('simple', p.body, to_tsquery('simple', :q),"
            f" 'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=8')"
            " AS snippet FROM ("
            " SELECT w.conversation_id, w.position, w.kind, w.body, w.id,"
            " -ts_rank_cd(w.document, to_tsquery('simple', :q)) AS score FROM ("
            "  SELECT m.conversation_id, m.position, m.kind, m.body, m.document, m.id"
            "  FROM raasel_message_matches(to_tsquery('simple', :q), :window) m"
            "  WHERE m.org_id = :org) w"
            " JOIN conversations c ON c.id = w.conversation_id WHERE c.org_id = :org"
            f"{seen}{_NOT_B2B_NOTE.format(m='w')} ORDER BY score, w.id DESC"
            " LIMIT :limit OFFSET :offset) p"
            " ORDER BY p.score, p.id DESC"
        )
        params["q"] = _tsquery(terms)
    rows = (await conn.execute(_bind(sql, params))).all()
    return [
        MessageHit(r.conversation_id, int(r.position), r.kind, r.snippet, float(r.score))
        for r in rows
    ]
