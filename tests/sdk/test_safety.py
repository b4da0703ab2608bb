"""Safety numbers: the SDK's match the browser library's (the web client's) for the same
pair of identities, computed by that library under Node."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from raasel_sdk import wire
from raasel_sdk.device import LocalDevice
from raasel_sdk.safety import grouped, safety_number, with_contact
from tests.sdk.test_device import bundle_of
from tests.support.server import ROOT

LIBRARY = ROOT / "web" / "node_modules" / "@privacyresearch" / "libsignal-protocol-typescript"
BROWSER_FINGERPRINT = """
const { FingerprintGenerator } = require(process.argv[1]);
const [a, ak, b, bk] = process.argv.slice(2);
const key = (hex) => Uint8Array.from(Buffer.from(hex, "hex")).buffer;
new FingerprintGenerator(5200).createFor(a, key(ak), b, key(bk)).then((n) => console.log(n));
"""


def test_the_same_sixty_digits_for_both_people() -> None:
    alice, bob = LocalDevice.create("17", 1), LocalDevice.create("42", 2)
    ours = safety_number("17", alice.identity_key, "42", bob.identity_key)
    theirs = safety_number("42", bob.identity_key, "17", alice.identity_key)
    assert ours == theirs and len(ours) == 60 and ours.isdigit()
    assert len(grouped(ours).split()) == 12
    # The 0x05-prefixed form gives the same; a new key of Bob's gives another number.
    assert (
        safety_number("17", wire.serialize_key(alice.identity_key), "42", bob.identity_key) == ours
    )
    reinstalled = LocalDevice.create("42", 2)
    assert safety_number("17", alice.identity_key, "42", reinstalled.identity_key) != ours


def test_the_sdk_and_the_web_client_compute_the_same_number() -> None:
    node = shutil.which("node")
    if node is None or not LIBRARY.is_dir():
        pytest.fail("node and web/node_modules are needed (make web)")
    for _ in range(3):
        alice, bob = LocalDevice.create("1234567", 1), LocalDevice.create("89", 2)
        keys = [wire.serialize_key(d.identity_key).hex() for d in (alice, bob)]
        done = subprocess.run(
            [node, "-e", BROWSER_FINGERPRINT, str(LIBRARY), "1234567", keys[0], "89", keys[1]],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        expected = done.stdout.strip()
        assert safety_number("1234567", alice.identity_key, "89", bob.identity_key) == expected


async def test_a_contact_s_number_from_the_sessions_known_identity() -> None:
    alice, bob = LocalDevice.create("17", 1), LocalDevice.create("42", 2)
    assert with_contact(alice, ("42", 2)) is None
    await alice.start_session(("42", 2), bundle_of(bob))
    assert with_contact(alice, ("42", 2)) == safety_number(
        "42", bob.identity_key, "17", alice.identity_key
    )
