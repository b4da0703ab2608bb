"""A device written to its key file and read back is the same device: its identity, its
prekeys, its sessions mid-ratchet (skipped message keys included) and its replay record."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from raasel_sdk import keyfile
from raasel_sdk.device import LocalDevice, Replay
from tests.sdk.test_device import bundle_of


def reloaded(device: LocalDevice, path: Path) -> LocalDevice:
    keyfile.write_private(path, keyfile.dump_device(device))
    return keyfile.load_device(keyfile.read(path))


async def test_a_restored_device_goes_on_mid_ratchet(tmp_path: Path) -> None:
    alice, bob = LocalDevice.create("1", 1), LocalDevice.create("2", 7)
    at_bob, at_alice = ("2", 7), ("1", 1)
    await alice.start_session(at_bob, bundle_of(bob))
    hello = await alice.encrypt(at_bob, b"hello")
    assert await bob.decrypt(at_alice, *hello) == b"hello"
    assert await alice.decrypt(at_bob, *await bob.encrypt(at_alice, b"hi")) == b"hi"
    late = await alice.encrypt(at_bob, b"late")  # held back: its key is skipped below
    early = await alice.encrypt(at_bob, b"early")
    assert await bob.decrypt(at_alice, *early) == b"early"

    path = tmp_path / "bob" / "device.json"
    bob2 = reloaded(bob, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (bob2.identity_key, bob2.registration_id) == (bob.identity_key, bob.registration_id)
    assert bob2.registration() == bob.registration()
    assert await bob2.decrypt(at_alice, *late) == b"late"
    with pytest.raises(Replay):
        await bob2.decrypt(at_alice, *early)
    alice2 = reloaded(alice, tmp_path / "alice.json")
    assert await alice2.decrypt(at_bob, *await bob2.encrypt(at_alice, b"after")) == b"after"
    assert await bob2.decrypt(at_alice, *await alice2.encrypt(at_bob, b"and on")) == b"and on"


async def test_a_restored_device_still_answers_prekey_messages(tmp_path: Path) -> None:
    bob = LocalDevice.create("2", 7)
    bob2 = reloaded(bob, tmp_path / "bob.json")
    carol = LocalDevice.create("3", 3)
    await carol.start_session(("2", 7), bundle_of(bob, 1))
    first = await carol.encrypt(("2", 7), b"first from carol")
    assert await bob2.decrypt(("3", 3), *first) == b"first from carol"
    # Its one-time prekey is used up on the restored device, and stays so after a reload.
    bob3 = reloaded(bob2, tmp_path / "bob.json")
    assert all(k["key_id"] != 2 for k in bob3.registration()["one_time_prekeys"])


def test_an_unknown_version_is_refused(tmp_path: Path) -> None:
    data = keyfile.dump_device(LocalDevice.create("1", 1))
    with pytest.raises(ValueError, match="version"):
        keyfile.load_device({**data, "version": 99})
