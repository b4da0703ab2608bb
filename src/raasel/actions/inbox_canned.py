"""Labels (the organization's catalogue) and canned responses.

Labels: admins and supervisors keep the list of names and colours agents pick from
(a conversation's labels are its ``tags``). Canned responses: organization-wide ones
are kept by supervisors and above, personal ones by their owner; the composer inserts
one with ``/shortcut`` and fills ``{{customer.name | fallback}}``-style variables then
(web/src/agent/canned.ts; the variables are listed in docs/protocol.md).
"""

from __future__ import annotations

from typing import Any

from raasel.actions.access import require_member
from raasel.actions.context import Actor, Services
from raasel.actions.inbox import is_lead
from raasel.domain import Role
from raasel.errors import Conflict, Forbidden, NotFound
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import labels
from raasel.storage.metadata.labels import CannedResponse, Label
from raasel.storage.records import Conversation
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

VARIABLES = ("customer.name", "customer.email", "agent.name", "conversation.subject", "org.name")


def label_view(label: Label) -> dict[str, Any]:
    return {"name": label.name, "color": label.color, "description": label.description}


def canned_view(canned: CannedResponse) -> dict[str, Any]:
    return {
        "id": canned.id,
        "shortcut": canned.shortcut,
        "title": canned.title,
        "body": canned.body,
        "is_personal": canned.owner_id is not None,
        "updated_at": canned.updated_at.isoformat(),
    }


def _require_lead(actor: Actor) -> str:
    org_id = require_member(actor)
    if not is_lead(actor):
        raise Forbidden("requires the supervisor role")
    return org_id


async def list_labels(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        return [label_view(x) for x in await labels.list_labels(conn, org_id)]


async def put_label(
    svc: Services, actor: Actor, name: str, *, color: str, description: str
) -> dict[str, Any]:
    org_id = _require_lead(actor)
    label = Label(org_id, name, color, description, utcnow())

    async def work(conn: Tx) -> None:
        await labels.put_label(conn, label)

    await svc.db.write(work)
    return label_view(label)


async def delete_label(svc: Services, actor: Actor, name: str) -> None:
    org_id = _require_lead(actor)

    async def work(conn: Tx) -> bool:
        return await labels.delete_label(conn, org_id, name)

    if not await svc.db.write(work):
        raise NotFound("label not found")


async def list_canned(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        return [canned_view(x) for x in await labels.list_canned(conn, org_id, actor.user_id)]


async def _check_shortcut(
    conn: Tx, org_id: str, owner_id: str | None, shortcut: str, exclude: str | None = None
) -> None:
    for other in await labels.list_canned(conn, org_id, owner_id or ""):
        if other.id != exclude and other.owner_id == owner_id and other.shortcut == shortcut:
            raise Conflict(f"/{shortcut} is taken", code="shortcut_taken")


async def create_canned(
    svc: Services, actor: Actor, *, shortcut: str, title: str, body: str, is_personal: bool
) -> dict[str, Any]:
    org_id = require_member(actor)
    if not is_personal and not is_lead(actor):
        raise Forbidden("organization-wide responses are kept by supervisors")
    now = utcnow()
    canned = CannedResponse(
        new_str_id(),
        org_id,
        actor.user_id if is_personal else None,
        shortcut,
        title,
        body,
        now,
        now,
    )

    async def work(conn: Tx) -> None:
        await _check_shortcut(conn, org_id, canned.owner_id, shortcut)
        await labels.insert_canned(conn, canned)

    await svc.db.write(work)
    return canned_view(canned)


async def _editable(conn: Tx, actor: Actor, org_id: str, canned_id: str) -> CannedResponse:
    found = await labels.get_canned(conn, org_id, canned_id)
    if found is None or (found.owner_id is not None and found.owner_id != actor.user_id):
        raise NotFound("canned response not found")
    if found.owner_id is None and not is_lead(actor):
        raise Forbidden("organization-wide responses are kept by supervisors")
    return found


async def update_canned(
    svc: Services, actor: Actor, canned_id: str, *, shortcut: str, title: str, body: str
) -> dict[str, Any]:
    org_id = require_member(actor)

    async def work(conn: Tx) -> CannedResponse:
        found = await _editable(conn, actor, org_id, canned_id)
        await _check_shortcut(conn, org_id, found.owner_id, shortcut, exclude=found.id)
        changed = found.but(shortcut=shortcut, title=title, body=body, updated_at=utcnow())
        await labels.update_canned(conn, changed)
        return changed

    return canned_view(await svc.db.write(work))


async def delete_canned(svc: Services, actor: Actor, canned_id: str) -> None:
    org_id = require_member(actor)

    async def work(conn: Tx) -> None:
        await _editable(conn, actor, org_id, canned_id)
        await labels.delete_canned(conn, org_id, canned_id)

    await svc.db.write(work)


# ----- inbox options ----------------------------------------------------------------

INBOX_OPTIONS = ("require_label_to_resolve",)


async def get_inbox_settings(svc: Services, actor: Actor) -> dict[str, Any]:
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        found = await labels.inbox_settings(conn, org_id)
    return {"require_label_to_resolve": bool(found.get("require_label_to_resolve", False))}


async def put_inbox_settings(svc: Services, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    org_id = require_member(actor)
    if not actor.has_role(Role.ADMIN):
        raise Forbidden("requires the admin role")
    changes = {k: bool(v) for k, v in values.items() if k in INBOX_OPTIONS}

    async def work(conn: Tx) -> None:
        await labels.set_inbox_settings(conn, org_id, changes)

    await svc.db.write(work)
    return await get_inbox_settings(svc, actor)


async def check_label_before_resolve(batch: UnitBatch, conversation: Conversation) -> None:
    """Inside the resolve unit: a conversation without labels may not be resolved when
    the organization asks for one (read only then: labelled conversations cost nothing)."""
    if conversation.tags:
        return
    options = await labels.inbox_settings(batch.conn, conversation.org_id)
    if options.get("require_label_to_resolve"):
        raise Conflict("add a label before resolving this conversation", code="label_required")
