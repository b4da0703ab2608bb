"""Operator commands (CLI): create organizations and agents without the REST API.

The operator's direct path: accounts made here are verified (the operator vouches for
the address), and an existing account is attached only with ``--attach-existing``.
"""

from __future__ import annotations

from raasel.actions.context import Services
from raasel.actions.members import add_member, insert_person
from raasel.actions.orgs import create_org_with_owner
from raasel.errors import Conflict, NotFound
from raasel.lib import passwords
from raasel.storage.metadata import organizations, people
from raasel.storage.transaction import Tx


async def create_org_cli(
    svc: Services,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str,
    owner_name: str,
    *,
    attach_existing: bool = False,
) -> str:
    """An existing account becomes the owner only when the operator says so."""
    password_hash = await passwords.hash_password(owner_password)

    async def work(conn: Tx) -> str:
        owner = await people.get_user_by_email(conn, owner_email.lower())
        if owner is not None:
            if not attach_existing:
                raise Conflict(
                    f"an account {owner_email.lower()} exists: pass --attach-existing to make "
                    "it the owner",
                    code="email_taken",
                )
            owner_id = owner.id
        else:
            owner_id = await insert_person(
                conn,
                email=owner_email.lower(),
                password_hash=password_hash,
                display_name=owner_name,
                is_verified=True,
            )
        return await create_org_with_owner(conn, owner_id, {"slug": slug, "name": name})

    return await svc.db.write(work)


async def create_agent_cli(
    svc: Services,
    org_slug: str,
    email: str,
    name: str,
    password: str,
    role: str,
    capacity: int,
    group_slugs: list[str],
    *,
    attach_existing: bool = False,
) -> str:
    password_hash = await passwords.hash_password(password)

    async def work(conn: Tx) -> str:
        org = await organizations.get_org_by_slug(conn, org_slug)
        if org is None:
            raise NotFound(f"no organization {org_slug}")
        listed = await organizations.list_groups(conn, [org.id])
        groups = {g.slug: g.id for g in listed}
        missing = [s for s in group_slugs if s not in groups]
        if missing:
            raise NotFound(f"no group {', '.join(missing)}")
        # No choice made: the default group, so that someone sees its queue.
        chosen = group_slugs or [g.slug for g in listed if g.is_default][:1]
        return await add_member(
            conn,
            org.id,
            email=email.lower(),
            display_name=name,
            password_hash=password_hash,
            role=role,
            capacity=capacity,
            group_ids=[groups[s] for s in chosen],
            attach_existing=attach_existing,
        )

    return await svc.db.write(work)
