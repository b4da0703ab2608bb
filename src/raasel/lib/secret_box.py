"""Sealing secrets with AES-256-GCM (``cryptography``'s AESGCM), and the node's key ring.

Envelope encryption (docs/security.md, "Secrets at rest"): every organization has its
own data key; the data keys are stored wrapped by the node's key-encryption key (KEK).
A sealed value is ``base64(nonce || ciphertext+tag)`` with a fresh 96-bit random nonce,
bound by its associated data to where it belongs (organization, channel, field), so a
sealed value copied to another row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
_NONCE_BYTES = 12


class SealError(Exception):
    """A sealed value that does not open: wrong key, wrong place, or tampered with."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def key_id(key: bytes) -> str:
    """A name for a key that reveals nothing of it (the first 16 bytes of its SHA-256)."""
    return hashlib.sha256(b"raasel-kek:" + key).hexdigest()[:32]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, aad)).decode()


def unseal(key: bytes, sealed: str, aad: bytes) -> bytes:
    try:
        raw = base64.b64decode(sealed, validate=True)
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad)
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise SealError("sealed value does not open") from exc


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def decode_key(text: str) -> bytes:
    """A KEK as given to an operator: 32 bytes in (URL-safe) base64."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("an encryption key is 32 bytes in base64") from exc
    if len(key) != KEY_BYTES:
        raise ValueError("an encryption key is 32 bytes in base64")
    return key


@dataclass
class KeyRing:
    """The KEKs this node may unwrap with, by id; ``current`` wraps new data keys."""

    current: bytes
    keys: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys.setdefault(key_id(self.current), self.current)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def get(self, kek_id: str) -> bytes | None:
        return self.keys.get(kek_id)


def write_key_file(path: Path, key: bytes) -> None:
    """Create ``path`` holding ``key``, readable by its owner only (0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(encode_key(key) + "\n")
        f.flush()
        os.fsync(f.fileno())


def constant_time_equal(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())
