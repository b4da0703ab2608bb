"""Accounts and sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raasel.actions import auth
from raasel.api.deps import ActorDep, ClientIp, ServicesDep, SocketsDep
from raasel.api.schemas import LoginBody, RefreshBody, RegisterBody, VisitorBody

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/register", status_code=201)
async def register(body: RegisterBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """Create an individual's account; answers a session."""
    return await auth.do_register_individual(
        svc, body.email.lower(), body.password, body.display_name, ip
    )


@router.post("/login")
async def login(body: LoginBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """Log in as an individual, or as a member of ``organization`` (its slug)."""
    return await auth.do_login(svc, body.email.lower(), body.password, body.organization, ip)


@router.post("/refresh")
async def refresh(body: RefreshBody, svc: ServicesDep) -> dict[str, Any]:
    """Trade a refresh token for a new pair; the old one stops working."""
    return await auth.do_refresh_session(svc, body.refresh_token)


@router.post("/logout", status_code=204)
async def logout(actor: ActorDep, svc: ServicesDep, sockets: SocketsDep) -> None:
    """End this session: its tokens stop working and its sockets are disconnected."""
    await auth.do_logout(svc, actor)
    await sockets.drop(lambda a: a.session_id == actor.session_id)


@router.post("/visitor", status_code=201)
async def visitor(body: VisitorBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """An anonymous widget visitor of one organization."""
    return await auth.do_start_visitor(svc, body.organization, body.display_name, ip)


me_router = APIRouter(prefix="/api/v1", tags=["auth"])


@me_router.get("/me")
async def me(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Who the token speaks for, and in which organization and role."""
    return await auth.describe_actor(svc, actor)
