"""Pure ASGI middleware (not BaseHTTPMiddleware, which breaks contextvars and streaming):
security headers and a request-body size limit."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)
# The widget's frame (web/widget.html) is the one page other sites may embed: any site
# that adds the <script src=".../widget.js"> tag shows it in an iframe (docs/decisions.md).
EMBEDDABLE_PATHS = frozenset({"/widget.html"})
_EMBED_CSP = _CSP.replace("frame-ancestors 'none'", "frame-ancestors *")


class SecurityHeaders:
    """HSTS, nosniff, CSP, referrer and framing policies on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        is_embeddable = scope["path"] in EMBEDDABLE_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", (_EMBED_CSP if is_embeddable else _CSP).encode()),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ):
                    if is_embeddable and name == b"x-frame-options":
                        continue
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` (uploads get ``upload_bytes``) with 413,
    before they reach a handler, whether or not Content-Length tells the truth."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/socket.io"):
            await self.app(scope, receive, send)
            return
        limit = (
            self.upload_bytes + 64 * 1024
            if scope["path"].endswith("/attachments")
            else self.max_bytes
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(send, limit)
                return
        seen = 0
        started = refused = False

        async def counting_receive() -> Message:
            # Answer 413 here rather than raise: the app would turn an error from its
            # body read into a 400. The app then sees the client gone; what it sends
            # afterwards is dropped.
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        started = True
                        await _too_large(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


async def _too_large(send: Send, limit: int) -> None:
    body: dict[str, Any] = {
        "error": {"code": "payload_too_large", "message": f"request body over {limit} bytes"}
    }
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
