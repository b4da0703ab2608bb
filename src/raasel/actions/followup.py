"""Email follow-up (issue 12, item 4), through the one mail module (src/raasel/mail/).

- **Unseen replies**: when the organization wrote and the customer has not read it
  within ``RAASEL_FOLLOWUP_AFTER_SECONDS``, one mail carries every reply not yet mailed,
  with a link back. The sweep (actions/away.py) finds them; each mail is queued in a
  unit keyed on the conversation that re-checks "still unread, not mailed yet" and moves
  ``mail_followups.mailed_position`` in the same commit: exactly one mail per batch of
  replies, whichever node sweeps. Registered customers get it at their verified
  address, visitors at the address they left (``POST /conversations/{id}/contact``).
- **Transcript** on request (``do_mail_transcript``), usually after resolve.
- **Agents** assigned a conversation while away get a mail (``assigned_mail``,
  ``RAASEL_MAIL_AGENTS_WHEN_AWAY``).

Every follow-up carries an unsubscribe link (a signed token naming the person). Logs
carry ids and counts, never a message's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from raasel.actions.access import access_conversation
from raasel.actions.context import Actor, Services
from raasel.actions.mail import mail_committed, may_mail, queue_mail
from raasel.domain import ConversationKind, MessageKind, Side, UserKind
from raasel.errors import Conflict, Forbidden, InvalidLink
from raasel.lib import signing
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import contacts, followups, organizations, people
from raasel.storage.records import Organization, User
from raasel.storage.tenancy import CrossTenant, TenantScope
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

_SWEEP = CrossTenant("follow-up mail of unseen replies, for every organization")

log = structlog.get_logger(__name__)

UNSUBSCRIBE = "unsubscribe_followups"
MAX_QUOTED = 50  # replies quoted in one mail (the link shows the rest)
MAX_TRANSCRIPT = 500


def recipient_of(user: User | None) -> str | None:
    """Where follow-up mail for ``user`` goes, if anywhere."""
    if user is None or user.is_followup_muted:
        return None
    if user.kind == UserKind.PERSON and user.email and user.email_verified_at:
        return user.email
    return user.contact_email


def unsubscribe_link(svc: Services, user_id: str) -> str:
    token = signing.link_token(svc.settings.resolved_secret_key, UNSUBSCRIBE, user_id, "mail")
    return f"{svc.settings.resolved_public_url}/api/v1/mail/unsubscribe?token={token}"


def conversation_link(svc: Services, org: Organization, user: User, conversation_id: str) -> str:
    base = svc.settings.resolved_public_url
    if user.kind == UserKind.VISITOR:  # the widget keeps the visitor's session
        return f"{base}/widget.html?org={org.slug}"
    return f"{base}/?conversation={conversation_id}"


async def do_unsubscribe(svc: Services, token: str) -> dict[str, Any]:
    parts = signing.split_link_token(token)
    if parts is None or not signing.matches(
        svc.settings.resolved_secret_key, UNSUBSCRIBE, parts[1], parts[0], "mail"
    ):
        raise InvalidLink("this link is invalid")
    user_id = parts[0]

    async def work(conn: Tx) -> None:
        await people.update_user(conn, user_id, {"is_followup_muted": True})

    await svc.db.write(work)
    log.info("follow-up mail muted", user_id=user_id)
    return {"unsubscribed": True}


def quote(messages: Sequence[StoredMessage], names: dict[str, User], org: Organization) -> str:
    lines = []
    for m in messages:
        who = names[m.sender_id].display_name if m.sender_id in names else org.name
        if m.sender_side == Side.CUSTOMER:
            who = "You"
        text = m.body or ("[attachment]" if m.attachment_id else "")
        if m.kind == MessageKind.SYSTEM:
            lines.append(f"  ({text})")
        else:
            lines.append(f"{who}, {m.created_at:%Y-%m-%d %H:%M} UTC:")
            lines.extend(f"  {line}" for line in text.splitlines() or [""])
    return "\n".join(lines)


async def mail_unseen_replies(svc: Services, now: datetime) -> int:
    """One round: mail each customer the replies they did not see in time."""
    window = svc.settings.followup_after_seconds
    if window <= 0:
        return 0
    async with svc.db.read(_SWEEP) as conn:
        rows = await followups.unseen_replies(conn, now - timedelta(seconds=window), 100)
    sent = 0
    for row in rows:
        if await _mail_one(svc, row, now):
            sent += 1
    if sent:
        mail_committed(svc)
        log.info("follow-up mails queued", count=sent)
    return sent


async def _mail_one(svc: Services, row: followups.Unseen, now: datetime) -> bool:
    since = max(row.read_position, row.mailed_position)
    messages = await svc.message_log.after(
        row.org_id,
        row.conversation_id,
        after=since,
        up_to=row.last_public_position,
        limit=MAX_QUOTED,
        include_notes=False,
        scope=TenantScope(org_id=row.org_id),  # the sweep's mail for one organization
    )
    replies = [m for m in messages if m.sender_side == Side.ORG and m.kind == MessageKind.TEXT]
    async with svc.db.read(_SWEEP) as conn:
        org = await organizations.get_org(conn, row.org_id)
        ids = sorted({row.customer_id, *(m.sender_id for m in replies)})
        names = await people.get_users(conn, ids)
    customer = names.get(row.customer_id)
    recipient = recipient_of(customer)
    if org is None or customer is None or recipient is None:
        return False
    allowed = bool(replies) and await may_mail(svc, recipient)

    async def unit(batch: UnitBatch) -> bool:
        conversation = await batch.conversation(row.conversation_id)
        sides = await batch.sides(row.conversation_id)
        if conversation is None or Side.CUSTOMER not in sides:
            return False
        if conversation.kind == ConversationKind.OUTREACH:
            contact = await contacts.get_contact(batch.conn, row.customer_id, row.org_id)
            if contact is not None and (contact.is_muted or contact.is_blocked):
                return False  # muted meanwhile: nothing of it is mailed
        if sides[Side.CUSTOMER].read_position >= row.last_public_position:
            return False  # seen meanwhile
        if await followups.mailed_position(batch.conn, row.conversation_id) >= (
            row.last_public_position
        ):
            return False  # another node mailed it
        is_mailed = False
        if allowed:
            await queue_mail(
                batch.conn,
                svc,
                "followup",
                recipient,
                {
                    "name": customer.display_name,
                    "org": org.name,
                    "messages": quote(replies, names, org),
                    "link": conversation_link(svc, org, customer, row.conversation_id),
                    "unsubscribe": unsubscribe_link(svc, customer.id),
                },
            )
            is_mailed = True
        await followups.set_mailed(batch.conn, row.conversation_id, row.last_public_position, now)
        return is_mailed

    return await svc.db.run(unit, keys=[row.conversation_id])


async def do_mail_transcript(svc: Services, actor: Actor, conversation_id: str) -> dict[str, Any]:
    """The customer asks for the conversation by mail (e.g. after it was resolved)."""
    if actor.is_member:
        raise Forbidden("transcripts are mailed to the customer")
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
        org = await organizations.get_org(conn, conversation.org_id)
        customer = await people.get_user(conn, actor.user_id)
    # Asked for now: muting is for follow-ups only.
    address = recipient_of(customer.but(is_followup_muted=False)) if customer else None
    if org is None or customer is None or address is None:
        raise Conflict("no address to mail the transcript to", code="no_address")
    messages = await svc.message_log.after(
        org.id,
        conversation.id,
        after=0,
        up_to=conversation.last_public_position,
        limit=MAX_TRANSCRIPT,
        include_notes=False,
        scope=actor.scope,
    )
    async with svc.db.read(actor.scope) as conn:
        names = await people.get_users(conn, sorted({m.sender_id for m in messages}))
    if not await may_mail(svc, address):
        return {"mailed": True}  # the same answer: no oracle on the recipient limit

    async def work(conn: Tx) -> None:
        await queue_mail(
            conn,
            svc,
            "transcript",
            address,
            {
                "name": customer.display_name,
                "org": org.name,
                "subject": conversation.subject or "your conversation",
                "messages": quote(messages, names, org),
                "link": conversation_link(svc, org, customer, conversation.id),
            },
        )

    await svc.db.write(work)
    mail_committed(svc)
    return {"mailed": True}


async def assigned_mail(
    conn: Tx,
    svc: Services,
    *,
    agent: User,
    org: Organization,
    by: str,
    subject: str,
) -> None:
    """Inside the assigning unit: tell an agent who is away (no network: an insert)."""
    if not svc.settings.mail_agents_when_away or not agent.email:
        return
    await queue_mail(
        conn,
        svc,
        "assigned_away",
        agent.email,
        {
            "name": agent.display_name,
            "by": by,
            "org": org.name,
            "subject": subject or "(no subject)",
            "link": f"{svc.settings.resolved_public_url}/agent",
        },
    )
