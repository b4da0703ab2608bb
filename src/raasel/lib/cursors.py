"""Opaque pagination cursors: a message id, base64-wrapped so clients don't parse it."""

from __future__ import annotations

import base64
import binascii


class InvalidCursor(ValueError):
    pass


def encode_cursor(message_id: int) -> str:
    return base64.urlsafe_b64encode(f"m:{message_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "m" or not value.isdigit() or len(value) > 20:
            raise InvalidCursor(cursor)
        return int(value)
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
