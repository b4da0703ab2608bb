"""One local Signal device: its keys (on the MIT ``x3dh`` package), its sessions with
other devices (on ``ratchet.py``), and libsignal v3 messages in and out (``wire.py``).

Sessions follow libsignal's SessionCipher: a session starts with a prekey bundle (X3DH,
active) or with a received ``PreKeyWhisperMessage`` (X3DH, passive); until the other
side answers, every message is a ``PreKeyWhisperMessage`` (type 3) so it can start the
session whichever arrives first; then ``WhisperMessage`` (type 1). A message that does
not authenticate, or repeats one already decrypted, raises ``DecryptError`` and leaves
the session as it was.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

import xeddsa
from doubleratchet import (
    AuthenticationFailedException,
    DecryptionFailedException,
    DoSProtectionException,
    DuplicateMessageException,
)
from x3dh import BaseState, Bundle, Header, IdentityKeyFormat, KeyAgreementException
from x3dh import HashFunction as X3dhHash
from x3dh.identity_key_pair import IdentityKeyPairPriv

from raasel_sdk import ratchet, wire

Address = tuple[str, int]  # (user id, device id)


class DecryptError(Exception):
    """The message cannot be decrypted here (tampered, replayed, or no session for it)."""


class Replay(DecryptError):
    """A message key used twice: a copy of a message already read (refused, nothing asked)."""


class NoSession(DecryptError):
    """No session with the sending device (lost, or never made): only a new one helps."""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class X3dhState(BaseState):
    """X3DH with libsignal's encodings: keys are serialized with the 0x05 prefix.

    The identity is kept in the package's Ed25519 format so that a bundle's signature is
    checked with the Ed25519 sign bit libsignal carries in the signature (see
    ``bundle_for_x3dh``); Diffie-Hellman still runs on the Curve25519 keys.
    """

    @staticmethod
    def _encode_public_key(key_format: IdentityKeyFormat, pub: bytes) -> bytes:
        if key_format is IdentityKeyFormat.CURVE_25519:
            return wire.serialize_key(pub)
        return pub


# How our X3DH state is configured (libsignal's): key format, hash, info string.
X3DH_INFO = (IdentityKeyFormat.ED_25519, X3dhHash.SHA_256, b"WhisperText")


def bundle_for_x3dh(
    identity_key: bytes, signed_pre_key: bytes, signature: bytes, pre_key: bytes | None
) -> Bundle:
    """A libsignal bundle (Curve25519 identity, XEdDSA signature with the sign bit in its
    last byte) as the package's Ed25519-format bundle."""
    sign_bit = bool(signature[63] & 0x80)
    ed_identity = xeddsa.curve25519_pub_to_ed25519_pub(identity_key, sign_bit)
    cleared = signature[:63] + bytes([signature[63] & 0x7F])
    return Bundle(
        identity_key=ed_identity,
        signed_pre_key=signed_pre_key,
        signed_pre_key_sig=cleared,
        pre_keys=frozenset({pre_key}) if pre_key else frozenset(),
    )


@dataclass
class _Pending:
    """What the first messages of a session we started carry (until the other answers)."""

    pre_key_id: int | None
    signed_pre_key_id: int
    base_key: bytes


@dataclass
class Session:
    ratchet: ratchet.SignalRatchet | None  # None until our first message (see encrypt)
    their_identity: bytes  # 32 bytes, Curve25519
    base_key: bytes  # the X3DH ephemeral key this session started from
    pending: _Pending | None = None
    # A session we start: the X3DH secret and their signed prekey, until the first message.
    start: tuple[bytes, bytes] | None = None
    # The MACs of the latest messages decrypted: an exact copy is a replay (the package
    # itself cannot tell a replay from an altered message once the key is used up).
    seen: list[bytes] = field(default_factory=list)


SEEN_KEPT = 1000


@dataclass
class LocalDevice:
    user_id: str
    device_id: int
    registration_id: int
    _identity_priv: bytes
    _state: X3dhState
    _pre_key_ids: dict[bytes, int] = field(default_factory=dict)
    _next_pre_key_id: int = 1
    _signed_ids: dict[bytes, int] = field(default_factory=dict)
    _next_signed_id: int = 1
    sessions: dict[Address, Session] = field(default_factory=dict)
    known_identities: dict[Address, bytes] = field(default_factory=dict)
    identity_changes: list[Address] = field(default_factory=list)

    @classmethod
    def create(cls, user_id: str, device_id: int, *, pre_keys: int = 20) -> LocalDevice:
        # A scalar as Ed25519 derives it from a seed (xeddsa signs with such scalars).
        priv = xeddsa.seed_to_priv(secrets.token_bytes(32))
        state = X3dhState.create(*X3DH_INFO, IdentityKeyPairPriv(priv))
        device = cls(user_id, device_id, secrets.randbelow(16380) + 1, priv, state)
        device._signed_ids[state.bundle.signed_pre_key] = device._next_signed_id
        device._next_signed_id += 1
        device.generate_pre_keys(pre_keys)
        return device

    # ----- public keys --------------------------------------------------------------------

    @property
    def identity_key(self) -> bytes:
        """Our Curve25519 identity public key (32 bytes)."""
        return xeddsa.priv_to_curve25519_pub(self._identity_priv)

    def generate_pre_keys(self, count: int) -> list[dict[str, Any]]:
        """New one-time prekeys, as the server takes them."""
        before = set(self._state.bundle.pre_keys)
        self._state.generate_pre_keys(count)
        made = []
        for pub in sorted(set(self._state.bundle.pre_keys) - before):
            self._pre_key_ids[pub] = self._next_pre_key_id
            made.append(
                {"key_id": self._next_pre_key_id, "public_key": b64(wire.serialize_key(pub))}
            )
            self._next_pre_key_id += 1
        return made

    def signed_pre_key(self) -> dict[str, Any]:
        """The current signed prekey as libsignal publishes it: the package's Ed25519
        signature, with the identity's Ed25519 sign bit in the top bit of its last byte
        (where libsignal's verifier reads it; see ``bundle_for_x3dh``)."""
        bundle = self._state.bundle
        sign_bit = xeddsa.priv_to_ed25519_pub(self._identity_priv)[31] & 0x80
        signature = bytearray(bundle.signed_pre_key_sig)
        signature[63] = (signature[63] & 0x7F) | sign_bit
        return {
            "key_id": self._signed_ids[bundle.signed_pre_key],
            "public_key": b64(wire.serialize_key(bundle.signed_pre_key)),
            "signature": b64(bytes(signature)),
        }

    def rotate_signed_pre_key(self) -> dict[str, Any]:
        self._state.rotate_signed_pre_key()
        self._signed_ids[self._state.bundle.signed_pre_key] = self._next_signed_id
        self._next_signed_id += 1
        return self.signed_pre_key()

    def registration(self) -> dict[str, Any]:
        """The body of ``PUT /direct/devices/{device_id}``."""
        return {
            "registration_id": self.registration_id,
            "identity_key": b64(wire.serialize_key(self.identity_key)),
            "signed_prekey": self.signed_pre_key(),
            "one_time_prekeys": [
                {"key_id": i, "public_key": b64(wire.serialize_key(pub))}
                for pub, i in sorted(self._pre_key_ids.items(), key=lambda kv: kv[1])
            ],
        }

    def _identities(self, their_identity: bytes, *, sending: bool) -> bytes:
        ours, theirs = wire.serialize_key(self.identity_key), wire.serialize_key(their_identity)
        return ours + theirs if sending else theirs + ours

    def _note_identity(self, address: Address, identity: bytes) -> None:
        known = self.known_identities.get(address)
        if known is not None and known != identity:
            self.identity_changes.append(address)
        self.known_identities[address] = identity

    # ----- encrypt ------------------------------------------------------------------------

    def has_session(self, address: Address) -> bool:
        return address in self.sessions

    async def start_session(self, address: Address, bundle: dict[str, Any]) -> None:
        """X3DH with one device's bundle as ``POST /direct/users/{id}/bundle`` returns it
        (the signature is checked here too: a server cannot slip in a key of its own)."""
        identity = wire.parse_key(unb64(bundle["identity_key"]))
        signed = bundle["signed_prekey"]
        signed_pub = wire.parse_key(unb64(signed["public_key"]))
        one_time = bundle.get("one_time_prekey")
        pre_key = wire.parse_key(unb64(one_time["public_key"])) if one_time else None
        x3dh_bundle = bundle_for_x3dh(identity, signed_pub, unb64(signed["signature"]), pre_key)
        try:
            shared, _, header = await self._state.get_shared_secret_active(
                x3dh_bundle, require_pre_key=False
            )
        except KeyAgreementException as exc:
            raise DecryptError(f"bad bundle: {exc}") from exc
        self._note_identity(address, identity)
        pending = _Pending(
            pre_key_id=one_time["key_id"] if one_time else None,
            signed_pre_key_id=signed["key_id"],
            base_key=header.ephemeral_key,
        )
        # The ratchet is made by the first encryption (its first message is sent then).
        self.sessions[address] = Session(
            None, identity, header.ephemeral_key, pending, start=(shared, signed_pub)
        )

    async def encrypt(self, address: Address, plaintext: bytes) -> tuple[int, bytes]:
        """(envelope type, serialized message) for one device we have a session with."""
        session = self.sessions[address]
        identities = self._identities(session.their_identity, sending=True)
        if session.ratchet is None:
            assert session.start is not None
            shared, their_signed = session.start
            session.start = None
            session.ratchet, whisper = await ratchet.start_sending(
                shared, their_signed, plaintext, identities
            )
        else:
            encrypted = await session.ratchet.encrypt_message(plaintext, identities)
            whisper = encrypted.ciphertext
        if session.pending is None:
            return wire.WHISPER_TYPE, whisper
        message = wire.PreKeyWhisperMessage(
            registration_id=self.registration_id,
            pre_key_id=session.pending.pre_key_id,
            signed_pre_key_id=session.pending.signed_pre_key_id,
            base_key=session.pending.base_key,
            identity_key=self.identity_key,
            message=whisper,
        )
        return wire.PREKEY_TYPE, message.serialize()

    # ----- decrypt ------------------------------------------------------------------------

    async def decrypt(self, address: Address, kind: int, body: bytes) -> bytes:
        try:
            if kind == wire.PREKEY_TYPE:
                return await self._decrypt_prekey(address, body)
            if kind == wire.WHISPER_TYPE:
                session = self.sessions.get(address)
                if session is None or session.ratchet is None:
                    raise NoSession("no session with that device")
                return await self._decrypt_in(session, body)
        except wire.WireError as exc:
            raise DecryptError(f"malformed message: {exc}") from exc
        raise DecryptError(f"unknown envelope type {kind}")

    async def _decrypt_in(self, session: Session, whisper: bytes) -> bytes:
        if session.ratchet is None:
            raise DecryptError("no session with that device yet")
        identities = self._identities(session.their_identity, sending=False)
        mac = whisper[-8:]
        if mac in session.seen:
            raise Replay("this message was already decrypted")
        try:
            plaintext = await session.ratchet.decrypt_message(
                ratchet.wire_header(whisper), identities
            )
        except DuplicateMessageException as exc:
            raise Replay(type(exc).__name__) from exc
        except (
            AuthenticationFailedException,
            DecryptionFailedException,
            DoSProtectionException,
        ) as exc:
            raise DecryptError(type(exc).__name__) from exc
        session.pending = None  # they answered: plain WhisperMessages from now on
        session.seen = [*session.seen[-(SEEN_KEPT - 1) :], mac]
        return plaintext

    async def _decrypt_prekey(self, address: Address, body: bytes) -> bytes:
        message = wire.parse_prekey(body)
        session = self.sessions.get(address)
        if session is not None and session.base_key == message.base_key and session.ratchet:
            return await self._decrypt_in(session, message.message)
        signed = {i: pub for pub, i in self._signed_ids.items()}.get(message.signed_pre_key_id)
        pre_key = None
        if message.pre_key_id is not None:
            pre_key = {i: pub for pub, i in self._pre_key_ids.items()}.get(message.pre_key_id)
            if pre_key is None:
                raise DecryptError("that one-time prekey is used up")
        if signed is None:
            raise DecryptError("unknown signed prekey")
        header = Header(
            identity_key=xeddsa.curve25519_pub_to_ed25519_pub(message.identity_key, False),
            ephemeral_key=message.base_key,
            signed_pre_key=signed,
            pre_key=pre_key,
        )
        try:
            shared, _, signed_pair = await self._state.get_shared_secret_passive(
                header, require_pre_key=False
            )
        except KeyAgreementException as exc:
            raise DecryptError(str(exc)) from exc
        identities = wire.serialize_key(message.identity_key) + wire.serialize_key(
            self.identity_key
        )
        try:
            new_ratchet, plaintext = await ratchet.start_receiving(
                shared, signed_pair.priv, message.message, identities
            )
        except (AuthenticationFailedException, DecryptionFailedException) as exc:
            raise DecryptError(type(exc).__name__) from exc
        if pre_key is not None:  # used once, then gone (libsignal removes it too)
            self._state.delete_pre_key(pre_key)
            del self._pre_key_ids[pre_key]
        self._note_identity(address, message.identity_key)
        self.sessions[address] = Session(
            new_ratchet, message.identity_key, message.base_key, seen=[message.message[-8:]]
        )
        return plaintext
