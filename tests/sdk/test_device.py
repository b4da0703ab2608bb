"""The SDK's Signal sessions without a server: libsignal v3 framing, the first PreKey
messages, out-of-order delivery across ratchet steps, replays and tampering."""

from __future__ import annotations

import pytest

from raasel_sdk import payload, wire
from raasel_sdk.device import DecryptError, LocalDevice


def bundle_of(device: LocalDevice, index: int = 0) -> dict[str, object]:
    registration = device.registration()
    return {
        "identity_key": registration["identity_key"],
        "signed_prekey": registration["signed_prekey"],
        "one_time_prekey": registration["one_time_prekeys"][index],
    }


async def test_sessions_survive_reordering_replays_and_tampering() -> None:
    alice, bob = LocalDevice.create("1", 1), LocalDevice.create("2", 7)
    at_bob, at_alice = ("2", 7), ("1", 1)
    await alice.start_session(at_bob, bundle_of(bob))
    first = await alice.encrypt(at_bob, b"first")
    second = await alice.encrypt(at_bob, b"second")
    assert first[0] == second[0] == wire.PREKEY_TYPE  # until Bob answers
    prekey = wire.parse_prekey(first[1])
    assert prekey.pre_key_id == 1 and prekey.registration_id == alice.registration_id
    # The second PreKey message arrives first: it starts the session on its own.
    assert await bob.decrypt(at_alice, *second) == b"second"
    assert await bob.decrypt(at_alice, *first) == b"first"
    for replay in (first, second):
        with pytest.raises(DecryptError):
            await bob.decrypt(at_alice, *replay)
    answer = await bob.encrypt(at_alice, b"answer")
    assert answer[0] == wire.WHISPER_TYPE
    assert await alice.decrypt(at_bob, *answer) == b"answer"
    # Out of order across a ratchet step: a1 (old chain) arrives after a2 (new chain).
    a1 = await alice.encrypt(at_bob, b"a1")
    a1b = await alice.encrypt(at_bob, b"a1b")
    assert a1[0] == wire.WHISPER_TYPE
    assert await bob.decrypt(at_alice, *a1b) == b"a1b"
    b1 = await bob.encrypt(at_alice, b"b1")
    assert await alice.decrypt(at_bob, *b1) == b"b1"
    a2 = await alice.encrypt(at_bob, b"a2")
    assert wire.parse_whisper(a2[1])[0].ratchet_key != wire.parse_whisper(a1[1])[0].ratchet_key
    assert await bob.decrypt(at_alice, *a2) == b"a2"
    assert await bob.decrypt(at_alice, *a1) == b"a1"
    # Tampered bytes (MAC, ciphertext, header) are refused; the session goes on.
    a3 = await alice.encrypt(at_bob, b"a3")
    for spot in (-1, -12, 3):
        tampered = bytearray(a3[1])
        tampered[spot] ^= 0x01
        with pytest.raises(DecryptError):
            await bob.decrypt(at_alice, a3[0], bytes(tampered))
    assert await bob.decrypt(at_alice, *a3) == b"a3"
    # The one-time prekey is gone once used: Bob's registration no longer lists it.
    assert all(k["key_id"] != 1 for k in bob.registration()["one_time_prekeys"])


async def test_an_identity_change_is_noticed() -> None:
    alice, bob = LocalDevice.create("1", 1), LocalDevice.create("2", 2)
    await alice.start_session(("2", 2), bundle_of(bob))
    reinstalled = LocalDevice.create("2", 2)
    await alice.start_session(("2", 2), bundle_of(reinstalled))
    assert alice.identity_changes == [("2", 2)]


def test_wire_framing_and_payloads_round_trip() -> None:
    message = wire.WhisperMessage(bytes(range(32)), 5, 4, b"x" * 32)
    covered = message.body()
    parsed, again, mac = wire.parse_whisper(covered + b"m" * 8)
    assert (parsed, again, mac) == (message, covered, b"m" * 8)
    prekey = wire.PreKeyWhisperMessage(9, None, 3, bytes(32), bytes(range(32)), covered)
    assert wire.parse_prekey(prekey.serialize()) == prekey
    for bad in (b"", b"\x22" + covered[1:], covered[:5]):
        with pytest.raises(wire.WireError):
            wire.parse_prekey(bad)
    padded = payload.text("héllo")
    assert len(padded) % payload.PAD_BLOCK == 0
    assert payload.decode(padded) == {"v": 1, "t": "text", "text": "héllo"}
