"""Serving: HTTPS + WSS on one port, plain HTTP on another that only redirects."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from raasel.api.socket.packet_limit import FRAME_LIMIT
from raasel.app import create_app
from raasel.config import Settings
from raasel.http_guard import GuardedWebSocket, HttpLimits, guarded
from raasel.lib.tls import ensure_self_signed

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def tls_files(settings: Settings) -> tuple[Path, Path]:
    """The configured certificate and key, or a self-signed pair made once under var/."""
    if settings.tls_cert_file and settings.tls_key_file:
        return settings.tls_cert_file, settings.tls_key_file
    cert = settings.var_dir / "tls" / "cert.pem"
    key = settings.var_dir / "tls" / "key.pem"
    ensure_self_signed(cert, key, settings.public_host)
    return cert, key


class RedirectToHttps:
    """Answers every plain-HTTP request with a permanent redirect to HTTPS."""

    def __init__(self, host: str, port: int) -> None:
        self.authority = host if port == 443 else f"{host}:{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        query = b"?" + scope["query_string"] if scope.get("query_string") else b""
        # The path as the client sent it (still percent-encoded), so any byte round-trips;
        # the decoded ``path`` may hold characters no header can carry (a 500 before).
        raw_path = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
        location = f"https://{self.authority}".encode("ascii") + raw_path + query
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", location), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


class MetricsOnly:
    """The separate metrics port (``RAASEL_METRICS_PORT``): /metrics, nothing else."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        found = scope["path"] == "/metrics"
        body = generate_latest() if found else b"not found\n"
        content_type = CONTENT_TYPE_LATEST if found else "text/plain"
        await send(
            {
                "type": "http.response.start",
                "status": 200 if found else 404,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _malloc_buffers_apart() -> None:
    """Every TLS connection gets a 256 KiB read buffer from uvloop, of which a page or two
    is ever touched. glibc's adaptive threshold put them inside the heap, where the
    pages around them fill with small allocations; a fixed 128 KiB threshold gives each
    its own mapping (measured: 1.5 KB less per idle connection; docs/benchmarks.md,
    "Idle memory"). glibc only; elsewhere nothing changes."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        return


def _tune_gc() -> None:
    """Python's cyclic GC took most of the CPU with thousands of sockets (docs/benchmarks.md):
    freeze what start-up made and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def check_plain_http(settings: Settings) -> None:
    """Plain HTTP only behind a proxy on this machine: never on a public interface."""
    try:
        is_loopback = ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        is_loopback = settings.host == "localhost"
    if not is_loopback:
        raise SystemExit(
            f"RAASEL_TLS=off needs RAASEL_HOST on loopback (127.0.0.1), not {settings.host!r}"
        )


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    if settings.tls == "off":
        check_plain_http(settings)
        tls: dict[str, str] = {}
    else:
        cert, key = tls_files(settings)
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    https = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.https_port,
            **tls,  # type: ignore[arg-type]
            # uvicorn's websockets-sansio protocol, counted per IP while open; frames
            # over 1 MiB close the connection (smaller oversized packets are answered).
            ws=GuardedWebSocket,
            ws_max_size=FRAME_LIMIT,
            # Engine.IO's heartbeat already watches every socket (RAASEL_HEARTBEAT_*);
            # uvicorn's own WebSocket pings would double the cost for nothing.
            ws_ping_interval=None,
            # No zlib contexts per socket unless asked for (RAASEL_WS_PER_MESSAGE_DEFLATE).
            ws_per_message_deflate=settings.ws_per_message_deflate,
            log_level="warning",
            lifespan="on",
            # Client addresses (rate limits per IP) from X-Forwarded-For, only from a
            # trusted proxy (RAASEL_FORWARDED_ALLOW_IPS).
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips or None,
            server_header=False,
            # Bounded connections (http_guard.py): header size and time, per-IP count;
            # idle keep-alive connections close after RAASEL_KEEP_ALIVE_SECONDS.
            http=guarded(
                HttpLimits(
                    max_header_bytes=settings.max_header_bytes,
                    header_timeout=settings.header_timeout_seconds,
                    per_ip=settings.connections_per_ip,
                )
            ),
            timeout_keep_alive=settings.keep_alive_seconds,
        )
    )
    servers = [https]
    if settings.http_port and settings.tls == "on":
        redirect = RedirectToHttps(settings.public_host, settings.https_port)
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    redirect,
                    host=settings.host,
                    port=settings.http_port,
                    log_level="warning",
                    lifespan="off",
                    server_header=False,
                )
            )
        )
    if settings.metrics_port:
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    MetricsOnly(),
                    host=settings.metrics_host,
                    port=settings.metrics_port,
                    log_level="warning",
                    lifespan="off",
                    server_header=False,
                )
            )
        )
    _tune_gc()
    _malloc_buffers_apart()
    await asyncio.gather(*(s.serve() for s in servers))


def run(settings: Settings) -> None:
    """Serve on uvloop: a faster event loop, and its TLS buffers are allocated, not
    zero-filled per connection as asyncio's 256 KiB ones are (docs/benchmarks.md).
    Every TLS server it starts cuts handshakes that take longer than
    ``RAASEL_TLS_HANDSHAKE_TIMEOUT_SECONDS`` (uvicorn has no setting for it)."""
    import uvloop

    class HandshakeBoundLoop(uvloop.Loop):
        async def create_server(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("ssl") is not None:
                kwargs.setdefault("ssl_handshake_timeout", settings.tls_handshake_timeout_seconds)
            return await super().create_server(*args, **kwargs)

    uvloop.run(serve(settings), loop_factory=HandshakeBoundLoop)
