"""libsignal v3 on the wire: the 0x05 key prefix and the protobuf framing of
``WhisperMessage`` and ``PreKeyWhisperMessage`` (libsignal's WhisperTextProtocol.proto).

Framing only, no cryptography: a varint/length-delimited reader and writer for the few
fields these two messages have. The MAC that closes a ``WhisperMessage`` is computed by
the ratchet's AEAD (ratchet.py) over exactly these bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_TYPE_DJB = 0x05
VERSION = 3
VERSION_BYTE = (VERSION << 4) | VERSION  # 0x33: current and minimum version 3
MAC_SIZE = 8

WHISPER_TYPE = 1  # envelope type of a WhisperMessage
PREKEY_TYPE = 3  # envelope type of a PreKeyWhisperMessage


class WireError(ValueError):
    """Bytes that are not a libsignal v3 message."""


def serialize_key(raw: bytes) -> bytes:
    """A 32-byte Curve25519 public key as libsignal sends it (33 bytes)."""
    if len(raw) != 32:
        raise WireError("a Curve25519 public key is 32 bytes")
    return bytes([KEY_TYPE_DJB]) + raw


def parse_key(serialized: bytes) -> bytes:
    if len(serialized) != 33 or serialized[0] != KEY_TYPE_DJB:
        raise WireError("a public key is 33 bytes starting with 0x05")
    return serialized[1:]


# ----- protobuf (proto2, the wire types 0 and 2 only) -----------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise WireError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _field_int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(value)) + value


def _fields(data: bytes) -> dict[int, int | bytes]:
    """The fields of a message (the last occurrence wins, as protobuf's)."""
    found: dict[int, int | bytes] = {}
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, at = _read_varint(data, at)
            found[number] = value
        elif wire_type == 2:
            length, at = _read_varint(data, at)
            if at + length > len(data):
                raise WireError("truncated field")
            found[number] = data[at : at + length]
            at += length
        else:
            raise WireError(f"unexpected wire type {wire_type}")
    return found


def _int(fields: dict[int, int | bytes], number: int, default: int | None = None) -> int:
    value = fields.get(number, default)
    if not isinstance(value, int):
        raise WireError(f"field {number} missing or not an integer")
    return value


def _bytes(fields: dict[int, int | bytes], number: int) -> bytes:
    value = fields.get(number)
    if not isinstance(value, bytes):
        raise WireError(f"field {number} missing or not bytes")
    return value


# ----- the two messages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhisperMessage:
    ratchet_key: bytes  # 32 bytes (without the 0x05 prefix)
    counter: int
    previous_counter: int
    ciphertext: bytes  # AES-256-CBC, PKCS#7

    def body(self) -> bytes:
        """Version byte + protobuf: the bytes the MAC covers."""
        proto = (
            _field_bytes(1, serialize_key(self.ratchet_key))
            + _field_int(2, self.counter)
            + _field_int(3, self.previous_counter)
            + _field_bytes(4, self.ciphertext)
        )
        return bytes([VERSION_BYTE]) + proto


def parse_whisper(serialized: bytes) -> tuple[WhisperMessage, bytes, bytes]:
    """(message, the MAC-covered bytes, the MAC) of a serialized WhisperMessage."""
    if len(serialized) < 1 + MAC_SIZE:
        raise WireError("too short for a WhisperMessage")
    if serialized[0] >> 4 != VERSION:
        raise WireError("not a version 3 message")
    covered, mac = serialized[:-MAC_SIZE], serialized[-MAC_SIZE:]
    fields = _fields(covered[1:])
    message = WhisperMessage(
        ratchet_key=parse_key(_bytes(fields, 1)),
        counter=_int(fields, 2, 0),
        previous_counter=_int(fields, 3, 0),
        ciphertext=_bytes(fields, 4),
    )
    return message, covered, mac


@dataclass(frozen=True, slots=True)
class PreKeyWhisperMessage:
    registration_id: int
    pre_key_id: int | None
    signed_pre_key_id: int
    base_key: bytes  # 32 bytes
    identity_key: bytes  # 32 bytes
    message: bytes  # a whole serialized WhisperMessage (with its version byte and MAC)

    def serialize(self) -> bytes:
        proto = b""
        if self.pre_key_id is not None:
            proto += _field_int(1, self.pre_key_id)
        proto += (
            _field_bytes(2, serialize_key(self.base_key))
            + _field_bytes(3, serialize_key(self.identity_key))
            + _field_bytes(4, self.message)
            + _field_int(5, self.registration_id)
            + _field_int(6, self.signed_pre_key_id)
        )
        return bytes([VERSION_BYTE]) + proto


def parse_prekey(serialized: bytes) -> PreKeyWhisperMessage:
    if len(serialized) < 2 or serialized[0] >> 4 != VERSION:
        raise WireError("not a version 3 PreKeyWhisperMessage")
    fields = _fields(serialized[1:])
    pre_key_id = fields.get(1)
    if pre_key_id is not None and not isinstance(pre_key_id, int):
        raise WireError("field 1 is not an integer")
    return PreKeyWhisperMessage(
        registration_id=_int(fields, 5, 0),
        pre_key_id=pre_key_id,
        signed_pre_key_id=_int(fields, 6),
        base_key=parse_key(_bytes(fields, 2)),
        identity_key=parse_key(_bytes(fields, 3)),
        message=_bytes(fields, 4),
    )
