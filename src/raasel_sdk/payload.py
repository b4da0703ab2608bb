"""The plaintext inside every envelope, as the web app writes it (web/src/e2e/payload.ts):
UTF-8 compact JSON, then Signal's padding (one 0x80 byte, then 0x00 up to the next
multiple of 160 bytes)."""

from __future__ import annotations

import json
from typing import Any

PAD_BLOCK = 160


class PayloadError(ValueError):
    pass


def pad(data: bytes) -> bytes:
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % PAD_BLOCK)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise PayloadError("bad padding")
    return stripped[:-1]


def encode(content: dict[str, Any]) -> bytes:
    return pad(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode())


def decode(data: bytes) -> dict[str, Any]:
    try:
        content = json.loads(unpad(data).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("not a payload") from exc
    if not isinstance(content, dict) or content.get("v") != 1:
        raise PayloadError("unknown payload version")
    return content


def text(value: str, *, resend_of: str | None = None) -> bytes:
    content: dict[str, Any] = {"v": 1, "t": "text", "text": value}
    if resend_of is not None:
        content["resend_of"] = resend_of
    return encode(content)


def resend_request(client_id: str) -> bytes:
    return encode({"v": 1, "t": "resend", "client_id": client_id})
