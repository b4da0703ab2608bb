"""Sealing with AES-256-GCM: opens only with its key and in its place."""

from __future__ import annotations

import pytest

from raasel.lib.secret_box import SealError, decode_key, encode_key, new_key, seal, unseal


def test_seal_opens_only_with_its_key_and_associated_data() -> None:
    key, other = new_key(), new_key()
    sealed = seal(key, b"EAAG-token", b"org:1:channel:2:access_token")
    assert b"EAAG" not in sealed.encode()
    assert unseal(key, sealed, b"org:1:channel:2:access_token") == b"EAAG-token"
    assert seal(key, b"EAAG-token", b"a") != seal(key, b"EAAG-token", b"a")  # fresh nonces
    for wrong_key, aad in ((other, b"org:1:channel:2:access_token"), (key, b"org:2:channel:2")):
        with pytest.raises(SealError):
            unseal(wrong_key, sealed, aad)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError):
        unseal(key, tampered, b"org:1:channel:2:access_token")


def test_key_encoding() -> None:
    key = new_key()
    assert decode_key(encode_key(key)) == key
    with pytest.raises(ValueError):
        decode_key("c2hvcnQ=")
