"""Accounts and sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from raasel.actions import auth, invitations, password_reset, registration
from raasel.actions.context import Services
from raasel.api.deps import ActorDep, AnyActorDep, ClientIp, ConnectionsDep, ServicesDep
from raasel.api.schemas import (
    AcceptInvitationBody,
    ForgotPasswordBody,
    InvitationTokenBody,
    LoginBody,
    RefreshBody,
    RegisterBody,
    ResendVerificationBody,
    ResetPasswordBody,
    VerifyEmailBody,
    VisitorBody,
)
from raasel.errors import Forbidden, Unauthenticated
from raasel.realtime.connections import Revocation

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/register", status_code=202)
async def register(body: RegisterBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """Start a sign-up: a verification link goes to the address (or, if it has an account
    already, a notice to its holder). The answer is the same either way."""
    return await registration.do_register_individual(
        svc, body.email.lower(), body.password, body.display_name, ip
    )


@router.post("/verify-email")
async def verify_email(body: VerifyEmailBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """The mailed link's token and the password chosen at sign-up: creates the account
    and answers a session."""
    return await registration.do_verify_email(svc, body.token, body.password, ip)


@router.post("/verify-email/resend", status_code=202)
async def resend_verification(
    body: ResendVerificationBody, svc: ServicesDep, ip: ClientIp
) -> dict[str, Any]:
    """Mail the verification link again (a pending sign-up's, or one that proves an
    older account's address); the answer is the same for every address."""
    return await registration.do_resend_verification(svc, body.email.lower(), ip)


@router.post("/password/forgot", status_code=202)
async def forgot_password(
    body: ForgotPasswordBody, svc: ServicesDep, ip: ClientIp
) -> dict[str, Any]:
    """Mail a reset link if the address has an account; the answer is the same if not."""
    return await password_reset.do_request_password_reset(svc, body.email.lower(), ip)


@router.post("/password/reset")
async def reset_password(
    body: ResetPasswordBody, svc: ServicesDep, connections: ConnectionsDep, ip: ClientIp
) -> dict[str, Any]:
    """Set a new password with the mailed link's token: every session of the account ends
    (its sockets too, on every node); answers a new session."""
    session, revoked = await password_reset.do_reset_password(svc, body.token, body.password, ip)
    for session_id in revoked:
        await connections.revoke(Revocation.session(session_id, "revoked"))
    return session


@router.post("/login")
async def login(body: LoginBody, svc: ServicesDep, ip: ClientIp) -> dict[str, Any]:
    """Log in as an individual, or as a member of ``organization`` (its slug)."""
    return await auth.do_login(svc, body.email.lower(), body.password, body.organization, ip)


@router.post("/refresh")
async def refresh(
    body: RefreshBody, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    """Trade a refresh token for a new pair; the old one stops working. A replayed one
    revokes the session, and its sockets are dropped on every node."""
    try:
        return await auth.do_refresh_session(svc, body.refresh_token)
    except auth.SessionRevoked as exc:
        await connections.revoke(Revocation.session(exc.session_id, "revoked"))
        raise


@router.post("/logout", status_code=204)
async def logout(actor: AnyActorDep, svc: ServicesDep, connections: ConnectionsDep) -> None:
    """End this session: its tokens stop working and its sockets, on every node, are
    disconnected."""
    await auth.do_logout(svc, actor)
    await connections.revoke(Revocation.session(actor.session_id, "logged_out"))


WIDGET_COOKIE = "raasel_widget"
WIDGET_COOKIE_PATH = "/api/v1/auth/widget"


def _keep_in_cookie(response: Response, svc: Services, session: dict[str, Any]) -> None:
    """The widget's refresh token in a cookie only Raasel's origin reads: HttpOnly, and
    ``Partitioned`` (CHIPS), so browsers that refuse a third-party frame its storage still
    keep it, per embedding site (docs/decisions.md, "The widget's session stays in its
    frame")."""
    # Built by hand: the standard library's cookies know ``Partitioned`` from 3.14 only.
    response.headers.append(
        "set-cookie",
        f"{WIDGET_COOKIE}={session['refresh_token']}; Max-Age="
        f"{svc.settings.refresh_token_ttl_seconds}; Path={WIDGET_COOKIE_PATH}; Secure; "
        "HttpOnly; SameSite=None; Partitioned",
    )


@router.post("/visitor", status_code=201)
async def visitor(
    body: VisitorBody, svc: ServicesDep, ip: ClientIp, response: Response
) -> dict[str, Any]:
    """An anonymous widget visitor of one organization (``keep``: remembered in the
    widget's cookie, see ``/auth/widget/resume``)."""
    session = await auth.do_start_visitor(
        svc, body.organization, body.display_name, ip, email=body.email
    )
    if body.keep:
        _keep_in_cookie(response, svc, session)
    return session


@router.post("/widget/resume")
async def resume_widget(
    request: Request, response: Response, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    """The widget frame's session after a reload, from its cookie (rotated like a refresh
    token). Only from Raasel's own pages: a request whose Origin is another site (the
    host page itself) is refused."""
    origin = request.headers.get("origin")
    own = {
        f"{request.url.scheme}://{request.headers.get('host', '')}",
        svc.settings.resolved_public_url,
    }
    if origin not in own:
        raise Forbidden("only the widget's own frame may resume its session")
    token = request.cookies.get(WIDGET_COOKIE)
    if not token or len(token) > 200:
        raise Unauthenticated("no widget session to resume", code="invalid_token")
    try:
        session = await auth.do_refresh_session(svc, token)
    except auth.SessionRevoked as exc:
        await connections.revoke(Revocation.session(exc.session_id, "revoked"))
        raise
    _keep_in_cookie(response, svc, session)
    return session


me_router = APIRouter(prefix="/api/v1", tags=["auth"])


@me_router.post("/invitations/preview")
async def preview_invitation(
    body: InvitationTokenBody, svc: ServicesDep, ip: ClientIp
) -> dict[str, Any]:
    """What an invitation link offers: the organization, the role, and whether the
    address has an account (log in) or not (choose a password)."""
    return await invitations.preview_invitation(svc, body.token, ip)


@me_router.post("/invitations/accept")
async def accept_invitation(
    body: AcceptInvitationBody, svc: ServicesDep, ip: ClientIp
) -> dict[str, Any]:
    """Join the organization: with the existing account's password, or a new password
    (and name) for a new account. Answers a session acting as the new member."""
    return await invitations.do_accept_invitation(
        svc, body.token, body.password, body.display_name, ip
    )


@me_router.get("/me")
async def me(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """Who the token speaks for, and in which organization and role."""
    return await auth.describe_actor(svc, actor)
