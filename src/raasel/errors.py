"""Typed errors. Actions raise them; REST answers them as JSON, sockets in the ack.

The ``code`` is the stable contract documented in docs/protocol.md.
"""

from __future__ import annotations

from typing import Any


class RaaselError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class ValidationFailed(RaaselError):
    code = "validation_error"
    status = 422


class Unauthenticated(RaaselError):
    code = "unauthenticated"
    status = 401


class Forbidden(RaaselError):
    code = "forbidden"
    status = 403


class NotFound(RaaselError):
    """Also the answer for things that exist in another tenant: we never confirm them."""

    code = "not_found"
    status = 404


class Conflict(RaaselError):
    code = "conflict"
    status = 409


class RateLimited(RaaselError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLarge(RaaselError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(RaaselError):
    code = "unsupported_media_type"
    status = 415


class Unavailable(RaaselError):
    code = "unavailable"
    status = 503


class UpgradeRequired(RaaselError):
    """A paid feature (plan plus) asked for by someone on the free plan."""

    code = "upgrade_required"
    status = 402


class InvalidSignature(RaaselError):
    """A billing webhook whose signature is wrong, missing or too old (a replay)."""

    code = "invalid_signature"
    status = 400


class Busy(RaaselError):
    """Too much waiting to be stored: nothing was stored; retry with the same client id."""

    code = "busy"
    status = 503


class InvalidLink(RaaselError):
    """A link from a mail (verification, reset, invitation) that is forged, used, expired
    or revoked: all answered alike."""

    code = "invalid_link"
    status = 400


class QuotaExceeded(RaaselError):
    """An upload over the organization's storage quota or the customer's upload budget."""

    code = "quota_exceeded"
    status = 413


class StaleDevices(RaaselError):
    """A direct send whose envelopes do not match the members' devices: it carries the
    current lists so the client re-encrypts (docs/protocol.md, direct chats)."""

    code = "stale_devices"
    status = 409

    def __init__(
        self,
        message: str,
        *,
        devices: dict[str, list[dict[str, int]]],
        missing: list[dict[str, object]],
        extra: list[dict[str, object]],
        stale: list[dict[str, object]],
    ) -> None:
        super().__init__(message)
        self.devices = devices
        self.missing = missing
        self.extra = extra
        self.stale = stale

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "devices": self.devices,
            "missing": self.missing,
            "extra": self.extra,
            "stale": self.stale,
        }
