"""Pure rules of the channels' second part: each platform's file limits, the contacts a
delivery carries, and which queued deliveries a worker may take now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from raasel.actions.channel_inbound_queue import runnable
from raasel.channels.media import MB, MediaRefused, media_plan
from raasel.channels.payloads import contact_keys
from raasel.storage.metadata.channels import QueuedWebhook
from tests.support import channel_payloads as p

NOW = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


def test_each_platforms_kinds_and_limits() -> None:
    assert media_plan("whatsapp", "image/png", MB, has_text=True).kind == "image"
    assert media_plan("whatsapp", "image/png", MB, has_text=True).caption_inline
    assert media_plan("whatsapp", "audio/ogg", MB, has_text=True).caption_inline is False
    assert media_plan("whatsapp", "image/gif", MB, has_text=False).kind == "document"
    assert media_plan("whatsapp", "application/pdf", 50 * MB, has_text=False).kind == "document"
    with pytest.raises(MediaRefused, match="WhatsApp takes images of at most 5 MB"):
        media_plan("whatsapp", "image/jpeg", 6 * MB, has_text=False)
    with pytest.raises(MediaRefused, match="at most 16 MB"):
        media_plan("whatsapp", "video/mp4", 17 * MB, has_text=False)
    assert media_plan("messenger", "application/pdf", MB, has_text=True).kind == "file"
    assert not media_plan("messenger", "image/png", MB, has_text=True).caption_inline
    with pytest.raises(MediaRefused, match="Messenger takes files of at most 25 MB"):
        media_plan("messenger", "text/plain", 26 * MB, has_text=False)
    assert media_plan("instagram", "application/pdf", MB, has_text=False).kind == "file"
    with pytest.raises(MediaRefused, match="Instagram does not take text/plain"):
        media_plan("instagram", "text/plain", 10, has_text=False)
    with pytest.raises(MediaRefused, match="8 MB"):
        media_plan("instagram", "image/png", 9 * MB, has_text=False)


def test_contact_keys_of_a_batch() -> None:
    body = p.wa_payload(
        "1",
        p.wa_change("2", messages=[p.wa_text("33", "m1", "a"), p.wa_text("11", "m2", "b")]),
        p.wa_change("2", statuses=[p.wa_status("m0", "read", "99")]),
        entries=2,
    )
    assert contact_keys("whatsapp", json.dumps(body)) == ["11", "33", "99"]
    assert contact_keys("whatsapp", "{not json") == []


def _queued(n: int, contacts: str, *, claimed: bool = False, due_in: float = 0) -> QueuedWebhook:
    return QueuedWebhook(
        id=n,
        channel_id="c",
        body_sha256="",
        body="",
        status="pending",
        attempts=0,
        next_attempt_at=NOW + timedelta(seconds=due_in),
        claimed_by=1 if claimed else None,
        last_error=None,
        received_at=NOW,
        processed_at=None,
        contact_keys=contacts or None,
    )


def test_one_delivery_per_contact_in_flight_in_order() -> None:
    pending = [
        _queued(1, "a", claimed=True, due_in=60),  # in flight on some node
        _queued(2, "a\nb"),  # waits for 1 (a)
        _queued(3, "b"),  # waits for 2 (b), which waits
        _queued(4, "c"),
        _queued(5, ""),  # statuses only
        _queued(6, "c"),  # after 4, which goes first
        _queued(7, "d", due_in=30),  # waiting for a retry: holds nobody up
        _queued(8, "d"),
        _queued(9, "e", claimed=True, due_in=-1),  # its node died: due again
    ]
    assert [q.id for q in runnable(pending, NOW)] == [4, 5, 8, 9]
