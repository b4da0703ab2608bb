"""The customer-service window (docs/channels.md, "Windows").

A business may write freely for 24 hours after the customer's last message. After that,
WhatsApp accepts only an approved template; Messenger and Instagram accept a human
agent's reply tagged ``HUMAN_AGENT`` for 7 days, then nothing until the customer writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from raasel.channels.platforms import Platform

SERVICE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Window:
    """What an agent may send now: ``open`` (anything), ``human_agent`` (a reply tagged
    HUMAN_AGENT), ``template_only`` (WhatsApp: an approved template), ``closed``."""

    state: str
    closes_at: datetime | None

    @property
    def allows_free_text(self) -> bool:
        return self.state in ("open", "human_agent")


def window_at(platform: str, last_inbound_at: datetime, now: datetime) -> Window:
    service_end = last_inbound_at + SERVICE_WINDOW
    if now < service_end:
        return Window("open", service_end)
    if platform == Platform.WHATSAPP:
        return Window("template_only", None)
    agent_end = last_inbound_at + HUMAN_AGENT_WINDOW
    if now < agent_end:
        return Window("human_agent", agent_end)
    return Window("closed", None)


def refusal(platform: str, window: Window) -> str:
    """What the console tells an agent whose reply the window refuses."""
    if window.state == "template_only":
        return (
            "The customer last wrote more than 24 hours ago: WhatsApp only accepts an "
            "approved template until they write again. Choose a template to send."
        )
    return (
        "The customer last wrote more than 7 days ago: the platform accepts no reply "
        "until they write again."
    )
