"""The token-signing key: set, long enough, and the same on every node."""

from __future__ import annotations

import hashlib

from raasel.config import Settings
from raasel.doctor.findings import Finding, is_multi_node

MIN_SECRET_KEY_CHARS = 32


def key_fingerprint(key: str) -> str:
    """A short digest operators compare across nodes (never the key itself)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def check_secret_key(settings: Settings) -> Finding:
    if settings.secret_key:
        if len(settings.secret_key) < MIN_SECRET_KEY_CHARS:
            return Finding(
                "secret key",
                "fail",
                f"RAASEL_SECRET_KEY has {len(settings.secret_key)} characters; use at least "
                f"{MIN_SECRET_KEY_CHARS} (openssl rand -hex 32)",
            )
        return Finding(
            "secret key",
            "ok",
            f"RAASEL_SECRET_KEY set, {key_fingerprint(settings.secret_key)}: every node must "
            "show the same fingerprint",
        )
    generated = settings.var_dir / "secret.key"
    if is_multi_node(settings):
        return Finding(
            "secret key",
            "fail",
            "RAASEL_SECRET_KEY is unset: each node would sign tokens with its own "
            f"{generated}, and a token from one node would fail on another; set the same "
            "key on every node",
        )
    where = "generated" if generated.exists() else "generated at the first start"
    return Finding("secret key", "ok", f"{where} in {generated} (one node)")
