"""Pure ASGI middleware (not BaseHTTPMiddleware, which breaks contextvars and streaming):
security headers, a request-body size limit and the REST request metric."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raasel.lib.content_types import too_large_message
from raasel.observability import HTTP_REQUESTS

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)
# The widget's frame (web/widget.html) is the one page other sites may embed, and only
# the sites its organization lists (settings.embed_origins): its frame-ancestors names
# them (docs/security.md). Unlisted: nobody but Raasel itself may frame it.
EMBEDDABLE_PATHS = frozenset({"/widget.html"})
EmbedAncestors = Callable[[str], Awaitable[list[str]]]


def _embed_csp(origins: list[str]) -> bytes:
    ancestors = " ".join(["'self'", *origins])
    return _CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}").encode()


class SecurityHeaders:
    """HSTS, nosniff, CSP, referrer and framing policies on every HTTP response.

    ``embed_ancestors(org_slug)``: the origins that organization lets embed its widget."""

    def __init__(self, app: ASGIApp, embed_ancestors: EmbedAncestors | None = None) -> None:
        self.app = app
        self.embed_ancestors = embed_ancestors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        is_embeddable = scope["path"] in EMBEDDABLE_PATHS
        csp = _CSP.encode()
        if is_embeddable:
            slug = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("org", [""])[0]
            origins = await self.embed_ancestors(slug) if self.embed_ancestors and slug else []
            csp = _embed_csp(origins)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", csp),
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
        is_upload = scope["path"].endswith("/attachments")
        limit = self.upload_bytes + 64 * 1024 if is_upload else self.max_bytes
        # For people: an upload's refusal names the file limit (lib/content_types.py).
        refusal = too_large_message(self.upload_bytes) if is_upload else None
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(send, limit, refusal)
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
                        await _too_large(send, limit, refusal)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


async def _too_large(send: Send, limit: int, message: str | None = None) -> None:
    text = message or f"request body over {limit} bytes"
    body: dict[str, Any] = {"error": {"code": "payload_too_large", "message": text}}
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


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """``raasel_http_request_seconds{method,status}``: every REST and web-app request,
    from the first byte handled to the response's start. Labels are bounded: a method
    nobody uses is ``other``; paths are not a label (ids would make one series each)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope.get("method", "")
        method = method if method in _METHODS else "other"
        observed = False

        async def timed(message: Message) -> None:
            nonlocal observed
            if message["type"] == "http.response.start" and not observed:
                observed = True
                HTTP_REQUESTS.labels(method, str(message["status"])).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            if not observed:  # the client went away, or the app raised before answering
                HTTP_REQUESTS.labels(method, "none").observe(time.perf_counter() - started)
