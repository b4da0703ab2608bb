"""HMAC signatures with the node's secret: links sent by mail, history cursors.

Every signature names its purpose, so a value signed for one use (a cursor) is never
accepted for another (a password reset). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def mac(key: str, purpose: str, *parts: str, size: int = 32) -> str:
    """``size`` bytes of HMAC-SHA256 over the purpose and the parts, base64url."""
    message = "\x1f".join((purpose, *parts)).encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def matches(key: str, purpose: str, signature: str, *parts: str, size: int = 32) -> bool:
    return hmac.compare_digest(mac(key, purpose, *parts, size=size), signature)


def new_nonce() -> str:
    """The random half of a link: a leaked secret key alone cannot forge one."""
    return secrets.token_hex(16)


def link_token(key: str, purpose: str, row_id: str, nonce: str) -> str:
    """What a mailed link carries: the row's id and a signature over its nonce."""
    return f"{row_id}.{mac(key, purpose, row_id, nonce)}"


def split_link_token(token: str) -> tuple[str, str] | None:
    """(row id, signature) of a well-formed link token, else None."""
    row_id, dot, signature = token.partition(".")
    if not dot or not row_id.isdigit() or len(row_id) > 20 or not 40 <= len(signature) <= 64:
        return None
    return row_id, signature
