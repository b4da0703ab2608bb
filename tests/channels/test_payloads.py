"""Reading the three platforms' webhook bodies: every entry and change, unknown things
ignored by id, replies and statuses kept (pure; the node-level tests use the same
fixtures signed, tests/api/test_channels.py)."""

from __future__ import annotations

import pytest

from raasel.channels.payloads import (
    Ignored,
    InboundMessage,
    MalformedPayload,
    StatusUpdate,
    Watermark,
    parse,
)
from tests.support import channel_payloads as p


def test_whatsapp_every_entry_and_change_is_read() -> None:
    payload = p.wa_payload(
        "waba1",
        p.wa_change(
            "pn1",
            contacts=[p.wa_contact("111", "Ann", "US.ann")],
            messages=[p.wa_text("111", "wamid.A", "one"), p.wa_text("111", "wamid.B", "two")],
        ),
        p.wa_change("pn1", messages=[p.wa_text("222", "wamid.C", "three")]),
        p.wa_change("pn1", statuses=[p.wa_status("wamid.OUT1", "read", "111")]),
        entries=3,
    )
    assert len(payload["entry"]) == 3
    items = parse("whatsapp", payload)
    texts = [i.text for i in items if isinstance(i, InboundMessage)]
    assert texts == ["one", "two", "three"]
    first = items[0]
    assert isinstance(first, InboundMessage)
    assert (first.contact_id, first.alt_id, first.contact_name) == ("111", "US.ann", "Ann")
    assert isinstance(items[-1], StatusUpdate) and items[-1].status == "read"


def test_whatsapp_media_reply_and_unknown_types() -> None:
    payload = p.wa_payload(
        "waba1",
        p.wa_change(
            "pn1",
            messages=[
                p.wa_media("111", "wamid.I", "image", "media1", caption="look"),
                p.wa_media(
                    "111",
                    "wamid.D",
                    "document",
                    "media2",
                    filename="bill.pdf",
                    mime="application/pdf",
                ),
                p.wa_text("111", "wamid.R", "answer", reply_to="wamid.OUT9"),
                {"from": "111", "id": "wamid.L", "type": "location", "location": {}},
                {"from": "111", "id": "wamid.X", "type": "reaction", "reaction": {}},
            ],
        ),
        {"field": "account_update", "value": {}},
    )
    items = parse("whatsapp", payload)
    image, document, reply, location, reaction, account = items
    assert isinstance(image, InboundMessage) and image.media_ref == "media1"
    assert image.text == "look"
    assert isinstance(document, InboundMessage) and document.filename == "bill.pdf"
    assert isinstance(reply, InboundMessage) and reply.reply_to == "wamid.OUT9"
    assert isinstance(location, Ignored) and location.ref == "wamid.L"
    assert isinstance(reaction, Ignored) and reaction.ref == "wamid.X"
    assert isinstance(account, Ignored)


def test_whatsapp_status_failure_carries_its_error() -> None:
    items = parse(
        "whatsapp",
        p.wa_payload(
            "w", p.wa_change("pn", statuses=[p.wa_status("wamid.O", "failed", "1", code=131047)])
        ),
    )
    (status,) = items
    assert isinstance(status, StatusUpdate) and status.error is not None
    assert "131047" in status.error


@pytest.mark.parametrize("platform", ["messenger", "instagram"])
def test_messaging_entries_texts_files_receipts(platform: str) -> None:
    payload = p.messaging_payload(
        platform,
        "page1",
        p.m_text("psid1", "page1", "m_1", "hello", reply_to="m_OUT1"),
        p.m_attachment("psid1", "page1", "m_2", "image", "https://cdn.example/x.png"),
        p.m_delivery("psid1", "page1", ["m_OUT1", "m_OUT2"]),
        p.m_read("psid1", "page1", mid="m_OUT2"),
        p.m_read("psid1", "page1", watermark_ms=1_700_000_000_000),
        {"sender": {"id": "psid1"}, "recipient": {"id": "page1"}, "postback": {}},
        {
            "sender": {"id": "page1"},
            "recipient": {"id": "psid1"},
            "message": {"mid": "m_echo", "text": "ours", "is_echo": True},
        },
        entries=2,
    )
    items = parse(platform, payload)
    kinds = [type(i).__name__ for i in items]
    assert kinds == [
        "InboundMessage",
        "InboundMessage",
        "StatusUpdate",
        "StatusUpdate",
        "StatusUpdate",
        "Watermark",
        "Ignored",
        "Ignored",
    ]
    text, image = items[0], items[1]
    assert isinstance(text, InboundMessage) and text.reply_to == "m_OUT1"
    assert isinstance(image, InboundMessage) and image.media_ref == "https://cdn.example/x.png"
    assert isinstance(items[5], Watermark) and items[5].status == "read"


def test_another_platforms_object_and_garbage() -> None:
    (ignored,) = parse("messenger", {"object": "whatsapp_business_account", "entry": []})
    assert isinstance(ignored, Ignored)
    assert parse("whatsapp", {"object": "whatsapp_business_account", "entry": "nope"}) == []
    with pytest.raises(MalformedPayload):
        parse("whatsapp", ["not", "an", "object"])
