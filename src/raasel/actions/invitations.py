"""Invitations: how anyone joins an organization through the API (SPEC 2.7).

An admin invites an address; the holder gets a signed, expiring, single-use link by
mail and accepts it: with the existing account's password (the account joins only
then), or by choosing one (the account is made, its address proved by the link). The
answer to an invitation never says whether the address has an account (no enumeration
oracle); an organization can never attach somebody's account by itself.
docs/security.md, "Accounts".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from raasel.actions import audit
from raasel.actions.access import require_role
from raasel.actions.auth import issue_session
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.actions.mail import link, mail_committed, may_mail, queue_mail
from raasel.actions.members import check_groups, check_may_grant, insert_person, join_org
from raasel.domain import Role
from raasel.errors import (
    Conflict,
    InvalidLink,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from raasel.lib import passwords, signing
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import invitations, organizations, people
from raasel.storage.records import Invitation
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx

PURPOSE = "invitation"


def invitation_view(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "org_id": invitation.org_id,
        "email": invitation.email,
        "display_name": invitation.display_name,
        "role": invitation.role,
        "capacity": invitation.capacity,
        "group_ids": list(invitation.group_ids),
        "status": invitation.status,
        "invited_by": invitation.invited_by,
        "expires_at": invitation.expires_at.isoformat(),
        "created_at": invitation.created_at.isoformat(),
    }


async def do_invite_member(
    svc: Services, actor: Actor, org_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Invite ``fields["email"]`` with a role; replaces the address's earlier invitation."""
    require_role(actor, org_id, Role.ADMIN)
    check_may_grant(actor, fields["role"])
    email: str = fields["email"]
    await check_rate(svc, "invite", f"org:{org_id}", what="invitations; retry later")
    if not await may_mail(svc, email):
        # Every address has this limit, account or not: telling it is no oracle.
        raise RateLimited("too many mails to this address; retry later", retry_after=3600)
    ttl = svc.settings.invitation_ttl_seconds

    async def work(conn: Tx) -> dict[str, Any]:
        org = await organizations.get_org(conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        group_ids: list[str] = fields.get("group_ids", [])
        await check_groups(conn, org_id, group_ids)
        user = await people.get_user_by_email(conn, email)
        if user is not None:
            membership = await people.get_membership(conn, org_id, user.id)
            if membership is not None and membership.is_active:
                # Admins see their members anyway: this tells nothing new.
                raise Conflict("already a member", code="already_member")
        await invitations.revoke_pending_for(conn, org_id, email)
        invitation_id, nonce, now = new_str_id(), signing.new_nonce(), utcnow()
        await invitations.insert_invitation(
            conn,
            {
                "id": invitation_id,
                "org_id": org_id,
                "email": email,
                "display_name": fields["display_name"],
                "role": fields["role"],
                "capacity": fields.get("capacity", 5),
                "group_ids": group_ids,
                "invited_by": actor.user_id,
                "nonce": nonce,
                "status": invitations.PENDING,
                "expires_at": now + timedelta(seconds=ttl),
                "created_at": now,
            },
        )
        token = signing.link_token(svc.settings.resolved_secret_key, PURPOSE, invitation_id, nonce)
        await queue_mail(
            conn,
            svc,
            "invitation",
            email,
            {
                "name": fields["display_name"],
                "inviter": actor.display_name,
                "org": org.name,
                "role": fields["role"],
                "link": link(svc, "invitation", token),
                "days": str(max(1, ttl // 86400)),
            },
        )
        await audit.record(
            conn, org_id, actor.user_id, "member.invite", invitation_id, {"role": fields["role"]}
        )
        found = await invitations.get_org_invitation(conn, org_id, invitation_id)
        assert found is not None
        return invitation_view(found)

    result = await svc.db.write(work)
    mail_committed(svc)
    return result


async def list_invitations(svc: Services, actor: Actor, org_id: str) -> list[dict[str, Any]]:
    require_role(actor, org_id, Role.ADMIN)
    async with svc.db.read(actor.scope) as conn:
        pending = await invitations.list_pending(conn, org_id, utcnow())
    return [invitation_view(i) for i in pending]


async def do_revoke_invitation(
    svc: Services, actor: Actor, org_id: str, invitation_id: str
) -> None:
    require_role(actor, org_id, Role.ADMIN)

    async def work(conn: Tx) -> None:
        found = await invitations.get_org_invitation(conn, org_id, invitation_id)
        if found is None or not await invitations.set_status(conn, found.id, invitations.REVOKED):
            raise NotFound("invitation not found")
        await audit.record(conn, org_id, actor.user_id, "invitation.revoke", found.id, {})

    await svc.db.write(work)


async def _read(svc: Services, token: str) -> Invitation:
    """The pending, unexpired invitation the token names, or InvalidLink."""
    parts = signing.split_link_token(token)
    if parts is not None:
        invitation_id, signature = parts
        async with svc.db.read(
            CrossTenant("an invitation link, read before the invitee signs in")
        ) as conn:
            found = await invitations.get_invitation(conn, invitation_id)
        if (
            found is not None
            and signing.matches(
                svc.settings.resolved_secret_key, PURPOSE, signature, found.id, found.nonce
            )
            and found.status == invitations.PENDING
            and found.expires_at > utcnow()
        ):
            return found
    raise InvalidLink("this invitation is invalid, used, revoked or expired")


async def preview_invitation(svc: Services, token: str, client_ip: str) -> dict[str, Any]:
    """What the link's holder is invited to, and whether they log in or sign up."""
    await check_rate(svc, "login", f"ip:{client_ip}")
    invitation = await _read(svc, token)
    async with svc.db.read(
        CrossTenant("an invitation link, read before the invitee signs in")
    ) as conn:
        org = await organizations.get_org(conn, invitation.org_id)
        inviter = await people.get_user(conn, invitation.invited_by)
        has_account = await people.get_user_by_email(conn, invitation.email) is not None
    if org is None:
        raise InvalidLink("this invitation is invalid, used, revoked or expired")
    return {
        "org": {"id": org.id, "slug": org.slug, "name": org.name},
        "email": invitation.email,
        "display_name": invitation.display_name,
        "role": invitation.role,
        "inviter": inviter.display_name if inviter else None,
        "expires_at": invitation.expires_at.isoformat(),
        # Only the address's holder has the link: telling them is no oracle.
        "has_account": has_account,
    }


async def do_accept_invitation(
    svc: Services, token: str, password: str, display_name: str | None, client_ip: str
) -> dict[str, Any]:
    """Join with the existing account (its password) or a new one; a member's session."""
    await check_rate(svc, "login", f"ip:{client_ip}")
    invitation = await _read(svc, token)
    async with svc.db.read(
        CrossTenant("an invitation link, read before the invitee signs in")
    ) as conn:
        existing = await people.get_user_by_email(conn, invitation.email)
    if existing is not None:
        if not await passwords.verify_password(existing.password_hash, password):
            raise Unauthenticated("wrong password for this account", code="invalid_credentials")
        password_hash = None
    elif not 8 <= len(password) <= 128:
        raise ValidationFailed("choose a password of 8 to 128 characters")
    else:
        password_hash = await passwords.hash_password(password, kind="new")

    async def work(conn: Tx) -> dict[str, Any]:
        current = await people.get_user_by_email(conn, invitation.email)
        now = utcnow()
        if current is None and password_hash is not None:
            user_id = await insert_person(
                conn,
                email=invitation.email,
                password_hash=password_hash,
                display_name=display_name or invitation.display_name,
                is_verified=True,
            )
        elif current is not None and existing is not None and current.id == existing.id:
            user_id = current.id
            if not current.is_verified:  # the link came to the address: it is proved
                await people.update_user(conn, user_id, {"email_verified_at": now})
        else:  # the account appeared or changed meanwhile: ask again
            raise Conflict("the account changed meanwhile; open the link again")
        if not await invitations.set_status(
            conn, invitation.id, invitations.ACCEPTED, accepted_at=now, accepted_by=user_id
        ):
            raise InvalidLink("this invitation is invalid, used, revoked or expired")
        known = {g.id for g in await organizations.list_groups(conn, [invitation.org_id])}
        await join_org(
            conn,
            invitation.org_id,
            user_id,
            role=invitation.role,
            capacity=invitation.capacity,
            group_ids=[g for g in invitation.group_ids if g in known],
        )
        await audit.record(
            conn,
            invitation.org_id,
            user_id,
            "member.join",
            user_id,
            {"role": invitation.role, "invitation": invitation.id},
        )
        user = await people.get_user(conn, user_id)
        assert user is not None
        return await issue_session(conn, svc, user, invitation.org_id)

    return await svc.db.write(work)
