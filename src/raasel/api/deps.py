"""FastAPI dependencies: the services, the authenticated actor, the client's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from raasel.actions.auth import resolve_actor
from raasel.actions.context import Actor, Services
from raasel.api.socket.server import SocketApi
from raasel.errors import Unauthenticated
from raasel.realtime.bus import EventBus

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise Unauthenticated("missing bearer token")
    return await resolve_actor(get_services(request), credentials.credentials)


async def get_optional_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    """The caller if a bearer token came (it must then be valid), else None (public routes)."""
    if credentials is None:
        return None
    return await resolve_actor(get_services(request), credentials.credentials)


def get_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


def get_sockets(request: Request) -> SocketApi:
    sockets: SocketApi = request.app.state.socket_api
    return sockets


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ServicesDep = Annotated[Services, Depends(get_services)]
ActorDep = Annotated[Actor, Depends(get_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
ClientIp = Annotated[str, Depends(client_ip)]
BusDep = Annotated[EventBus, Depends(get_bus)]
SocketsDep = Annotated[SocketApi, Depends(get_sockets)]
