"""The Signal public keys and signatures the key directory accepts (docs/e2e.md).

Keys travel as base64 of libsignal's serialisation: a Curve25519 public key is 33
bytes, the type byte ``0x05`` and the 32-byte key. The server's only cryptography is
checking that a signed prekey was signed by its device's identity key: XEdDSA as
libsignal makes it, verified with the ``xeddsa`` package (never our own primitives).
"""

from __future__ import annotations

import base64
import binascii

import xeddsa

KEY_TYPE_DJB = 0x05
PUBLIC_KEY_SIZE = 33
SIGNATURE_SIZE = 64


class InvalidKey(ValueError):
    """Not a key (or signature) of the expected shape."""


def decode_b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidKey("not standard base64") from exc


def public_key(value: str) -> bytes:
    """The 33 serialised bytes of a base64 public key, or ``InvalidKey``."""
    raw = decode_b64(value)
    if len(raw) != PUBLIC_KEY_SIZE or raw[0] != KEY_TYPE_DJB:
        raise InvalidKey("a public key is 33 bytes starting with 0x05")
    return raw


def signature(value: str) -> bytes:
    raw = decode_b64(value)
    if len(raw) != SIGNATURE_SIZE:
        raise InvalidKey("a signature is 64 bytes")
    return raw


def verify(identity_key: bytes, message: bytes, sig: bytes) -> bool:
    """XEdDSA verification of ``sig`` over ``message`` by the serialised identity key.

    libsignal carries the Ed25519 key's sign bit in the top bit of the signature's last
    byte (curve25519-donna's ``curve25519_verify``; XEdDSA proper always has it 0): the
    Montgomery key is converted with that sign bit and the bit is cleared before the
    Ed25519 check.
    """
    if len(identity_key) != PUBLIC_KEY_SIZE or len(sig) != SIGNATURE_SIZE:
        return False
    sign_bit = bool(sig[63] & 0x80)
    try:
        ed_public = xeddsa.curve25519_pub_to_ed25519_pub(identity_key[1:], sign_bit)
    except (ValueError, xeddsa.XEdDSAException):
        return False
    cleared = sig[:63] + bytes([sig[63] & 0x7F])
    return bool(xeddsa.ed25519_verify(cleared, ed_public, message))
