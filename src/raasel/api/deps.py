"""FastAPI dependencies: the services, the authenticated actor, the client's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from raasel.actions.auth import resolve_actor
from raasel.actions.context import Actor, Services
from raasel.errors import Forbidden, NotFound, Unauthenticated
from raasel.realtime.bus import EventBus
from raasel.realtime.connections import Connections

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_any_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Any session, an operator's too (logout)."""
    if credentials is None:
        raise Unauthenticated("missing bearer token")
    return await resolve_actor(get_services(request), credentials.credentials)


async def get_actor(actor: Annotated[Actor, Depends(get_any_actor)]) -> Actor:
    """An individual's, a visitor's or a member's session: an operator's session reaches
    only the platform routes (api/rest/platform.py)."""
    if actor.is_operator:
        raise Forbidden(
            "an operator's session reaches only the platform console", code="operator_session"
        )
    return actor


async def get_operator(actor: Annotated[Actor, Depends(get_any_actor)]) -> Actor:
    """A platform operator's session; anyone else is told the route does not exist."""
    if not actor.is_operator:
        raise NotFound("not found")
    return actor


async def get_optional_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    """The caller if a bearer token came (it must then be valid), else None (public routes)."""
    if credentials is None:
        return None
    return await get_actor(await resolve_actor(get_services(request), credentials.credentials))


def get_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


def get_connections(request: Request) -> Connections:
    connections: Connections = request.app.state.connections
    return connections


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ServicesDep = Annotated[Services, Depends(get_services)]
ActorDep = Annotated[Actor, Depends(get_actor)]
AnyActorDep = Annotated[Actor, Depends(get_any_actor)]
OperatorDep = Annotated[Actor, Depends(get_operator)]
OptionalActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
ClientIp = Annotated[str, Depends(client_ip)]
BusDep = Annotated[EventBus, Depends(get_bus)]
ConnectionsDep = Annotated[Connections, Depends(get_connections)]
