"""History cursors: opaque, signed, and bound to their conversation.

A cursor is ``base64url("p:" + position) + "." + signature``, the signature an HMAC with
the node's secret over the conversation id and the position (lib/signing.py). An edited
or truncated cursor, or one from another conversation, is refused (``invalid_cursor``)
instead of silently answering a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import re

from raasel.lib import signing

_PURPOSE = "history-cursor"
_POSITION = re.compile(r"p:([0-9]{1,19})")


class InvalidCursor(ValueError):
    pass


def encode_cursor(key: str, conversation_id: str, position: int) -> str:
    body = base64.urlsafe_b64encode(f"p:{position}".encode()).decode().rstrip("=")
    return f"{body}.{signing.mac(key, _PURPOSE, conversation_id, str(position), size=16)}"


def decode_cursor(key: str, conversation_id: str, cursor: str) -> int:
    """The position a cursor of ``conversation_id`` names; InvalidCursor otherwise."""
    body, dot, signature = cursor.partition(".")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    match = _POSITION.fullmatch(raw)
    if not dot or match is None:
        raise InvalidCursor(cursor)
    position = match.group(1)
    if not signing.matches(key, _PURPOSE, signature, conversation_id, position, size=16):
        raise InvalidCursor(cursor)
    return int(position)
