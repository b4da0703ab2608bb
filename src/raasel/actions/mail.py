"""Queueing mail from actions: inside the caller's transaction, delivered after commit.

``queue_mail`` writes the rendered mail to the outbox in the same transaction as the
change it reports (an invitation, a reset link), so nobody gets a mail about something
that rolled back; ``mail_committed`` then wakes the outbox. ``may_mail`` bounds how many
mails one address receives (docs/security.md): over the limit the mail is skipped and
logged, and the caller answers exactly as if it had gone (no oracle).
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from raasel.actions.context import Services
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.lib.rates import Rate
from raasel.mail.templates import TEMPLATES
from raasel.observability import RATE_LIMIT_REFUSALS
from raasel.storage.metadata import mail as mail_store
from raasel.storage.transaction import Tx

log = structlog.get_logger(__name__)


async def may_mail(svc: Services, recipient: str) -> bool:
    """Whether ``recipient`` may get one more mail now (checked before the transaction:
    no network inside it)."""
    rate = Rate.parse(svc.settings.mail_recipient_rate)
    if await svc.ephemeral.hit(f"rl:mail:{recipient}", rate):
        RATE_LIMIT_REFUSALS.labels("mail_recipient").inc()
        log.warning("mail skipped: recipient limit", to=recipient.rpartition("@")[2])
        return False
    return True


async def queue_mail(
    conn: Tx,
    svc: Services,
    template: str,
    recipient: str,
    fields: Mapping[str, str],
) -> str:
    """Render ``template`` for ``recipient`` into the outbox; returns the mail's id."""
    subject, body = TEMPLATES[template].render(
        {"public_url": svc.settings.resolved_public_url, **fields}
    )
    mail_id = new_str_id()
    now = utcnow()
    await mail_store.insert_mail(
        conn,
        {
            "id": mail_id,
            "template": template,
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    return mail_id


def mail_committed(svc: Services) -> None:
    """After the commit of a transaction that queued mail: deliver it now."""
    if svc.mailer is not None:
        svc.mailer.wake()


def link(svc: Services, page: str, token: str) -> str:
    """A link into the web app; the token rides in the fragment, which browsers never
    send to a server (no access log or Referer carries it)."""
    return f"{svc.settings.resolved_public_url}/{page}#token={token}"
