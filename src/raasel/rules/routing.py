"""Which group a new conversation goes to: only one somebody will see (pure).

docs/protocol.md, "Routing only to reachable teams". The candidates come in order of
preference (the group the customer chose, the group of the conversation it follows,
the AI router's); the first that has an active member wins. Else the organization's
default group if it has members, else its first group that has (default first, then by
id). With none, the conversation waits in no group ("Unassigned"), which every agent of
the organization sees.
"""

from __future__ import annotations

from collections.abc import Sequence

from raasel.storage.records import DispatchGroup


def pick_group(
    preferred: Sequence[str | None],
    groups: Sequence[tuple[DispatchGroup, bool]],
) -> DispatchGroup | None:
    """``groups``: the organization's, default first, each with "has members?"."""
    staffed = [group for group, has_members in groups if has_members]
    by_id = {group.id: group for group in staffed}
    for group_id in preferred:
        if group_id is not None and group_id in by_id:
            return by_id[group_id]
    return staffed[0] if staffed else None
