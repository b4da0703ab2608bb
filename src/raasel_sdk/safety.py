"""Safety numbers in Signal's numeric fingerprint format (version 0), as the web app shows
them (web/src/e2e/signal.ts, the browser library's FingerprintGenerator): per side, SHA-512
iterated 5,200 times over the version, the identity key (33 bytes, 0x05 prefix) and the
user's stable id (the user id), each round hashing the previous digest with the key again;
the first 30 bytes as six 5-byte big-endian numbers mod 100,000, five digits each. The
two sides' 30 digits are sorted and joined: 60 digits, the same for both people.

A display format over a standard hash, not a cipher: ``hashlib`` is the primitive.
"""

from __future__ import annotations

import hashlib

from raasel_sdk import wire
from raasel_sdk.device import Address, LocalDevice

ITERATIONS = 5200
VERSION = b"\x00\x00"


def _side(identifier: str, identity_key: bytes, iterations: int) -> str:
    key = wire.serialize_key(identity_key) if len(identity_key) == 32 else identity_key
    digest = VERSION + key + identifier.encode("latin-1")
    for _ in range(iterations):
        digest = hashlib.sha512(digest + key).digest()
    return "".join(
        f"{int.from_bytes(digest[offset : offset + 5], 'big') % 100_000:05d}"
        for offset in range(0, 30, 5)
    )


def safety_number(
    local_id: str,
    local_key: bytes,
    remote_id: str,
    remote_key: bytes,
    *,
    iterations: int = ITERATIONS,
) -> str:
    """60 digits; keys as 32-byte Curve25519 keys or serialized with the 0x05 prefix."""
    sides = [_side(local_id, local_key, iterations), _side(remote_id, remote_key, iterations)]
    return "".join(sorted(sides))


def grouped(number: str) -> str:
    """As the app shows it: 12 groups of 5 digits."""
    return " ".join(number[i : i + 5] for i in range(0, len(number), 5))


def with_contact(device: LocalDevice, contact: Address) -> str | None:
    """The safety number of this device's user and a contact's device it has talked to
    (None if it never saw that device's identity key)."""
    their_key = device.known_identities.get(contact)
    if their_key is None:
        return None
    return safety_number(device.user_id, device.identity_key, contact[0], their_key)
