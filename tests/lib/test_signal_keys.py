"""The key directory's signature check (lib/signal_keys.py), on keys made the two ways
libsignal clients sign: XEdDSA (sign bit 0) and curve25519-donna's Ed25519 with the key's
sign bit carried in the signature's last byte (the web app's library)."""

from __future__ import annotations

import base64
import secrets

import pytest
import xeddsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from raasel.lib import signal_keys


def test_xeddsa_signatures_verify_and_forgeries_do_not() -> None:
    # A key whose Ed25519 form has sign bit 0, as XEdDSA signs: the package's signature is
    # then an XEdDSA one. (``priv_force_sign`` on raw random bytes does not make one: it
    # negates an unclamped scalar, and half of such signatures failed, at random.)
    priv = xeddsa.seed_to_priv(secrets.token_bytes(32))
    while xeddsa.priv_to_ed25519_pub(priv)[31] & 0x80:
        priv = xeddsa.seed_to_priv(secrets.token_bytes(32))
    identity = b"\x05" + xeddsa.priv_to_curve25519_pub(priv)
    signed = b"\x05" + secrets.token_bytes(32)
    signature = xeddsa.ed25519_priv_sign(priv, signed)
    assert signature[63] & 0x80 == 0
    assert signal_keys.verify(identity, signed, signature)
    assert not signal_keys.verify(identity, signed[:-1] + bytes([signed[-1] ^ 1]), signature)
    other = b"\x05" + xeddsa.priv_to_curve25519_pub(secrets.token_bytes(32))
    assert not signal_keys.verify(other, signed, signature)
    assert not signal_keys.verify(identity, signed, signature[:10])


def test_signatures_carrying_the_sign_bit_verify() -> None:
    signed = b"\x05" + secrets.token_bytes(32)
    for _ in range(8):  # both signs of the Ed25519 key occur
        key = Ed25519PrivateKey.generate()
        ed_public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        identity = b"\x05" + xeddsa.ed25519_pub_to_curve25519_pub(ed_public)
        signature = bytearray(key.sign(signed))
        signature[63] |= ed_public[31] & 0x80
        assert signal_keys.verify(identity, signed, bytes(signature))


def test_key_shapes() -> None:
    good = base64.b64encode(b"\x05" + bytes(32)).decode()
    assert len(signal_keys.public_key(good)) == 33
    for bad in (base64.b64encode(b"\x06" + bytes(32)).decode(), "AAAA", "not base64"):
        with pytest.raises(signal_keys.InvalidKey):
            signal_keys.public_key(bad)
    with pytest.raises(signal_keys.InvalidKey):
        signal_keys.signature(base64.b64encode(bytes(63)).decode())
