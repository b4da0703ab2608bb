"""Email follow-up (issue 12, item 4), read from a real SMTP server (aiosmtpd): a reply
not seen within the window makes exactly one mail with every new reply, none when the
customer saw them; unsubscribe; transcripts on request; agents mailed when assigned
while away. Time is injected into the sweep, nothing sleeps through the window."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from raasel.actions import (
    assignment,
    contacts,
    followup,
    lifecycle,
    messages,
    outreach,
    presence,
    receipts,
)
from raasel.actions.context import Actor, Services
from raasel.actions.members import add_member
from raasel.app import build_services
from raasel.config import Settings
from raasel.domain import Availability, Role
from raasel.lib.clock import utcnow
from raasel.storage.metadata import people
from raasel.storage.transaction import Tx
from tests.actions.conftest import Cast
from tests.support.databases import migrated_database
from tests.support.mailbox import Mailbox, shared_mailbox

WINDOW = 300  # the default RAASEL_FOLLOWUP_AFTER_SECONDS


@pytest.fixture(params=["sqlite", "postgresql"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Real services whose mail goes to the test SMTP server (overrides conftest's)."""
    db = await migrated_database(request.param, tmp_path)
    await db.close()
    box = shared_mailbox()
    settings = Settings(
        var_dir=tmp_path,
        database_url=db.url,
        secret_key="x" * 40,
        public_url="https://chat.example",
        smtp_host="127.0.0.1",
        smtp_port=box.port,
        smtp_security="none",
        smtp_from="Raasel tests <no-reply@raasel.test>",
        mail_recipient_rate="1000/60",
    )
    svc = build_services(settings)
    yield svc
    if svc.mailer is not None:
        await svc.mailer.close()
    await svc.db.close()


async def arrived(box: Mailbox, address: str, subject: str, count: int) -> list[str]:
    """The mails as they arrive (the outbox delivers after each commit that queued one)."""
    await box.wait_for(address, subject, count=count)
    return mails(box, address, subject)


async def verified_customer(services: Services, cast: Cast) -> str:
    """The cast's customer, with a fresh verified address of their own."""
    email = f"c-{uuid.uuid4().hex[:10]}@example.com"

    async def work(conn: Tx) -> None:
        await people.update_user(
            conn, cast.customer.user_id, {"email": email, "email_verified_at": utcnow()}
        )

    await services.db.write(work)
    return email


async def answered(services: Services, cast: Cast, client_id: str) -> str:
    await presence.agent_connected(services, cast.agent)
    await presence.do_set_availability(services, cast.agent, Availability.ONLINE)
    opened = await lifecycle.do_open_conversation(
        services,
        cast.customer,
        org_id=cast.org_id,
        group_id=cast.group_id,
        text="my order never came",
        client_id=client_id,
        subject="",
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    return cid


async def reply(services: Services, cast: Cast, cid: str, text: str) -> None:
    await messages.do_send_message(services, cast.agent, cid, client_id=uuid.uuid4().hex, text=text)


def mails(box: Mailbox, address: str, subject: str) -> list[str]:
    return [m.body for m in box.to(address) if subject in m.subject]


async def test_unseen_replies_make_exactly_one_mail_each_batch(
    services: Services, cast: Cast
) -> None:
    box = shared_mailbox()
    email = await verified_customer(services, cast)
    cid = await answered(services, cast, "f1")
    await reply(services, cast, cid, "We are looking into it.")
    await reply(services, cast, cid, "Found it: it ships tomorrow.")
    now = utcnow()
    assert await followup.mail_unseen_replies(services, now) == 0, "inside the window"
    assert await followup.mail_unseen_replies(services, now + timedelta(seconds=WINDOW)) == 1
    assert await followup.mail_unseen_replies(services, now + timedelta(seconds=WINDOW + 60)) == 0
    [body] = await arrived(box, email, "replied to your conversation", 1)
    assert "We are looking into it." in body and "Found it: it ships tomorrow." in body
    assert f"https://chat.example/?conversation={cid}" in body
    [unsubscribe] = re.findall(r"https://chat.example/api/v1/mail/unsubscribe\?token=(\S+)", body)

    # A later reply: one more mail, with only what is new.
    await reply(services, cast, cid, "Tracking number: 42.")
    later = utcnow() + timedelta(seconds=WINDOW)
    assert await followup.mail_unseen_replies(services, later) == 1
    bodies = await arrived(box, email, "replied to your conversation", 2)
    assert len(bodies) == 2
    assert "Tracking number: 42." in bodies[1] and "ships tomorrow" not in bodies[1]

    # Seen in time: no mail.
    await reply(services, cast, cid, "Anything else?")
    await receipts.do_mark(services, cast.customer, cid, field="read", up_to_position=999)
    assert await followup.mail_unseen_replies(services, later + timedelta(seconds=WINDOW)) == 0

    # Unsubscribed: no more follow-ups.
    assert await followup.do_unsubscribe(services, unsubscribe) == {"unsubscribed": True}
    await reply(services, cast, cid, "Still there?")
    assert await followup.mail_unseen_replies(services, later + timedelta(seconds=2 * WINDOW)) == 0
    assert len(mails(box, email, "replied to your conversation")) == 2


async def test_transcript_on_request_after_resolve(services: Services, cast: Cast) -> None:
    box = shared_mailbox()
    email = await verified_customer(services, cast)
    cid = await answered(services, cast, "t1")
    await reply(services, cast, cid, "Here is the fix.")
    await lifecycle.do_resolve(services, cast.agent, cid)
    assert await followup.do_mail_transcript(services, cast.customer, cid) == {"mailed": True}
    [body] = await arrived(box, email, "Your conversation with", 1)
    assert "my order never came" in body and "Here is the fix." in body
    with pytest.raises(Exception, match="customer"):
        await followup.do_mail_transcript(services, cast.agent, cid)


async def test_an_agent_assigned_while_away_gets_a_mail(services: Services, cast: Cast) -> None:
    box = shared_mailbox()
    bob_email = f"bob-{uuid.uuid4().hex[:8]}@example.com"

    async def work(conn: Tx) -> str:
        return await add_member(
            conn,
            cast.org_id,
            email=bob_email,
            display_name="Bob",
            password_hash="unused-in-these-tests",
            role=Role.AGENT,
            capacity=5,
            group_ids=[cast.group_id],
        )

    bob = await services.db.write(work)
    cid = await answered(services, cast, "a1")
    lead: Actor = replace(cast.agent, role=Role.SUPERVISOR, display_name="Sam")
    await assignment.do_assign(services, lead, cid, bob)  # Bob is offline
    [body] = await arrived(box, bob_email, "A conversation was assigned to you", 1)
    assert "Sam assigned you a conversation of Org" in body
    assert "https://chat.example/agent" in body


async def test_outreach_replies_are_mailed_unless_the_person_muted_the_organization(
    services: Services, cast: Cast
) -> None:
    """An organization's outreach unread in time is mailed like a support reply; muted
    (docs/protocol.md, "Outreach"): nothing of it is mailed, while the conversation stays
    delivered and readable; unmuted: what came meanwhile stays unmailed, what comes next
    is mailed again."""
    box = shared_mailbox()
    email = await verified_customer(services, cast)
    subject = "replied to your conversation"
    started = await outreach.do_start_outreach(
        services,
        cast.agent,
        email=email,  # a person with a proved address
        customer_id=None,
        group_id=None,
        text="Your order is ready for pickup.",
        subject="",
        client_id=uuid.uuid4().hex,
    )
    cid = started.result["conversation"]["id"]
    later = utcnow() + timedelta(seconds=WINDOW)
    assert await followup.mail_unseen_replies(services, later) == 1
    [body] = await arrived(box, email, subject, 1)
    assert "Your order is ready for pickup." in body

    await contacts.do_set_contact(
        services, cast.customer, cast.org_id, is_muted=True, is_blocked=None
    )
    await reply(services, cast, cid, "Reminder: pickup closes at six.")
    later = utcnow() + timedelta(seconds=WINDOW)
    assert await followup.mail_unseen_replies(services, later) == 0
    history = await messages.list_history(services, cast.customer, cid, before=None, limit=50)
    assert "Reminder: pickup closes at six." in [m["text"] for m in history["messages"]]
    shown = await lifecycle.get_conversation(services, cast.customer, cid)
    assert shown["contact"] == {"is_muted": True, "is_blocked": False}  # shown as muted

    await contacts.do_set_contact(
        services, cast.customer, cast.org_id, is_muted=False, is_blocked=None
    )
    assert await followup.mail_unseen_replies(services, later) == 0  # muted-time: not mailed
    await reply(services, cast, cid, "Last call for pickup.")
    later = utcnow() + timedelta(seconds=WINDOW)
    assert await followup.mail_unseen_replies(services, later) == 1
    bodies = await arrived(box, email, subject, 2)
    assert "Last call for pickup." in bodies[-1]
    assert "Reminder: pickup closes at six." not in bodies[-1]
