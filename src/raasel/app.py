"""The composition root: builds the stores, the event bus and the ASGI app from settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import socketio
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from raasel import __version__
from raasel.actions.context import Services
from raasel.api.middleware import BodySizeLimit, SecurityHeaders
from raasel.api.rest import attachments, auth, conversations, directory, health, orgs
from raasel.api.socket.server import SocketApi
from raasel.config import Settings
from raasel.errors import RaaselError
from raasel.lib import ids
from raasel.realtime.bus import EventBus
from raasel.storage.attachment_files import LocalAttachmentFiles
from raasel.storage.database import Database
from raasel.storage.ephemeral import MemoryEphemeralState
from raasel.storage.sql_message_store import SqlMessageStore

log = structlog.get_logger(__name__)

JSON_BODY_LIMIT = 64 * 1024
SOCKET_PAYLOAD_LIMIT = 64 * 1024


def build_services(settings: Settings) -> Services:
    ids.configure(settings.node_id)
    db = Database(
        settings.resolved_database_url,
        synchronous=settings.sqlite_synchronous,
        window_ms=settings.group_commit_window_ms,
    )
    return Services(
        settings=settings,
        db=db,
        messages=SqlMessageStore(db),
        ephemeral=MemoryEphemeralState(),
        files=LocalAttachmentFiles(settings.resolved_attachments_dir),
    )


def _error_response(exc: RaaselError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status, headers=headers)


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(RaaselError)
    async def on_raasel_error(_: Request, exc: RaaselError) -> JSONResponse:
        return _error_response(exc)

    @api.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        body = {
            "error": {"code": "validation_error", "message": "invalid request", "details": details}
        }
        return JSONResponse(body, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code
        )

    @api.exception_handler(Exception)
    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed", error=type(exc).__name__)
        return JSONResponse(
            {"error": {"code": "internal", "message": "internal error"}}, status_code=500
        )


def create_app(settings: Settings, services: Services | None = None) -> ASGIApp:
    """The whole node as one ASGI app: REST under /api, Socket.IO under /socket.io."""
    svc = services or build_services(settings)
    origins = settings.cors_origins
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=origins or [],
        max_http_buffer_size=SOCKET_PAYLOAD_LIMIT,
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
    )
    bus = EventBus(sio)
    socket_api = SocketApi(sio, svc, bus)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await svc.messages.close()
        await svc.ephemeral.close()
        await svc.db.close()

    api = FastAPI(
        title="Raasel",
        version=__version__,
        description="Multi-tenant real-time messaging and customer support. See docs/protocol.md.",
        lifespan=lifespan,
    )
    api.state.services = svc
    api.state.bus = bus
    api.state.socket_api = socket_api
    _install_error_handlers(api)
    for module in (auth, orgs, conversations, directory, attachments, health):
        api.include_router(module.router)
    api.include_router(auth.me_router)
    _mount_web(api, settings)
    if origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app: ASGIApp = socketio.ASGIApp(sio, other_asgi_app=api, socketio_path="socket.io")
    app = BodySizeLimit(app, JSON_BODY_LIMIT, settings.attachment_max_bytes)
    return SecurityHeaders(app)


def _mount_web(api: FastAPI, settings: Settings) -> None:
    """Serve the built web app (web/dist) when it exists; the API works without it."""
    from fastapi.staticfiles import StaticFiles

    dist = Path(__file__).resolve().parents[2] / "web" / "dist"
    if dist.is_dir():
        api.mount("/", StaticFiles(directory=dist, html=True), name="web")
    else:

        @api.get("/", include_in_schema=False)
        async def index() -> dict[str, Any]:
            return {"name": "Raasel", "version": __version__, "api": "/openapi.json"}
