"""The Double Ratchet as libsignal v3 runs it, on the MIT ``doubleratchet`` package.

What libsignal fixes and the package leaves open, set here:

- root chain: HKDF-SHA256 with the root key as salt and info ``"WhisperRatchet"``
  (64 bytes: the new root key, then the chain key);
- message chains: HMAC-SHA256 of the chain key with ``0x02`` (the next chain key) and
  ``0x01`` (the message key seed): the package's separate-HMACs KDF with ``b"\\x02\\x01"``;
- message keys: HKDF-SHA256 of the seed, zero salt, info ``"WhisperMessageKeys"``, 80
  bytes: AES-256 key, HMAC key, CBC IV;
- the message itself: the AEAD below writes (and reads) a whole serialized
  ``WhisperMessage`` (wire.py), whose 8-byte MAC is HMAC-SHA256 over the sender's and the
  receiver's serialized identity keys, the version byte and the protobuf;
- ``previousCounter``: libsignal sends the index of the last message of the previous
  chain (its length - 1); the package counts lengths, so it is shifted by one each way.

Primitives come from ``cryptography``; nothing here is a primitive of our own.
"""

from __future__ import annotations

import hmac
import struct
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from doubleratchet import DoubleRatchet as _DoubleRatchet
from doubleratchet import EncryptedMessage, Header
from doubleratchet.aead import AEAD, AuthenticationFailedException, DecryptionFailedException
from doubleratchet.recommended import (
    HashFunction,
    diffie_hellman_ratchet_curve25519,
    kdf_hkdf,
    kdf_separate_hmacs,
)

from raasel_sdk.wire import MAC_SIZE, WhisperMessage, WireError, parse_whisper

MESSAGE_CHAIN_CONSTANT = b"\x02\x01"
MAX_SKIPPED_KEYS = 2000
DOS_THRESHOLD = 2000
_IDENTITIES = 66  # two serialized identity keys, sender's first
_HEADER = struct.Struct(">32sQQ")  # ratchet key, previous chain length, counter


class RootKdf(kdf_hkdf.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256

    @staticmethod
    def _get_info() -> bytes:
        return b"WhisperRatchet"


class MessageChainKdf(kdf_separate_hmacs.KDF):
    @staticmethod
    def _get_hash_function() -> HashFunction:
        return HashFunction.SHA_256


def _message_keys(seed: bytes) -> tuple[bytes, bytes, bytes]:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=80, salt=b"\x00" * 32, info=b"WhisperMessageKeys"
    ).derive(seed)
    return derived[:32], derived[32:64], derived[64:]


def _mac(key: bytes, identities: bytes, covered: bytes) -> bytes:
    h = HMAC(key, hashes.SHA256())
    h.update(identities + covered)
    return h.finalize()[:MAC_SIZE]


class WhisperAead(AEAD):
    """Encrypts to, and decrypts from, a serialized ``WhisperMessage``.

    The associated data is the two identities followed by the ratchet header (see
    ``SignalRatchet._build_associated_data``), so the AEAD can frame the message.
    """

    @staticmethod
    async def encrypt(plaintext: bytes, key: bytes, associated_data: bytes) -> bytes:
        cipher_key, mac_key, iv = _message_keys(key)
        identities = associated_data[:_IDENTITIES]
        ratchet_key, previous_length, counter = _HEADER.unpack(associated_data[_IDENTITIES:])
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(cipher_key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        covered = WhisperMessage(
            ratchet_key=ratchet_key,
            counter=counter,
            previous_counter=max(previous_length - 1, 0),
            ciphertext=ciphertext,
        ).body()
        return covered + _mac(mac_key, identities, covered)

    @staticmethod
    async def decrypt(ciphertext: bytes, key: bytes, associated_data: bytes) -> bytes:
        cipher_key, mac_key, iv = _message_keys(key)
        try:
            message, covered, mac = parse_whisper(ciphertext)
        except WireError as exc:
            raise DecryptionFailedException(str(exc)) from exc
        if not hmac.compare_digest(_mac(mac_key, associated_data[:_IDENTITIES], covered), mac):
            raise AuthenticationFailedException("bad MAC")
        try:
            decryptor = Cipher(algorithms.AES(cipher_key), modes.CBC(iv)).decryptor()
            padded = decryptor.update(message.ciphertext) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            raise DecryptionFailedException("bad padding") from exc


class SignalRatchet(_DoubleRatchet):
    @staticmethod
    def _build_associated_data(associated_data: bytes, header: Header) -> bytes:
        return associated_data + _HEADER.pack(
            header.ratchet_pub, header.previous_sending_chain_length, header.sending_chain_length
        )


RATCHET_OPTIONS: dict[str, Any] = {
    "diffie_hellman_ratchet_class": diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet,
    "root_chain_kdf": RootKdf,
    "message_chain_kdf": MessageChainKdf,
    "message_chain_constant": MESSAGE_CHAIN_CONSTANT,
    "dos_protection_threshold": DOS_THRESHOLD,
    "max_num_skipped_message_keys": MAX_SKIPPED_KEYS,
    "aead": WhisperAead,
}


def wire_header(serialized: bytes) -> EncryptedMessage:
    """The package's view of a received ``WhisperMessage``: its header (the previous
    chain's length is libsignal's index + 1) and the whole bytes as the ciphertext."""
    message, _, _ = parse_whisper(serialized)
    # libsignal-javascript writes -1 (as uint32) when the previous chain sent nothing.
    previous = message.previous_counter
    header = Header(
        ratchet_pub=message.ratchet_key,
        previous_sending_chain_length=0 if previous >= 2**31 else previous + 1,
        sending_chain_length=message.counter,
    )
    return EncryptedMessage(header=header, ciphertext=serialized)


async def start_sending(
    shared_secret: bytes, their_ratchet_key: bytes, plaintext: bytes, identities: bytes
) -> tuple[SignalRatchet, bytes]:
    """Alice's side: the first message, on the recipient's signed prekey as ratchet key."""
    ratchet, encrypted = await SignalRatchet.encrypt_initial_message(
        shared_secret=shared_secret,
        recipient_ratchet_pub=their_ratchet_key,
        message=plaintext,
        associated_data=identities,
        **RATCHET_OPTIONS,
    )
    return ratchet, encrypted.ciphertext


async def start_receiving(
    shared_secret: bytes, own_ratchet_priv: bytes, serialized: bytes, identities: bytes
) -> tuple[SignalRatchet, bytes]:
    """Bob's side: decrypt the first message with his signed prekey as ratchet key."""
    ratchet, plaintext = await SignalRatchet.decrypt_initial_message(
        shared_secret=shared_secret,
        own_ratchet_priv=own_ratchet_priv,
        message=wire_header(serialized),
        associated_data=identities,
        **RATCHET_OPTIONS,
    )
    return ratchet, plaintext
