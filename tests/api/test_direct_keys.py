"""The key directory over TLS: uploads are checked, claims pop each one-time prekey once."""

from __future__ import annotations

import base64
import secrets

from raasel_sdk.device import LocalDevice
from tests.support.clients import World
from tests.support.direct import DIRECT, add_device, chatter


async def test_a_bad_signature_is_refused_and_nothing_is_stored(world: World) -> None:
    person = await world.individual("Mallory")
    device = LocalDevice.create(person.user_id, 7)
    body = device.registration()
    forged = bytearray(base64.b64decode(body["signed_prekey"]["signature"]))
    forged[5] ^= 0x01
    body["signed_prekey"]["signature"] = base64.b64encode(bytes(forged)).decode()
    answer = await person.api.put(f"{DIRECT}/devices/7", body, expect=400)
    assert answer["error"]["code"] == "invalid_signature"
    # Another device's identity signing this signed prekey: refused alike.
    other = LocalDevice.create(person.user_id, 8).registration()
    body = device.registration() | {"identity_key": other["identity_key"]}
    answer = await person.api.put(f"{DIRECT}/devices/7", body, expect=400)
    assert answer["error"]["code"] == "invalid_signature"
    assert (await person.api.get(f"{DIRECT}/devices"))["devices"] == []


async def test_malformed_keys_are_typed_errors(world: World) -> None:
    person = await world.individual("Typo")
    good = LocalDevice.create(person.user_id, 3).registration()
    wrong_prefix = base64.b64encode(b"\x06" + secrets.token_bytes(32)).decode()
    cases = [
        (good | {"identity_key": wrong_prefix}, 422, "invalid_key"),
        (good | {"identity_key": "!" * 44}, 422, "validation_error"),
        (good | {"registration_id": 0}, 422, "validation_error"),
        (good | {"unknown": 1}, 422, "validation_error"),
        (
            good | {"one_time_prekeys": [{"key_id": 1, "public_key": wrong_prefix}]},
            422,
            "invalid_key",
        ),
    ]
    for body, status, code in cases:
        answer = await person.api.put(f"{DIRECT}/devices/3", body, expect=status)
        assert answer["error"]["code"] == code, body
    answer = await person.api.put(f"{DIRECT}/devices/0", good, expect=422)
    assert (await person.api.get(f"{DIRECT}/devices"))["devices"] == []


async def test_upload_refill_rotate_and_claim(world: World) -> None:
    alice = await chatter(world, "Alice", pre_keys=3)
    bob = await chatter(world, "Bob")
    devices = (await alice.person.api.get(f"{DIRECT}/devices"))["devices"]
    assert [(d["device_id"], d["one_time_prekeys"]) for d in devices] == [
        (alice.device.device_id, 3)
    ]
    base = f"{DIRECT}/devices/{alice.device.device_id}"
    # Refill: repeats of stored keys are no-ops; a stored id with another key is refused.
    more = alice.device.generate_pre_keys(2)
    assert (await alice.person.api.post(f"{base}/one-time-prekeys", {"prekeys": more}))[
        "count"
    ] == 5
    assert (await alice.person.api.post(f"{base}/one-time-prekeys", {"prekeys": more}))[
        "count"
    ] == 5
    clash = [{"key_id": more[0]["key_id"], "public_key": more[1]["public_key"]}]
    answer = await alice.person.api.post(f"{base}/one-time-prekeys", {"prekeys": clash}, expect=409)
    assert answer["error"]["code"] == "key_conflict"
    # Rotation: verified, and the previous id is reported as kept.
    old_id = alice.device.signed_pre_key()["key_id"]
    rotated = await alice.person.api.put(
        f"{base}/signed-prekey", alice.device.rotate_signed_pre_key()
    )
    assert rotated["previous_key_id"] == old_id
    # Claims: each one-time prekey once, then bundles without one; the owner is told.
    sock = await world.socket(alice.person)
    seen = set()
    for _ in range(5):
        bundle = await bob.person.api.post(f"{DIRECT}/users/{alice.user_id}/bundle", {})
        (device,) = bundle["devices"]
        assert device["signed_prekey"]["key_id"] == rotated["signed_prekey"]["key_id"]
        seen.add(device["one_time_prekey"]["key_id"])
    assert len(seen) == 5
    empty = await bob.person.api.post(f"{DIRECT}/users/{alice.user_id}/bundle", {})
    assert empty["devices"][0]["one_time_prekey"] is None
    low = await sock.wait_for("direct:prekeys_low", lambda d: d["count"] == 0)
    assert low["device_id"] == alice.device.device_id
    assert (await alice.person.api.get(f"{base}/one-time-prekeys/count"))["count"] == 0


async def test_devices_are_bounded_and_identity_changes_need_replace(world: World) -> None:
    carol = await chatter(world, "Carol")
    for _ in range(4):
        await add_device(carol)
    sixth = LocalDevice.create(carol.user_id, 99)
    answer = await carol.person.api.put(f"{DIRECT}/devices/99", sixth.registration(), expect=409)
    assert answer["error"]["code"] == "too_many_devices"
    # The same device id with a new identity: refused unless replaced on purpose.
    reset = LocalDevice.create(carol.user_id, carol.device.device_id)
    path = f"{DIRECT}/devices/{carol.device.device_id}"
    answer = await carol.person.api.put(path, reset.registration(), expect=409)
    assert answer["error"]["code"] == "identity_changed"
    replaced = await carol.person.api.put(path, reset.registration() | {"replace": True})
    assert replaced["identity_key"] == reset.registration()["identity_key"]
    await carol.person.api.call("DELETE", path, expect=204)
    await carol.person.api.call("DELETE", path, expect=404)


async def test_bundle_claims_are_rate_limited_per_requester(world: World) -> None:
    """Draining someone's pool takes many claims: past 30 a minute a requester is refused
    (RAASEL_DIRECT_CLAIM_RATE), and the refused claim pops nothing."""
    alice = await chatter(world, "Alice", pre_keys=40)
    mallory, carol = await chatter(world, "Mallory"), await chatter(world, "Carol")
    path = f"{DIRECT}/users/{alice.user_id}/bundle"
    for _ in range(30):
        await mallory.person.api.post(path, {})
    count = f"{DIRECT}/devices/{alice.device.device_id}/one-time-prekeys/count"
    assert (await alice.person.api.get(count))["count"] == 10
    refused = await mallory.person.api.post(path, {}, expect=429)
    assert refused["error"]["code"] == "rate_limited"
    assert (await alice.person.api.get(count))["count"] == 10
    # Another requester is not held back by Mallory's claims.
    bundle = await carol.person.api.post(path, {})
    assert bundle["devices"][0]["one_time_prekey"] is not None
