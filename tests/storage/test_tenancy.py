"""Row-level security on PostgreSQL, the second wall behind the tenant scope in every
query (storage/tenancy.py, storage/tenant_ddl.py, docs/security.md).

Two organizations with real conversations (opened, claimed, written in) by the actions;
then queries that deliberately leave out their tenant scope, run the way a request
runs them (``Database.read(actor.scope)``), see nothing of the other organization; the
same queries across tenants see both, so the checks can fail. Writes that would attach
a row to another organization's conversation, group or member are refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import lifecycle, messages
from raasel.actions.assignment import do_claim
from raasel.actions.context import Actor, Services
from raasel.actions.members import add_member
from raasel.actions.orgs import create_org_with_owner
from raasel.app import build_services
from raasel.config import Settings
from raasel.domain import MessageKind, Role, UserKind
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage import direct_schema, schema
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.tenancy import READER_ROLE, CrossTenant, ReadScope, TenantScope
from raasel.storage.tenant_ddl import DIRECT_SPACE, SHARED_TABLES, TENANT_POLICIES
from tests.support.databases import migrated_database

EVERYTHING = CrossTenant("the test's own view of every row")
_EVERY_ROW = "SELECT * FROM {}"  # the registry's table names only


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    db = await migrated_database("postgresql", tmp_path)
    await db.close()
    settings = Settings(
        var_dir=tmp_path,
        database_url=db.url,
        secret_key="x" * 40,
        send_rate="100000/10",
        open_rate="100000/60",
        embedding_model="none",
    )
    svc = build_services(settings)
    yield svc
    await svc.db.close()


@dataclass
class Tenant:
    org_id: str
    group_id: str
    agent: Actor
    customer: Actor
    conversation_id: str


async def _tenant(svc: Services, tag: str) -> Tenant:
    """An unlisted organization with an agent, and a customer's conversation the agent
    claimed, with a message from each side and an internal note."""

    async def work(conn: AsyncConnection) -> tuple[str, str, str, str]:
        owner, customer = new_str_id(), new_str_id()
        for user_id in (owner, customer):
            await people.insert_user(
                conn,
                {
                    "id": user_id,
                    "email": f"{user_id}@example.com",
                    "password_hash": None,
                    "display_name": tag,
                    "kind": UserKind.PERSON,
                    "plan": "free",
                    "created_at": utcnow(),
                },
            )
        org_id = await create_org_with_owner(conn, owner, {"slug": f"{tag}{owner}", "name": tag})
        await conn.execute(
            update(schema.organizations)
            .where(schema.organizations.c.id == org_id)
            .values(is_listed=False)
        )
        group = await organizations.default_group(conn, org_id)
        assert group is not None
        agent_id = await add_member(
            conn,
            org_id,
            email=f"a{owner}@example.com",
            display_name="Agent",
            password_hash="unused-in-these-tests",
            role=Role.AGENT,
            capacity=5,
            group_ids=[group.id],
        )
        return org_id, group.id, agent_id, customer

    org_id, group_id, agent_id, customer_id = await svc.db.write(work)
    agent = Actor(
        agent_id,
        UserKind.PERSON,
        "Agent",
        "s",
        org_id=org_id,
        role=Role.AGENT,
        group_ids=(group_id,),
    )
    customer = Actor(customer_id, UserKind.PERSON, "Customer", "s")
    opened = await lifecycle.do_open_conversation(
        svc,
        customer,
        org_id=org_id,
        group_id=None,
        text=f"hello from {tag}",
        client_id="open",
        subject=tag,
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    await do_claim(svc, agent, cid)
    await messages.do_send_message(svc, agent, cid, client_id="a1", text="answer")
    await messages.do_send_message(
        svc, agent, cid, client_id="n1", text="internal", kind=MessageKind.NOTE
    )
    await svc.db.drain_published()
    return Tenant(org_id, group_id, agent, customer, cid)


async def _rows(svc: Services, scope: ReadScope) -> dict[str, list[dict[str, Any]]]:
    """Every row of every tenant table, with no WHERE clause at all."""
    async with svc.db.read(scope) as conn:
        present = {
            r[0]
            for r in await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        }
        return {
            table: [dict(r._mapping) for r in await conn.execute(text(_EVERY_ROW.format(table)))]
            for table in TENANT_POLICIES
            if table in present
        }


def _belongs_to(row: dict[str, Any], tenant: Tenant) -> bool:
    return (
        row.get("org_id") == tenant.org_id or row.get("conversation_id") == tenant.conversation_id
    )


async def test_an_unscoped_read_on_the_request_path_sees_nothing_of_another_tenant(
    services: Services,
) -> None:
    a, b = await _tenant(services, "alpha"), await _tenant(services, "beta")
    everything = await _rows(services, EVERYTHING)
    for tenant in (a, b):  # the rows are there: both tenants own some in the busy tables
        for table in ("conversations", "conversation_sides", "messages", "memberships"):
            assert any(_belongs_to(r, tenant) for r in everything[table]), table

    for me, other in ((a, b), (b, a)):
        for actor in (me.agent, me.customer):
            seen = await _rows(services, actor.scope)
            leaked = {
                t: rows for t, rows in seen.items() if any(_belongs_to(r, other) for r in rows)
            }
            assert leaked == {}, actor
            assert [c["id"] for c in seen["conversations"]] == [me.conversation_id]
            # Its own conversation's messages, notes too: hiding notes from customers is
            # the actions' rule; the wall is the tenant.
            assert len(seen["messages"]) >= 3
        # The agent sees its organization's rows in every table that has some.
        mine = await _rows(services, me.agent.scope)
        for table, rows in everything.items():
            assert len(mine[table]) == sum(_belongs_to(r, me) for r in rows), table


async def test_the_request_paths_lookups_find_nothing_of_another_tenant(
    services: Services,
) -> None:
    a, b = await _tenant(services, "alpha"), await _tenant(services, "beta")
    # A lookup that forgot its organization (no ``org_id=``) finds only what the wall lets.
    async with services.db.read(a.agent.scope) as conn:
        assert await conversations.find_conversation(conn, b.conversation_id) is None
        assert await conversations.find_conversation(conn, a.conversation_id) is not None
        assert await organizations.get_group(conn, b.org_id, b.group_id) is None
        assert await people.list_memberships(conn, b.org_id) == []
    async with services.db.read(b.customer.scope) as conn:
        assert await conversations.find_conversation(conn, a.conversation_id) is None
    async with services.db.read(EVERYTHING) as conn:
        assert await conversations.find_conversation(conn, b.conversation_id) is not None
    # The search's match step (run as the owner, on the GIN index) is held to the
    # caller's organization by the same setting, and finds nothing without it.
    matches = "SELECT org_id FROM raasel_message_matches(to_tsquery('simple', 'hello'), 10)"
    for scope, found in ((a.agent.scope, [a.org_id]), (b.customer.scope, []), (EVERYTHING, [])):
        async with services.db.read(scope) as conn:
            assert [r[0] for r in await conn.execute(text(matches))] == found
    # The message log reads through the same wall.
    leak = await services.message_log.history(
        b.org_id, b.conversation_id, before=100, limit=10, include_notes=True, scope=a.agent.scope
    )
    assert leak == []
    own = await services.message_log.history(
        b.org_id, b.conversation_id, before=100, limit=10, include_notes=True, scope=b.agent.scope
    )
    assert len(own) >= 3  # the opening text, the answer, the note (and system events)


async def test_a_listed_organizations_groups_are_the_public_directory(services: Services) -> None:
    a, b = await _tenant(services, "alpha"), await _tenant(services, "beta")
    await services.db.write(
        lambda conn: conn.execute(
            update(schema.organizations)
            .where(schema.organizations.c.id == b.org_id)
            .values(is_listed=True)
        )
    )
    seen = await _rows(services, a.customer.scope)
    assert {g["org_id"] for g in seen["dispatch_groups"]} == {a.org_id, b.org_id}
    assert not any(
        _belongs_to(r, b) for t, rows in seen.items() if t != "dispatch_groups" for r in rows
    )


async def test_the_reader_role_reads_only(services: Services) -> None:
    a = await _tenant(services, "alpha")
    with pytest.raises(DBAPIError, match="permission denied"):
        async with services.db.read(a.agent.scope) as conn:
            await conn.execute(
                update(schema.conversations)
                .where(schema.conversations.c.id == a.conversation_id)
                .values(subject="x")
            )
    async with services.db.read(EVERYTHING) as conn:
        role = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"),
                {"r": READER_ROLE},
            )
        ).one()
    assert tuple(role) == (False, False, False)


@pytest.mark.parametrize(
    "attack",
    [
        "file in another's conversation",
        "into another's group",
        "to another's agent",
        "member of another's group",
        "message in another's conversation",
        "outbox row in another's conversation",
        "direct-space message in an organization's conversation",
        "organization's message in a direct chat",
        "message moved into another's conversation",
        "channel into another's group",
    ],
)
async def test_a_write_cannot_attach_a_row_to_another_tenant(
    services: Services, attack: str
) -> None:
    a, b = await _tenant(services, "alpha"), await _tenant(services, "beta")
    now = utcnow()
    statements: dict[str, Any] = {
        "file in another's conversation": schema.attachments.insert().values(
            id=new_str_id(),
            org_id=a.org_id,
            conversation_id=b.conversation_id,
            uploader_id=a.agent.user_id,
            content_type="text/plain",
            size=1,
            sha256="0" * 64,
            filename="x.txt",
            created_at=now,
        ),
        "into another's group": update(schema.conversations)
        .where(schema.conversations.c.id == a.conversation_id)
        .values(group_id=b.group_id),
        "to another's agent": update(schema.conversations)
        .where(schema.conversations.c.id == a.conversation_id)
        .values(assignee_id=b.agent.user_id),
        "member of another's group": schema.group_members.insert().values(
            group_id=b.group_id, user_id=a.agent.user_id, org_id=a.org_id
        ),
        "message in another's conversation": schema.messages.insert().values(
            _message(a.org_id, b.conversation_id, a.agent.user_id)
        ),
        "outbox row in another's conversation": schema.message_outbox.insert().values(
            {
                k: v
                for k, v in _message(a.org_id, b.conversation_id, a.agent.user_id).items()
                if k != "bucket"
            }
        ),
        "direct-space message in an organization's conversation": schema.messages.insert().values(
            _message(DIRECT_SPACE, b.conversation_id, a.customer.user_id)
        ),
        "organization's message in a direct chat": schema.messages.insert().values(
            _message(a.org_id, await _direct_chat(services, a, b), a.agent.user_id)
        ),
        "message moved into another's conversation": update(schema.messages)
        .where(schema.messages.c.conversation_id == a.conversation_id)
        .values(conversation_id=b.conversation_id),
        "channel into another's group": schema.channels.insert().values(
            id=new_str_id(),
            org_id=a.org_id,
            platform="whatsapp",
            name="x",
            external_id=new_str_id(),
            group_id=b.group_id,
            key_version=1,
            access_token_sealed="x",
            app_secret_sealed="x",
            verify_token_sealed="x",
            status="active",
            created_at=now,
            updated_at=now,
        ),
    }

    with pytest.raises(IntegrityError, match="tenant_"):
        await services.db.write(lambda conn: conn.execute(statements[attack]))
    async with services.db.read(EVERYTHING) as conn:  # and nothing changed
        after = await conversations.find_conversation(conn, a.conversation_id)
        count = await conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM attachments) + (SELECT count(*) FROM channels)"
                " + (SELECT count(*) FROM message_outbox)"
                f" + (SELECT count(*) FROM messages WHERE body = '{_ATTACK_BODY}')"
            )
        )
    assert after is not None
    assert (after.group_id, after.assignee_id, count) == (a.group_id, a.agent.user_id, 0)


_ATTACK_BODY = "attached to another tenant"


def _message(space: str, conversation_id: str, sender_id: str) -> dict[str, Any]:
    """A ``messages`` row as the engine writes one (``bucket`` dropped for the outbox)."""
    return {
        "org_id": space,
        "conversation_id": conversation_id,
        "bucket": 0,
        "position": 99,
        "id": 99,
        "sender_id": sender_id,
        "sender_side": "org",
        "client_id": new_str_id(),
        "kind": "text",
        "body": _ATTACK_BODY,
        "attachment_id": None,
        "created_at": utcnow(),
    }


async def _direct_chat(svc: Services, a: Tenant, b: Tenant) -> str:
    """A direct chat between the two tenants' customers, with one stored envelope."""
    chat, now = new_str_id(), utcnow()
    low, high = sorted((a.customer.user_id, b.customer.user_id))

    async def work(conn: AsyncConnection) -> None:
        await conn.execute(
            direct_schema.direct_conversations.insert().values(
                id=chat,
                user_low=low,
                user_high=high,
                status="accepted",
                requested_by=low,
                last_position=1,
                last_position_id=1,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            direct_schema.direct_members.insert(),
            [{"conversation_id": chat, "user_id": u, "unread_positions": []} for u in (low, high)],
        )
        envelope = _message(DIRECT_SPACE, chat, low) | {
            "position": 1,
            "id": 1,
            "sender_side": "direct",
            "kind": "envelope",
            "body": "sealed",
        }
        await conn.execute(schema.messages.insert().values(envelope))

    await svc.db.write(work)
    return chat


async def test_the_direct_space_has_its_own_wall(services: Services) -> None:
    """Direct chats share the message tables (``org_id = 'direct'``): their rows are
    written only for a direct chat, and read only by its members, never through an
    organization's setting, not even one that says ``direct``."""
    a, b = await _tenant(services, "alpha"), await _tenant(services, "beta")
    chat = await _direct_chat(services, a, b)
    outsider = await _tenant(services, "gamma")

    async def direct_rows(scope: ReadScope) -> list[str]:
        async with services.db.read(scope) as conn:
            rows = await conn.execute(
                text("SELECT conversation_id FROM messages WHERE org_id = 'direct'")
            )
            return [r[0] for r in rows]

    assert await direct_rows(EVERYTHING) == [chat]
    assert await direct_rows(a.customer.scope) == [chat]
    assert await direct_rows(b.customer.scope) == [chat]
    for scope in (
        outsider.customer.scope,
        a.agent.scope,
        TenantScope(org_id=DIRECT_SPACE),
        TenantScope(org_id=DIRECT_SPACE, user_id=outsider.customer.user_id),
    ):
        assert await direct_rows(scope) == [], scope
    # A member of the chat still sees nothing of the other organization's messages.
    seen = await _rows(services, a.customer.scope)
    assert not any(_belongs_to(r, b) for r in seen["messages"])
    # And no organization can take the direct space's name.
    with pytest.raises(IntegrityError, match="tenant_organizations_not_direct"):
        await services.db.write(
            lambda conn: conn.execute(
                schema.organizations.insert().values(
                    id=DIRECT_SPACE, slug="direct-space", name="x", created_at=utcnow()
                )
            )
        )


async def test_every_tenant_table_has_a_policy(services: Services) -> None:
    """The guard for tables to come: a table with an ``org_id`` or ``conversation_id``
    column needs a policy (``tenant_ddl.policy_statements`` in its migration), and every
    table is either a tenant table or named shared, with the reason."""
    async with services.db.read(EVERYTHING) as conn:
        tables = {
            r.relname: r
            for r in await conn.execute(
                text(
                    """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                        EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                                AND a.attname IN ('org_id', 'conversation_id')
                                AND NOT a.attisdropped) AS is_tenant,
                        EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                                AND p.polname = 'tenant_read') AS has_policy,
                        has_table_privilege(:role, c.oid, 'SELECT') AS is_readable
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind = 'r'"""
                ),
                {"role": READER_ROLE},
            )
        }
    unclassified = set(tables) - set(TENANT_POLICIES) - set(SHARED_TABLES)
    assert unclassified == set(), "add each to tenant_ddl.TENANT_POLICIES or SHARED_TABLES"
    unwalled = {
        name
        for name, t in tables.items()
        if (t.is_tenant or name in TENANT_POLICIES) and not (t.relrowsecurity and t.has_policy)
    }
    assert unwalled == set(), "give each a policy: tenant_ddl.policy_statements in a migration"
    assert not any(t.relforcerowsecurity for t in tables.values())  # the owner writes freely
    assert {n for n, t in tables.items() if not t.is_readable} == set()
    assert not any(tables[name].is_tenant for name in SHARED_TABLES if name in tables)
