"""An individual's say over organizations that write to them first: mute and block.

Muted: the outreach conversations stay, delivered and readable, but nothing calls the
person's attention to them: no follow-up mail (actions/followup.py skips them, and an
unmute marks what came meanwhile as mailed), and their clients neither sound, nor show a
notification, nor count them in the app's unread badge (the flag is stored on the server
and sent to every device, ``contact`` on each conversation and ``contact:updated``).
Blocked: the organization can start no new outreach with them, and its agents can
write no more text into the outreach conversations it started (internal notes stay
possible); support conversations the person opened themselves are theirs to continue
or close. docs/protocol.md, "Outreach".
"""

from __future__ import annotations

from typing import Any

from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.domain import ConversationKind, MessageKind, Side
from raasel.errors import Forbidden, NotFound
from raasel.lib.clock import utcnow
from raasel.realtime.rooms import user_room
from raasel.storage.metadata import contacts, followups, organizations
from raasel.storage.metadata.contacts import Contact
from raasel.storage.records import Conversation, Organization
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch


def badge_of(org: Organization) -> dict[str, Any]:
    """Who writes: the organization's name and whether it proved a domain (the badge)."""
    verified = [d for d in org.domains if d in org.verified_domains]
    return {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "logo_url": org.logo_url,
        "is_verified": bool(verified),
        "verified_domains": verified,
    }


def contact_view(contact: Contact | None) -> dict[str, bool]:
    if contact is None:
        return {"is_muted": False, "is_blocked": False}
    return {"is_muted": contact.is_muted, "is_blocked": contact.is_blocked}


def _is_quiet(contact: Contact | None) -> bool:
    return contact is not None and (contact.is_muted or contact.is_blocked)


def _require_person(actor: Actor) -> None:
    if actor.is_member or actor.is_visitor:
        raise Forbidden("only an individual's own account may do this")


async def do_set_contact(
    svc: Services, actor: Actor, org_id: str, *, is_muted: bool | None, is_blocked: bool | None
) -> Outcome:
    """Mute, block (or undo either) one organization; the person's devices are told."""
    _require_person(actor)
    changes = {
        name: value
        for name, value in (("is_muted", is_muted), ("is_blocked", is_blocked))
        if value is not None
    }

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        org = await organizations.get_org(batch.conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        was = await contacts.get_contact(batch.conn, actor.user_id, org_id, for_update=True)
        now = utcnow()
        contact = await contacts.lock_contact(batch.conn, actor.user_id, org_id, now, **changes)
        if _is_quiet(was) and not _is_quiet(contact):
            # Unmuted: what came while muted stays unmailed; what comes next is mailed.
            for cid, position in await followups.outreach_positions(
                batch.conn, org_id, actor.user_id
            ):
                await followups.set_mailed(batch.conn, cid, position, now)
        view = {"organization": badge_of(org)} | contact_view(contact)
        batch.emit(Event("contact:updated", view, (user_room(actor.user_id),)))
        return view

    return Outcome(await svc.db.run(unit))


async def list_contacts(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """The organizations the person muted or blocked (or once did), with their badges."""
    _require_person(actor)
    async with svc.db.read(actor.scope) as conn:
        mine = await contacts.contacts_of(conn, actor.user_id)
        orgs = {o.id: o for o in await organizations.get_orgs(conn, list(mine))}
    return [
        {"organization": badge_of(orgs[org_id])} | contact_view(contact)
        for org_id, contact in mine.items()
        if org_id in orgs
    ]


async def check_org_may_write(
    batch: UnitBatch, conversation: Conversation, sender_side: str, kind: str
) -> None:
    """Inside the send unit: an outreach conversation takes no more text from an
    organization its person blocked. Locks the contact row (made when the outreach
    started), so a block committing meanwhile is seen or waits for this send."""
    if (
        conversation.kind != ConversationKind.OUTREACH
        or sender_side != Side.ORG
        or kind == MessageKind.NOTE
        or conversation.customer_id is None
    ):
        return
    contact = await contacts.get_contact(
        batch.conn, conversation.customer_id, conversation.org_id, for_update=True
    )
    if contact is not None and contact.is_blocked:
        raise Forbidden(
            "this person blocked your organization: they receive nothing more from it",
            code="recipient_blocked",
        )


async def decorate_for_person(
    conn: Tx, person_id: str, views: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Add who writes (the badge) and the person's mute/block to their conversation
    views: two queries for the whole list."""
    org_ids = sorted({str(v["org_id"]) for v in views})
    orgs = {o.id: o for o in await organizations.get_orgs(conn, org_ids)}
    mine = await contacts.contacts_of(conn, person_id, org_ids)
    for view in views:
        org = orgs.get(str(view["org_id"]))
        if org is not None:
            view["organization"] = badge_of(org)
        view["contact"] = contact_view(mine.get(str(view["org_id"])))
    return views
