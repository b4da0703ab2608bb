"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw
body keyed with the app secret>``, checked in constant time before anything is parsed."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


class SignatureProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body`` (tests sign fixtures with it)."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(app_secret: str, body: bytes, header: str | None) -> None:
    """Raise ``SignatureProblem`` unless ``header`` signs ``body`` with ``app_secret``."""
    if not header:
        raise SignatureProblem("missing_signature", "X-Hub-Signature-256 is missing")
    if not header.startswith(PREFIX):
        raise SignatureProblem("invalid_signature", "X-Hub-Signature-256 must be sha256=<hex>")
    if not hmac.compare_digest(sign(app_secret, body).encode(), header.strip().encode()):
        raise SignatureProblem("invalid_signature", "the webhook signature does not match")
