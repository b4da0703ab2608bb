"""Business hours and offline handling (issue 12, item 3; docs/protocol.md).

Outside a team's hours, or with no agent of it online with a console, a new conversation
is kept and queued as always; the customer is told so (``notice_for``), when a reply can
be expected, and a visitor may leave an email address for the answer
(``do_leave_email``: the follow-up mail goes there). Consoles see whether each team is
open (``hours_view``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from raasel.actions.access import access_conversation
from raasel.actions.assignment import reachable
from raasel.actions.context import Actor, Services
from raasel.errors import Forbidden
from raasel.lib.clock import utcnow
from raasel.rules import business_hours
from raasel.rules.offline import offline_notice
from raasel.storage.metadata import organizations, people
from raasel.storage.records import Conversation, DispatchGroup, Organization
from raasel.storage.tenancy import TenantScope
from raasel.storage.transaction import Tx


def hours_view(org: Organization, group: DispatchGroup | None, at: datetime) -> dict[str, Any]:
    """``{is_open, opens_at, timezone}`` of the hours that apply to ``group``."""
    schedule, zone = business_hours.effective(group.business_hours if group else None, org.settings)
    is_open = business_hours.is_open(schedule, zone, at)
    opens_at = None if is_open else business_hours.next_open(schedule, zone, at)
    return {
        "is_open": is_open,
        "opens_at": opens_at.isoformat() if opens_at else None,
        "timezone": str(zone),
    }


def is_open_for(org: Organization, group: DispatchGroup | None, at: datetime) -> bool:
    schedule, zone = business_hours.effective(group.business_hours if group else None, org.settings)
    return business_hours.is_open(schedule, zone, at)


def opened_between(
    org: Organization, group: DispatchGroup, since: datetime, until: datetime
) -> bool:
    """Closed at ``since``, open at ``until``: the team opened (the sweep then routes
    what waited; its rounds are seconds apart, so no opening falls between two)."""
    schedule, zone = business_hours.effective(group.business_hours, org.settings)
    if schedule is None:
        return False
    return business_hours.is_open(schedule, zone, until) and not business_hours.is_open(
        schedule, zone, since
    )


def notice_for(
    org: Organization,
    group: DispatchGroup | None,
    has_online: bool,
    customer: Actor,
    at: datetime,
    *,
    has_contact: bool = False,
) -> dict[str, Any] | None:
    """What a customer waiting with nobody to answer is told (rules/offline.py)."""
    schedule, zone = business_hours.effective(group.business_hours if group else None, org.settings)
    is_open = business_hours.is_open(schedule, zone, at)
    message = org.settings.get("offline_message")
    return offline_notice(
        is_open=is_open,
        opens_at=None if is_open else business_hours.next_open(schedule, zone, at),
        has_online=has_online,
        offline_message=message if isinstance(message, str) and message else None,
        may_leave_email=customer.is_visitor and not has_contact,
    )


async def do_leave_email(
    svc: Services, actor: Actor, conversation_id: str, email: str
) -> dict[str, Any]:
    """A visitor leaves an address for the answers (an account has its verified one)."""
    if not actor.is_visitor:
        raise Forbidden("only widget visitors leave an address; accounts have theirs")

    async def work(conn: Tx) -> None:
        await access_conversation(conn, actor, conversation_id)  # their own, else not found
        await people.update_user(conn, actor.user_id, {"contact_email": email.lower()})

    await svc.db.write(work)
    return {"conversation_id": conversation_id, "contact_email": email.lower()}


async def notice_for_waiting(
    svc: Services, customer: Actor, conversation: Conversation, at: datetime | None = None
) -> dict[str, Any] | None:
    """The notice a customer whose conversation waits reads on every device (a read)."""
    online = await reachable(svc, conversation.org_id)
    async with svc.db.read(TenantScope(org_id=conversation.org_id)) as conn:
        org = await organizations.get_org(conn, conversation.org_id)
        staffing = await organizations.groups_with_staffing(
            conn, conversation.org_id, sorted(online.user_ids)
        )
        user = await people.get_user(conn, customer.user_id)
    if org is None:
        return None
    mine = next((s for s in staffing if s.group.id == conversation.group_id), None)
    return notice_for(
        org,
        mine.group if mine else None,
        mine.has_online if mine else bool(online.user_ids),
        customer,
        at or utcnow(),
        has_contact=bool(user and user.contact_email),
    )
