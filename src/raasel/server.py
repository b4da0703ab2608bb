"""Serving: HTTPS + WSS on one port, plain HTTP on another that only redirects."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import uvicorn
from starlette.types import Receive, Scope, Send

from raasel.app import create_app
from raasel.config import Settings
from raasel.lib.tls import ensure_self_signed


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
        query = f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else ""
        location = f"https://{self.authority}{scope['path']}{query}"
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _tune_gc() -> None:
    """Python's cyclic GC took most of the CPU with thousands of sockets (docs/benchmarks.md):
    freeze what start-up made and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def serve(settings: Settings) -> None:
    cert, key = tls_files(settings)
    app = create_app(settings)
    https = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.https_port,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            ws="websockets-sansio",
            log_level="warning",
            lifespan="on",
            # Client addresses (rate limits per IP) from X-Forwarded-For, only from a
            # trusted proxy (RAASEL_FORWARDED_ALLOW_IPS).
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips or None,
            server_header=False,
        )
    )
    servers = [https]
    if settings.http_port:
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
    _tune_gc()
    await asyncio.gather(*(s.serve() for s in servers))


def run(settings: Settings) -> None:
    """Serve on uvloop: a faster event loop, and its TLS buffers are allocated, not
    zero-filled per connection as asyncio's 256 KiB ones are (docs/benchmarks.md)."""
    import uvloop

    uvloop.run(serve(settings))
