"""What goes to the provider for one message, by platform and window (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from raasel.actions.channel_outbound import outgoing
from raasel.storage.message_store import StoredMessage


def _message(body: str, attachment_id: str | None = None) -> StoredMessage:
    return StoredMessage(
        org_id="1",
        conversation_id="2",
        position=3,
        id=4,
        sender_id="5",
        sender_side="org",
        client_id="c",
        kind="text",
        body=body,
        attachment_id=attachment_id,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_whatsapp_text_in_window_template_outside() -> None:
    assert outgoing("whatsapp", _message("hi"), None, "open") == {
        "type": "text",
        "text": {"body": "hi", "preview_url": False},
    }
    refused = outgoing("whatsapp", _message("hi"), None, "template_only")
    assert isinstance(refused, str) and "template" in refused
    template = {"name": "t", "language": {"code": "en"}}
    assert outgoing("whatsapp", _message("hi"), template, "template_only") == {
        "type": "template",
        "template": template,
    }


def test_messenger_response_human_agent_and_closed() -> None:
    assert outgoing("messenger", _message("hi"), None, "open") == {
        "messaging_type": "RESPONSE",
        "message": {"text": "hi"},
    }
    tagged = outgoing("instagram", _message("hi"), None, "human_agent")
    assert isinstance(tagged, dict) and tagged["tag"] == "HUMAN_AGENT"
    assert isinstance(outgoing("messenger", _message("hi"), None, "closed"), str)
    assert isinstance(outgoing("messenger", _message("hi"), {"name": "t"}, "open"), str)
    assert isinstance(outgoing("whatsapp", _message("", "abc"), None, "open"), str)
