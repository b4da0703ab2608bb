"""In-process fixtures: real services on a migrated SQLite file or PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor, Event, Services
from raasel.actions.members import add_member
from raasel.actions.orgs import create_org_with_owner
from raasel.app import build_services
from raasel.config import Settings
from raasel.domain import Role, UserKind
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import organizations, people
from tests.support.databases import migrated_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Real services on a fresh, migrated database of each SQL back end."""
    db = await migrated_database(request.param, tmp_path)
    await db.close()
    settings = Settings(
        var_dir=tmp_path,
        database_url=db.url,
        secret_key="x" * 40,
        send_rate="100000/10",
        open_rate="100000/60",
        receipt_rate="100000/10",
        sync_rate="100000/10",
        typing_rate="100000/10",
    )
    svc = build_services(settings)
    yield svc
    # The mail worker a committed mail started (a resolve's transcript) may be in a
    # read: stopped first, or its connection outlives the pool (a ResourceWarning that
    # fails whichever test the garbage collector runs in next).
    await svc.mailer.close()
    await svc.db.close()


@dataclass
class Cast:
    org_id: str
    group_id: str
    agent: Actor
    customer: Actor


@pytest.fixture
async def cast(services: Services) -> Cast:
    """An organization with one agent in one group, and a customer."""

    async def work(conn: AsyncConnection) -> Cast:
        now = utcnow()
        owner, customer = new_str_id(), new_str_id()
        for user_id, name in ((owner, "Owner"), (customer, "Customer")):
            await people.insert_user(
                conn,
                {
                    "id": user_id,
                    "email": f"{user_id}@example.com",
                    "password_hash": None,
                    "display_name": name,
                    "kind": UserKind.PERSON,
                    "plan": "free",
                    "created_at": now,
                },
            )
        org_id = await create_org_with_owner(conn, owner, {"slug": f"o{owner}", "name": "Org"})
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
        agent = Actor(
            agent_id,
            UserKind.PERSON,
            "Agent",
            "s1",
            org_id=org_id,
            role=Role.AGENT,
            group_ids=(group.id,),
        )
        return Cast(org_id, group.id, agent, Actor(customer, UserKind.PERSON, "Customer", "s2"))

    return await services.db.write(work)


class StatementCounter:
    """Counts SQL statements on every engine of a Database (Zulip's query-count assertions)."""

    def __init__(self, services: Services) -> None:
        self.count = 0
        self._db = services.db
        self._engines = {id(e): e for e in (services.db.reader, services.db.writer)}.values()

    def _on_execute(self, *_: object) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        self._raw = self._db.raw_statements  # the committer's bulk writes on sqlite3
        for engine in self._engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self._engines:
            event.remove(engine.sync_engine, "before_cursor_execute", self._on_execute)
        self.count += self._db.raw_statements - self._raw


class Published:
    """The events the committer publishes after each commit, in order."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.events: list[Event] = []
        services.db.publisher = self._capture

    async def _capture(self, events: list[Event]) -> None:
        self.events.extend(events)

    async def take(self) -> list[Event]:
        await self._services.db.drain_published()
        taken, self.events = self.events, []
        return taken


@pytest.fixture
def published(services: Services) -> Published:
    return Published(services)
