"""What a customer who opened a conversation nobody can answer now is told (pure).

docs/protocol.md, "Business hours and offline handling": outside the team's hours, or
when no agent of the team is online with a console, the conversation is kept and queued
as always, and the customer reads the organization's offline message, when a reply can be
expected (the next opening) and, for a visitor without one, that they may leave an email.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

DEFAULT_MESSAGE = (
    "Nobody can answer right now. Your message is kept and the team will reply as soon as it can."
)


def offline_notice(
    *,
    is_open: bool,
    opens_at: datetime | None,
    has_online: bool,
    offline_message: str | None,
    may_leave_email: bool,
) -> dict[str, Any] | None:
    """None when someone can answer now; else what the customer is shown."""
    if is_open and has_online:
        return None
    when = opens_at.isoformat() if opens_at is not None and not is_open else None
    return {
        "reason": "closed" if not is_open else "nobody_available",
        "message": offline_message or DEFAULT_MESSAGE,
        "opens_at": when,
        "expected_reply_at": when,
        "can_leave_email": may_leave_email,
    }
