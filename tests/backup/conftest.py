"""Services on each stack for the backup tests, and an organization with history."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import lifecycle, messages
from raasel.actions.assignment import do_claim
from raasel.actions.attachments import do_upload_attachment
from raasel.actions.context import Actor, Services
from raasel.actions.members import add_member
from raasel.actions.orgs import create_org_with_owner
from raasel.app import build_services
from raasel.config import Settings
from raasel.domain import Role, UserKind
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage import cassandra_schema
from raasel.storage.cassandra_session import CassandraOptions
from raasel.storage.metadata import organizations, people
from tests.support.cassandra import drop_keyspace
from tests.support.databases import migrated_database

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64
LIMITS = {
    f"{name}_rate": "100000/10"
    for name in ("send", "open", "receipt", "sync", "typing", "upload", "download")
}


def cassandra_settings(options: CassandraOptions) -> dict[str, Any]:
    return {
        "message_store": "cassandra",
        "cassandra_hosts": ",".join(f"{host}:{options.port}" for host in options.hosts),
        "cassandra_keyspace": options.keyspace,
        "cassandra_consistency": options.consistency,
        "cassandra_protocol_version": options.protocol_version,
    }


@contextlib.asynccontextmanager
async def stack(
    request: pytest.FixtureRequest, wiring: str, directory: Path, keyspace: str = ""
) -> AsyncIterator[Services]:
    """Services on ``wiring`` (``sqlite``, ``postgresql``, ``sqlite+cassandra``) in
    ``directory``; on Cassandra in a keyspace of its own (``keyspace`` suffix), made now."""
    metadata, _, store = wiring.partition("+")
    extra: dict[str, Any] = {}
    options: CassandraOptions | None = None
    if store == "cassandra":
        base: CassandraOptions = request.getfixturevalue("cassandra")
        options = replace(base, keyspace=f"{base.keyspace}_bk{keyspace}")
        await asyncio.to_thread(cassandra_schema.upgrade, options)
        extra = cassandra_settings(options)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    db = await migrated_database(metadata, directory)
    await db.close()
    settings = Settings(
        var_dir=directory, database_url=db.url, secret_key="x" * 40, **LIMITS, **extra
    )
    svc = build_services(settings)
    try:
        yield svc
    finally:
        await svc.db.close()
        await svc.messages.close()
        if options is not None:
            await asyncio.to_thread(drop_keyspace, options)


@dataclass
class History:
    org_id: str
    slug: str
    conversation_id: str
    agent: Actor
    customer: Actor
    texts: list[str]
    attachment_id: str


async def seed_history(svc: Services, sends: int = 30) -> History:
    """An organization with an owner and an agent, a customer's conversation the agent
    claimed, ``sends`` messages of the customer, the agent's reply and an internal note."""

    async def work(conn: AsyncConnection) -> tuple[str, str, str, str, str]:
        now = utcnow()
        owner, customer = new_str_id(), new_str_id()
        for user_id, name in ((owner, "Owner"), (customer, "Customer")):
            await people.insert_user(
                conn,
                {
                    "id": user_id,
                    "email": f"{user_id}@example.com",
                    "password_hash": "hash-of-" + user_id,
                    "display_name": name,
                    "kind": UserKind.PERSON,
                    "plan": "free",
                    "created_at": now,
                },
            )
        slug = f"o{owner}"
        org_id = await create_org_with_owner(conn, owner, {"slug": slug, "name": "Org"})
        group = await organizations.default_group(conn, org_id)
        assert group is not None
        agent_id = await add_member(
            conn,
            org_id,
            email=f"a{owner}@example.com",
            display_name="Agent",
            password_hash="agent-hash",
            role=Role.AGENT,
            capacity=5,
            group_ids=[group.id],
        )
        return org_id, slug, group.id, agent_id, customer

    org_id, slug, group_id, agent_id, customer_id = await svc.db.write(work)
    agent = Actor(
        agent_id,
        UserKind.PERSON,
        "Agent",
        "s1",
        org_id=org_id,
        role=Role.AGENT,
        group_ids=(group_id,),
    )
    customer = Actor(customer_id, UserKind.PERSON, "Customer", "s2")
    opened = await lifecycle.do_open_conversation(
        svc,
        customer,
        org_id=org_id,
        group_id=None,
        text="hello",
        client_id="open",
        subject="",
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    texts = ["hello"]
    for i in range(sends):
        await messages.do_send_message(svc, customer, cid, client_id=f"c{i}", text=f"c{i}")
        texts.append(f"c{i}")
    uploaded = await do_upload_attachment(svc, customer, cid, "p.png", PNG)
    await messages.do_send_message(
        svc, customer, cid, client_id="file", text="", attachment_id=uploaded["id"]
    )
    await do_claim(svc, agent, cid)
    await messages.do_send_message(svc, agent, cid, client_id="reply", text="on it")
    await messages.do_send_message(
        svc, agent, cid, client_id="note", text="internal only", kind="note"
    )
    await svc.db.drain_published()
    return History(org_id, slug, cid, agent, customer, [*texts, "on it"], uploaded["id"])


async def texts_seen(svc: Services, actor: Actor, cid: str) -> list[str]:
    """The texts of the messages and notes ``actor`` sees in the conversation, oldest first."""
    seen: list[str] = []
    before = None
    while True:
        page = await messages.list_history(svc, actor, cid, before=before, limit=50)
        seen = [
            m["text"] for m in page["messages"] if m["kind"] in {"text", "note"} and m["text"]
        ] + seen
        if not page["has_more"]:
            return seen
        before = page["next_before"]
