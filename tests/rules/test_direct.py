"""The pure rules of direct conversations (rules/direct.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from raasel.errors import Conflict, Forbidden, StaleDevices, ValidationFailed
from raasel.rules.direct import (
    UNREAD_KEPT,
    DeviceRef,
    Envelope,
    advance,
    check_envelopes,
    check_may_send,
    check_may_signal,
    normalize_handle,
    received,
)
from raasel.storage.direct_records import DirectConversation, DirectMember

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def conversation(status: str, requested_by: str = "1") -> DirectConversation:
    return DirectConversation("9", "1", "2", status, requested_by, 0, 0, NOW, NOW, None)


def test_who_may_send() -> None:
    check_may_send(conversation("request"), "1", blocked=False)
    check_may_send(conversation("accepted"), "2", blocked=False)
    with pytest.raises(Conflict) as refused:
        check_may_send(conversation("request"), "2", blocked=False)
    assert refused.value.code == "not_accepted"
    with pytest.raises(Conflict) as refused:
        check_may_send(conversation("declined"), "1", blocked=False)
    assert refused.value.code == "request_declined"
    with pytest.raises(Forbidden) as refused:
        check_may_send(conversation("accepted"), "1", blocked=True)
    assert refused.value.code == "blocked"
    check_may_signal(conversation("request"), "1")
    with pytest.raises(Conflict):
        check_may_signal(conversation("request"), "2")


DEVICES = [DeviceRef("1", 1, 100), DeviceRef("1", 2, 200), DeviceRef("2", 5, 500)]


def env(user: str, device: int, registration: int | None = None) -> Envelope:
    return Envelope(user, device, registration, 1, "AAAA")


def test_envelopes_must_match_every_device_but_the_sender() -> None:
    check_envelopes([env("1", 2), env("2", 5, 500)], DEVICES, sender_id="1", sender_device_id=1)
    with pytest.raises(StaleDevices) as stale:
        check_envelopes([env("2", 5)], DEVICES, sender_id="1", sender_device_id=1)
    assert stale.value.missing == [{"user_id": "1", "device_id": 2}]
    assert stale.value.devices["2"] == [{"device_id": 5, "registration_id": 500}]
    with pytest.raises(StaleDevices) as stale:
        check_envelopes(
            [env("1", 2), env("2", 5, 501), env("2", 6)], DEVICES, sender_id="1", sender_device_id=1
        )
    assert stale.value.stale == [{"user_id": "2", "device_id": 5}]
    assert stale.value.extra == [{"user_id": "2", "device_id": 6}]
    with pytest.raises(StaleDevices):  # an envelope to the sending device itself
        check_envelopes(
            [env("1", 1), env("1", 2), env("2", 5)], DEVICES, sender_id="1", sender_device_id=1
        )
    with pytest.raises(ValidationFailed):
        check_envelopes(
            [env("1", 2), env("2", 5), env("2", 5)], DEVICES, sender_id="1", sender_device_id=1
        )


def test_watermarks_and_unread() -> None:
    member = DirectMember("9", "2", 0, 0, [])
    for position in (1, 2, 3):
        member = received(member, position)
    assert member.unread == 3
    delivered = advance(member, "delivered", 2, last_position=3)
    assert delivered is not None
    assert (delivered.delivered_position, delivered.read_position, delivered.unread) == (2, 0, 3)
    assert advance(delivered, "delivered", 1, last_position=3) is None  # never backwards
    read = advance(delivered, "read", 99, last_position=3)  # clamped; read implies delivered
    assert read is not None
    assert (read.delivered_position, read.read_position, read.unread) == (3, 3, 0)
    full = DirectMember("9", "2", 0, 0, list(range(UNREAD_KEPT)))
    assert received(full, UNREAD_KEPT + 1).unread == UNREAD_KEPT


def test_handles() -> None:
    assert normalize_handle(" Alice.B_1 ") == "alice.b_1"
    for bad in ("ab", ".alice", "a" * 33, "al ice", "alïce"):
        with pytest.raises(ValidationFailed):
            normalize_handle(bad)
