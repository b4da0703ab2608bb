"""The composition root: builds the stores, the event bus and the ASGI app from settings."""

from __future__ import annotations

import asyncio
import contextlib
import functools
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
from raasel.actions import community, group_delivery, team_rooms
from raasel.actions.attachments import run_retention
from raasel.actions.auth import reload_actor
from raasel.actions.away import run_presence_sweep
from raasel.actions.channel_inbound_queue import InboundWorker
from raasel.actions.channel_outbound import OutboundSender
from raasel.actions.channel_runtime import ChannelRuntime
from raasel.actions.context import Actor, Services
from raasel.api.middleware import BodySizeLimit, RequestMetrics, SecurityHeaders
from raasel.api.rest import (
    attachments,
    auth,
    billing,
    channels,
    conversations,
    direct,
    directory,
    health,
    mail,
    orgs,
)
from raasel.api.rest import b2b as b2b_routes
from raasel.api.rest import community as community_routes
from raasel.api.rest import outreach as outreach_routes
from raasel.api.rest import platform as platform_routes
from raasel.api.rest import team_rooms as team_room_routes
from raasel.api.rest import tickets as ticket_routes
from raasel.api.rest.inbox import install as install_inbox
from raasel.api.socket.packet_limit import FRAME_LIMIT, PACKET_LIMIT, BoundedSocketServer
from raasel.api.socket.server import SocketApi
from raasel.config import Settings
from raasel.errors import RaaselError
from raasel.lib import ids
from raasel.mail.outbox import MailOutbox
from raasel.mail.transport import build_transport
from raasel.realtime.bus import EventBus
from raasel.realtime.connections import Connections
from raasel.realtime.local_manager import LeanManager
from raasel.realtime.redis_fanout import RedisFanout
from raasel.storage.attachment_files import LocalAttachmentFiles
from raasel.storage.database import Database
from raasel.storage.ephemeral import EphemeralState, MemoryEphemeralState
from raasel.storage.message_log import MessageLog
from raasel.storage.message_store import MessageStore
from raasel.storage.sql_message_store import SqlMessageStore

log = structlog.get_logger(__name__)

JSON_BODY_LIMIT = 64 * 1024


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
    store = build_message_store(settings, db)
    message_log = MessageLog(store, db)
    db.shares_messages = store.shares_metadata_transaction
    db.after_commit = message_log.copy_to_store
    return Services(
        settings=settings,
        db=db,
        messages=store,
        ephemeral=build_ephemeral_state(settings),
        files=LocalAttachmentFiles(settings.resolved_attachments_dir),
        message_log=message_log,
        mailer=MailOutbox(db, build_transport(settings)),
        channels=ChannelRuntime.from_settings(settings),
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
    """Socket.IO's fan-out: to the nodes that hold each event's rooms, through Redis, or
    within this process (realtime/redis_fanout.py)."""
    if not settings.redis_url:
        return LeanManager()
    return RedisFanout(
        settings.redis_url, prefix=settings.redis_prefix, node_ttl=settings.presence_ttl_seconds
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


async def embed_origins_of(svc: Services, org_slug: str) -> list[str]:
    """The sites an organization lets embed its widget (its ``embed_origins`` setting)."""
    from raasel.actions.directory import embed_origins

    return await embed_origins(svc, org_slug)


def is_allowed_origin(settings: Settings, origin: str | None, environ: dict[str, Any]) -> bool:
    """Which browser pages may open a Socket.IO connection: the server's own origin
    always (the one the request came to, and ``RAASEL_PUBLIC_URL``), plus those of
    ``RAASEL_CORS_ORIGINS``. Setting the list used to refuse the web app itself, and live
    updates silently died (docs/security.md)."""
    if origin is None:
        return True  # not a browser page (native clients send no Origin)
    scheme = environ.get("wsgi.url_scheme", "https")
    host = environ.get("HTTP_HOST", "")
    own = {f"{scheme}://{host}", settings.resolved_public_url}
    return origin in own or origin in settings.cors_origins


async def _stored_rooms(svc: Services, actor: Actor) -> list[str]:
    """The rooms a socket joins by stored membership: an individual's community
    channels, a console's team rooms (each answers nothing for the other kind)."""
    return await community.rooms_of_person(svc, actor) + await team_rooms.rooms_of_agent(svc, actor)


async def _publish_and_ring(bus: EventBus, outbound: OutboundSender, events: list[Any]) -> None:
    """Publish, and ring the channel sender when the organization's side wrote into a
    social channel's conversation: it looks for replies to send to a platform (the
    messages are its outbox, see actions/channel_outbound.py)."""
    await bus.publish(events)
    if any(event.for_channel for event in events):
        outbound.wake()


def create_app(settings: Settings, services: Services | None = None) -> ASGIApp:
    """The whole node as one ASGI app: REST under /api, Socket.IO under /socket.io."""
    svc = services or build_services(settings)
    origins = settings.cors_origins
    # Packets over 64 KiB are answered payload_too_large (api/socket/packet_limit.py);
    # Engine.IO and the WebSocket refuse frames over 1 MiB by closing the connection.
    sio = BoundedSocketServer(
        async_mode="asgi",
        cors_allowed_origins=functools.partial(is_allowed_origin, settings),
        packet_limit=PACKET_LIMIT,
        max_http_buffer_size=FRAME_LIMIT,
        # A lost connection is noticed within ~5 s on both ends (docs/protocol.md).
        ping_interval=settings.heartbeat_interval_seconds,
        ping_timeout=settings.heartbeat_timeout_seconds,
        logger=False,
        engineio_logger=False,
        client_manager=(manager := build_client_manager(settings)),
    )
    fanout = manager if isinstance(manager, RedisFanout) else None
    connections = Connections(
        sio,
        reload=functools.partial(reload_actor, svc),
        recheck_seconds=settings.access_token_ttl_seconds,
        link=fanout,
        extra_rooms=functools.partial(_stored_rooms, svc),
        members_among=functools.partial(group_delivery.members_among, svc),
    )
    # Group rooms are delivered to as of each event's membership (realtime/room_screen.py).
    bus = EventBus(sio, screen=connections.screen)
    if fanout is not None:
        fanout.screen = connections.screen
    socket_api = SocketApi(sio, svc, bus, connections)
    # The committer publishes every unit's events after COMMIT, in commit order.
    svc.db.publisher = bus.publish
    inbound = outbound = None
    if svc.channels is not None:
        inbound, outbound = InboundWorker(svc, svc.channels), OutboundSender(svc, svc.channels)
        svc.db.publisher = functools.partial(_publish_and_ring, bus, outbound)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if fanout is not None:
            fanout.start()
        await svc.message_log.recover()  # what a crash left in the outbox
        if svc.mailer is not None:
            if not settings.smtp_host:
                log.warning(
                    "no SMTP server (RAASEL_SMTP_HOST): mails are written to a folder",
                    folder=str(settings.outbox_dir),
                )
            svc.mailer.start()  # and mail a previous run queued but did not deliver
        if inbound is not None and outbound is not None:
            inbound.start()  # and what a killed node left in the webhook queue
            outbound.start()
        retention = asyncio.create_task(
            run_retention(svc, settings.retention_sweep_seconds), name="attachment-retention"
        )
        presence_sweep = asyncio.create_task(
            run_presence_sweep(svc, bus.publish), name="presence-sweep"
        )
        yield
        presence_sweep.cancel()
        retention.cancel()
        for worker in (inbound, outbound):
            if worker is not None:
                await worker.close()
        if svc.channels is not None:
            await svc.channels.graph.close()
        if svc.mailer is not None:
            await svc.mailer.close()
        await connections.close()
        if fanout is not None:
            await fanout.close()
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
    api.state.connections = connections
    _install_error_handlers(api)
    for module in (
        auth,
        orgs,
        conversations,
        direct,
        directory,
        attachments,
        billing,
        channels,
        health,
        mail,
    ):
        api.include_router(module.router)
    api.include_router(auth.me_router)
    api.include_router(outreach_routes.router)
    api.include_router(b2b_routes.router)
    api.include_router(platform_routes.router)
    api.include_router(community_routes.router)
    api.include_router(team_room_routes.router)
    api.include_router(ticket_routes.router)
    install_inbox(api, svc)  # the team inbox's routes and live view counts
    _mount_web(api, settings)
    if origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app: ASGIApp = socketio.ASGIApp(
        sio, other_asgi_app=RequestMetrics(api), socketio_path="socket.io"
    )
    app = BodySizeLimit(app, JSON_BODY_LIMIT, settings.attachment_max_bytes)
    return SecurityHeaders(app, embed_ancestors=functools.partial(embed_origins_of, svc))


# First path segments the web app routes itself (web/src/main.tsx): they answer index.html.
WEB_APP_ROUTES = frozenset(
    {"agent", "admin", "operator", "verify-email", "reset-password", "invitation", "direct"}
)


def _mount_web(api: FastAPI, settings: Settings) -> None:
    """Serve the built web app (web/dist) when it exists; the API works without it.

    /widget.js, the embeddable widget's loader, is one of the built files; compression
    and cache headers: api/web_assets.py."""
    from raasel.api.web_assets import WebAssets

    dist = Path(__file__).resolve().parents[2] / "web" / "dist"
    if dist.is_dir():
        api.mount("/", WebAssets(dist, WEB_APP_ROUTES), name="web")
    else:

        @api.get("/", include_in_schema=False)
        async def index() -> dict[str, Any]:
            return {"name": "Raasel", "version": __version__, "api": "/openapi.json"}
