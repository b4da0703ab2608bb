"""The sync ack of group conversations (community channels, team rooms): each group
once, the first time it is named; at most ``page`` messages per group and
``SYNC_ACK_MESSAGES`` per ack (then ``has_more``); a group the caller may not read
answers its error in place, the others still answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from raasel.errors import RaaselError

SYNC_ACK_MESSAGES = 500

Fetch = Callable[[str, int, int], Awaitable[dict[str, Any]]]  # id, after, limit


async def sync_each(
    items: Iterable[tuple[str, int]], fetch: Fetch, *, key: str, page: int
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    budget = SYNC_ACK_MESSAGES
    for group_id, after in items:
        if group_id in seen:
            continue
        seen.add(group_id)
        try:
            answer = await fetch(group_id, after, min(page, budget))
        except RaaselError as exc:
            results.append({key: group_id, "error": exc.to_dict()})
            continue
        budget -= len(answer["messages"])
        results.append(answer)
    return results
