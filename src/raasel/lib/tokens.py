"""Short-lived signed access tokens (JWT, HS256) and opaque refresh secrets."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from raasel.lib.clock import utcnow

_ALGORITHM = "HS256"
_AUDIENCE = "raasel"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    org_id: str | None
    session_id: str
    expires_at: datetime


class InvalidToken(Exception):
    """The token is missing, malformed, forged or expired."""


def issue_access_token(
    secret: str, user_id: str, org_id: str | None, session_id: str, ttl_seconds: int
) -> str:
    now = utcnow()
    payload: dict[str, Any] = {
        "sub": user_id,
        "sid": session_id,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if org_id is not None:
        payload["org"] = org_id
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def read_access_token(secret: str, token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "exp", "sid"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    org = payload.get("org")
    if not isinstance(payload["sub"], str) or not isinstance(payload["sid"], str):
        raise InvalidToken("malformed claims")
    if org is not None and not isinstance(org, str):
        raise InvalidToken("malformed claims")
    if not isinstance(payload["exp"], int | float):
        raise InvalidToken("malformed claims")
    return AccessClaims(
        user_id=payload["sub"],
        org_id=org,
        session_id=payload["sid"],
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the database keeps of a refresh token: never the token itself."""
    return hashlib.sha256(secret.encode()).hexdigest()
