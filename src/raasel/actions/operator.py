"""Operator commands (CLI): create organizations and agents without the REST API."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Services
from raasel.actions.members import add_member, insert_person
from raasel.actions.orgs import create_org_with_owner
from raasel.errors import NotFound
from raasel.lib import passwords
from raasel.storage.metadata import organizations, people


async def create_org_cli(
    svc: Services, slug: str, name: str, owner_email: str, owner_password: str, owner_name: str
) -> str:
    password_hash = await passwords.hash_password(owner_password)

    async def work(conn: AsyncConnection) -> str:
        owner = await people.get_user_by_email(conn, owner_email.lower())
        if owner is not None:
            owner_id = owner.id
        else:
            owner_id = await insert_person(
                conn,
                email=owner_email.lower(),
                password_hash=password_hash,
                display_name=owner_name,
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
) -> str:
    password_hash = await passwords.hash_password(password)

    async def work(conn: AsyncConnection) -> str:
        org = await organizations.get_org_by_slug(conn, org_slug)
        if org is None:
            raise NotFound(f"no organization {org_slug}")
        groups = {g.slug: g.id for g in await organizations.list_groups(conn, [org.id])}
        missing = [s for s in group_slugs if s not in groups]
        if missing:
            raise NotFound(f"no group {', '.join(missing)}")
        return await add_member(
            conn,
            org.id,
            email=email.lower(),
            display_name=name,
            password_hash=password_hash,
            role=role,
            capacity=capacity,
            group_ids=[groups[s] for s in group_slugs],
        )

    return await svc.db.write(work)
