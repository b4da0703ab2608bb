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
from raasel.api.rest import attachments, auth, billing, conversations, directory, health, orgs
from raasel.api.socket.server import SocketApi
from raasel.config import Settings
from raasel.errors import RaaselError
from raasel.lib import ids
from raasel.realtime.bus import EventBus
from raasel.storage.attachment_files import LocalAttachmentFiles
from raasel.storage.database import Database
from raasel.storage.ephemeral import EphemeralState, MemoryEphemeralState
from raasel.storage.message_store import MessageStore
from raasel.storage.sql_message_store import SqlMessageStore

log = structlog.get_logger(__name__)

JSON_BODY_LIMIT = 64 * 1024
SOCKET_PAYLOAD_LIMIT = 64 * 1024


def build_message_store(settings: Settings, db: Database) -> MessageStore:
    """RAASEL_MESSAGE_STORE: the SQL database itself, or Cassandra/ScyllaDB."""
    if settings.message_store == "cassandra":
        from raasel.storage.cassandra_message_store import CassandraMessageStore
        from raasel.storage.cassandra_session import CassandraOptions

        return CassandraMessageStore(CassandraOptions.from_settings(settings))
    return SqlMessageStore(db)


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
        messages=build_message_store(settings, db),
        ephemeral=build_ephemeral_state(settings),
        files=LocalAttachmentFiles(settings.resolved_attachments_dir),
    )


def build_ephemeral_state(settings: Settings) -> EphemeralState:
    """Redis when nodes share state (``RAASEL_REDIS_URL``), else this process's memory."""
    if not settings.redis_url:
        return MemoryEphemeralState()
    from raasel.storage.redis_ephemeral import RedisEphemeralState

    return RedisEphemeralState(
        settings.redis_url,
        prefix=settings.redis_prefix,
        presence_ttl=settings.presence_ttl_seconds,
    )


def build_client_manager(settings: Settings) -> socketio.AsyncManager:
    """Socket.IO's fan-out: through Redis to every node, or within this process."""
    if not settings.redis_url:
        return socketio.AsyncManager()
    from raasel.realtime.redis_fanout import RedisFanout

    return RedisFanout(settings.redis_url, channel=f"{settings.redis_prefix}socketio")


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
        client_manager=build_client_manager(settings),
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
    for module in (auth, orgs, conversations, directory, attachments, billing, health):
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


# First path segments the web app routes itself (web/src/main.tsx): they answer index.html.
WEB_APP_ROUTES = frozenset({"agent", "admin"})


def _mount_web(api: FastAPI, settings: Settings) -> None:
    """Serve the built web app (web/dist) when it exists; the API works without it.

    /widget.js, the embeddable widget's loader, is one of the built files."""
    from fastapi.staticfiles import StaticFiles
    from starlette.responses import Response
    from starlette.types import Scope

    class WebApp(StaticFiles):
        async def get_response(self, path: str, scope: Scope) -> Response:
            if path.split("/", 1)[0] in WEB_APP_ROUTES:
                path = "index.html"
            return await super().get_response(path, scope)

    dist = Path(__file__).resolve().parents[2] / "web" / "dist"
    if dist.is_dir():
        api.mount("/", WebApp(directory=dist, html=True), name="web")
    else:

        @api.get("/", include_in_schema=False)
        async def index() -> dict[str, Any]:
            return {"name": "Raasel", "version": __version__, "api": "/openapi.json"}
