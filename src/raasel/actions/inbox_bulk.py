"""Supervisor control: labels on a conversation, and bulk actions on a selection.

A bulk action is one unit per conversation, all handed to the committer at once: they
share batches (one commit for many), each is checked on its own conversation's state
inside its own unit, and one that fails (gone, already closed, not allowed) fails alone
with its error in the answer while the others commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from raasel.actions import assignment, lifecycle
from raasel.actions.access import require_member
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.conversation_events import conversation_updated, org_view
from raasel.actions.conversation_units import load_for
from raasel.errors import RaaselError, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.storage.unit_batch import UnitBatch

MAX_LABELS = 20
BULK_ACTIONS = ("assign", "label", "priority", "resolve", "close")


def relabel(tags: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> list[str]:
    """Labels after the change: removed ones out, added ones at the end, no duplicates."""
    gone = {t.casefold() for t in remove}
    kept = [t for t in tags if t.casefold() not in gone]
    seen = {t.casefold() for t in kept}
    for label in add:
        if label.casefold() not in seen:
            kept.append(label)
            seen.add(label.casefold())
    if len(kept) > MAX_LABELS:
        raise ValidationFailed(f"at most {MAX_LABELS} labels on a conversation")
    return kept


async def do_label(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> Outcome:
    """Add and remove labels in one unit: the change applies to the labels the
    conversation has when the unit runs, so two agents labelling at once lose nothing."""
    require_member(actor)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id)
        tags = relabel(before.tags, add, remove)
        if tags == list(before.tags):
            return await org_view(batch, before)
        after = batch.put(before, tags=tags, updated_at=utcnow())
        await batch.flush()
        batch.emit(*await conversation_updated(batch, after, before))
        return await org_view(batch, after)

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def do_bulk(
    svc: Services,
    actor: Actor,
    conversation_ids: Sequence[str],
    *,
    action: str,
    agent_id: str | None = None,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    priority: str | None = None,
) -> Outcome:
    """Apply ``action`` to each conversation; answer each one's result or error."""
    require_member(actor)
    if action not in BULK_ACTIONS:
        raise ValidationFailed(f"unknown bulk action {action!r}")
    if action == "assign" and agent_id is None:
        raise ValidationFailed("assign needs agent_id")
    if action == "priority" and priority is None:
        raise ValidationFailed("priority needs priority")
    if action == "label" and not add and not remove:
        raise ValidationFailed("label needs labels to add or remove")
    ids = list(dict.fromkeys(conversation_ids))

    def command(cid: str) -> Awaitable[Outcome]:
        if action == "assign":
            assert agent_id is not None
            return assignment.do_assign(svc, actor, cid, agent_id)
        if action == "label":
            return do_label(svc, actor, cid, add=add, remove=remove)
        if action == "priority":
            return lifecycle.do_update_conversation(svc, actor, cid, {"priority": priority})
        if action == "resolve":
            return lifecycle.do_resolve(svc, actor, cid)
        return lifecycle.do_close(svc, actor, cid)

    async def one(cid: str, run: Callable[[str], Awaitable[Outcome]]) -> dict[str, Any]:
        try:
            outcome = await run(cid)
        except RaaselError as exc:
            return {"conversation_id": cid, "ok": False, "error": exc.to_dict()}
        return {"conversation_id": cid, "ok": True, "conversation": outcome.result}

    results = await asyncio.gather(*(one(cid, command) for cid in ids))
    return Outcome({"action": action, "results": list(results)})
