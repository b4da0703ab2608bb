"""The composite ``MessageLog`` (message store + conversation summary) as a node wires it,
run on SQLite, PostgreSQL, and Cassandra behind either metadata database.

Messages are written the way the engine writes them: units run by the committer
(``Database.run``) give each message the conversation's next position and commit it
with the summary, in the ``messages`` table on SQL, in ``message_outbox`` when the
store is Cassandra (copied after the commit). The Cassandra-only tests cover the crash
window between the two stores: committed but not copied, copy failed, copied twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Services
from raasel.app import build_services
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id, new_str_id
from raasel.storage import schema
from raasel.storage.cassandra_session import CassandraOptions
from raasel.storage.database import Database
from raasel.storage.message_log import MessageLog
from raasel.storage.message_store import BUCKET_SIZE, StoredMessage
from raasel.storage.metadata import conversations, organizations
from raasel.storage.tenancy import CrossTenant, TenantScope
from raasel.storage.unit_batch import UnitBatch
from tests.storage.conftest import build_test_services
from tests.storage.test_cassandra_store import down_store

INSPECT = CrossTenant("a test looks at the stored rows")


@pytest.fixture(params=["sqlite+cassandra", "postgresql+cassandra"])
async def outboxed(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose message store is separate from the metadata database."""
    async with build_test_services(request, request.param, tmp_path) as svc:
        yield svc


async def new_conversation(db: Database) -> tuple[str, str]:
    """An organization with one conversation (no messages yet): (org id, conversation id)."""
    org_id, conversation_id = new_str_id(), new_str_id()

    async def work(conn: AsyncConnection) -> None:
        now = utcnow()
        await organizations.insert_org(
            conn, {"id": org_id, "slug": f"o{org_id}", "name": "Org", "created_at": now}
        )
        await conversations.insert_conversation(
            conn,
            {
                "id": conversation_id,
                "org_id": org_id,
                "kind": "support",
                "status": "active",
                "created_at": now,
                "updated_at": now,
                "first_message_id": 0,
                "last_position": 0,
                "last_public_position": 0,
                "last_position_id": 0,
            },
            ["customer", "org"],
        )

    await db.write(work)
    return org_id, conversation_id


async def append(svc: Services, conversation_id: str, kinds: Sequence[str]) -> list[StoredMessage]:
    """One unit, as a send runs it: the next positions, the summary, in the batch."""

    async def unit(batch: UnitBatch) -> list[StoredMessage]:
        conversation = await batch.conversation(conversation_id)
        assert conversation is not None
        position, last_id = conversation.last_position, conversation.last_position_id
        written = []
        for kind in kinds:
            position, last_id = position + 1, max(new_id(), last_id + 1)
            message = StoredMessage(
                org_id=conversation.org_id,
                conversation_id=conversation.id,
                position=position,
                id=last_id,
                sender_id="3001",
                sender_side="org" if kind == "note" else "customer",
                client_id=f"c{last_id}",
                kind=kind,
                body=f"{kind} {position}",
                attachment_id=None,
                created_at=utcnow(),
            )
            batch.add_message(message)
            written.append(message)
        batch.put(conversation, last_position=position, last_position_id=last_id)
        return written

    result: list[StoredMessage] = await svc.db.run(unit, keys=[conversation_id], fresh=False)
    return result


async def summary_position(svc: Services, conversation_id: str) -> int:
    async with svc.db.read(INSPECT) as conn:
        found = await conversations.find_conversation(conn, conversation_id)
    assert found is not None
    return found.last_position


async def outbox_size(svc: Services) -> int:
    async with svc.db.read(INSPECT) as conn:
        count = await conn.scalar(select(func.count()).select_from(schema.message_outbox))
    return int(count or 0)


async def stored_positions(svc: Services, org_id: str, conversation_id: str) -> list[int]:
    """What the message store itself holds, without the outbox."""
    page = await svc.messages.after(
        org_id, conversation_id, after=0, up_to=10 * BUCKET_SIZE, limit=5_000, include_notes=True
    )
    return [m.position for m in page]


async def everything(log: MessageLog, org_id: str, conversation_id: str, top: int) -> list[int]:
    page = await log.after(
        org_id,
        conversation_id,
        after=0,
        up_to=top,
        limit=5_000,
        include_notes=True,
        scope=TenantScope(org_id=org_id),
    )
    return [m.position for m in page]


# ----- the contract, on every wiring ----------------------------------------------------


async def test_concurrent_units_get_dense_positions_and_read_back(services: Services) -> None:
    org_id, cid = await new_conversation(services.db)
    _, other = await new_conversation(services.db)
    results = await asyncio.gather(
        *(append(services, cid, ["text"]) for _ in range(40)),
        *(append(services, other, ["text", "text"]) for _ in range(5)),
    )
    mine = sorted((m for r in results for m in r if m.conversation_id == cid), key=lambda m: m.id)
    assert [m.position for m in mine] == list(range(1, 41)), "ids grow with positions"
    assert await summary_position(services, cid) == 40
    assert await summary_position(services, other) == 10
    log = services.message_log
    # Readable as soon as the units are answered, copied to the store or not.
    assert await everything(log, org_id, cid, 40) == list(range(1, 41))
    newest = await log.history(
        org_id, cid, before=41, limit=5, include_notes=True, scope=TenantScope(org_id=org_id)
    )
    assert newest == mine[:-6:-1]
    assert await log.at(org_id, cid, 17, scope=TenantScope(org_id=org_id)) == mine[16]
    await services.db.drain_published()
    assert await outbox_size(services) == 0
    assert await stored_positions(services, org_id, cid) == list(range(1, 41))


async def test_pages_walk_bucket_boundaries_and_hide_notes(services: Services) -> None:
    org_id, cid = await new_conversation(services.db)
    top = BUCKET_SIZE + 12
    kinds = ["note" if p % 5 == 0 else "text" for p in range(1, top + 1)]
    written = await append(services, cid, kinds[:600])
    written += await append(services, cid, kinds[600:])
    log = services.message_log
    for include_notes in (True, False):
        expected = [m for m in written if include_notes or m.kind != "note"]
        back: list[StoredMessage] = []
        before = top + 1
        while page := await log.history(
            org_id,
            cid,
            before=before,
            limit=97,
            include_notes=include_notes,
            scope=TenantScope(org_id=org_id),
        ):
            back += page
            before = page[-1].position
        assert back == expected[::-1]
        forward: list[StoredMessage] = []
        cursor = 0
        while page := await log.after(
            org_id,
            cid,
            after=cursor,
            up_to=top,
            limit=97,
            include_notes=include_notes,
            scope=TenantScope(org_id=org_id),
        ):
            forward += page
            cursor = page[-1].position
        assert forward == expected
    await services.db.drain_published()
    assert await everything(log, org_id, cid, top) == list(range(1, top + 1))


async def test_message_ids_map_to_positions(services: Services) -> None:
    org_id, cid = await new_conversation(services.db)
    written = await append(services, cid, ["text", "note", "text", "text"])
    log = services.message_log
    for message in written:
        assert (
            await log.position_of_id(org_id, cid, message.id, 4, scope=TenantScope(org_id=org_id))
            == message.position
        )
    assert (
        await log.position_of_id(
            org_id, cid, written[2].id - 1, 4, scope=TenantScope(org_id=org_id)
        )
        == 2
    )
    assert await log.position_of_id(org_id, cid, 0, 4, scope=TenantScope(org_id=org_id)) == 0
    assert (
        await log.position_of_id(
            org_id, cid, written[-1].id + 10**6, 4, scope=TenantScope(org_id=org_id)
        )
        == 4
    )


async def test_an_empty_conversation_reads_as_empty(services: Services) -> None:
    org_id, cid = await new_conversation(services.db)
    log = services.message_log
    assert (
        await log.history(
            org_id, cid, before=1, limit=10, include_notes=True, scope=TenantScope(org_id=org_id)
        )
        == []
    )
    assert (
        await log.after(
            org_id,
            cid,
            after=0,
            up_to=0,
            limit=10,
            include_notes=True,
            scope=TenantScope(org_id=org_id),
        )
        == []
    )
    assert await log.at(org_id, cid, 1, scope=TenantScope(org_id=org_id)) is None
    assert await log.position_of_id(org_id, cid, new_id(), 0, scope=TenantScope(org_id=org_id)) == 0
    assert await log.recover() == 0


# ----- the crash window between the metadata commit and the store (Cassandra) ------------


async def test_a_committed_message_not_yet_copied_is_readable_and_recovered(
    outboxed: Services,
) -> None:
    """The node died after COMMIT, before the copy: the outbox serves reads, and the
    next start copies it."""
    org_id, cid = await new_conversation(outboxed.db)
    copied = await append(outboxed, cid, ["text", "text", "text"])
    await outboxed.db.drain_published()
    outboxed.db.after_commit = None  # the copy never runs: the crash
    pending = await append(outboxed, cid, ["text", "note", "text"])
    log = outboxed.message_log
    assert await outbox_size(outboxed) == 3
    assert await stored_positions(outboxed, org_id, cid) == [1, 2, 3]

    assert await everything(log, org_id, cid, 6) == [1, 2, 3, 4, 5, 6]
    public = await log.history(
        org_id, cid, before=7, limit=4, include_notes=False, scope=TenantScope(org_id=org_id)
    )
    assert [m.position for m in public] == [6, 4, 3, 2]
    resync = await log.after(
        org_id, cid, after=2, up_to=6, limit=3, include_notes=True, scope=TenantScope(org_id=org_id)
    )
    assert resync == [copied[2], pending[0], pending[1]]
    assert await log.at(org_id, cid, 5, scope=TenantScope(org_id=org_id)) == pending[1]
    assert await log.at(org_id, cid, 2, scope=TenantScope(org_id=org_id)) == copied[1]

    restarted = build_services(outboxed.settings)  # the next start of the node
    try:
        assert await restarted.message_log.recover() == 3
    finally:
        await restarted.db.close()
        await restarted.messages.close()
    assert await outbox_size(outboxed) == 0
    assert await stored_positions(outboxed, org_id, cid) == [1, 2, 3, 4, 5, 6]
    assert await log.after(
        org_id,
        cid,
        after=0,
        up_to=6,
        limit=10,
        include_notes=True,
        scope=TenantScope(org_id=org_id),
    ) == (copied + pending)


async def test_a_copy_that_fails_leaves_the_messages_readable_in_the_outbox(
    outboxed: Services,
) -> None:
    org_id, cid = await new_conversation(outboxed.db)
    broken = down_store(CassandraOptions.from_settings(outboxed.settings))
    outboxed.db.after_commit = MessageLog(broken, outboxed.db).copy_to_store
    try:
        written = await append(outboxed, cid, ["text", "text"])
        await outboxed.db.drain_published()  # the copy ran, and failed (logged)
    finally:
        await broken.close()
    assert await outbox_size(outboxed) == 2
    assert await stored_positions(outboxed, org_id, cid) == []
    log = outboxed.message_log
    assert (
        await log.history(
            org_id, cid, before=3, limit=10, include_notes=True, scope=TenantScope(org_id=org_id)
        )
        == written[::-1]
    )
    assert await log.at(org_id, cid, 1, scope=TenantScope(org_id=org_id)) == written[0]
    assert await log.recover() == 2
    assert await outbox_size(outboxed) == 0
    assert await stored_positions(outboxed, org_id, cid) == [1, 2]


async def test_copying_again_is_idempotent(outboxed: Services) -> None:
    """Stored, but the node died before it deleted the outbox rows: both hold them."""
    org_id, cid = await new_conversation(outboxed.db)
    outboxed.db.after_commit = None
    written = await append(outboxed, cid, ["text", "text", "note"])
    await outboxed.messages.write(written)  # the store write, without the delete
    log = outboxed.message_log
    assert await outbox_size(outboxed) == 3
    assert (
        await log.after(
            org_id,
            cid,
            after=0,
            up_to=3,
            limit=10,
            include_notes=True,
            scope=TenantScope(org_id=org_id),
        )
        == written
    )
    assert (
        await log.history(
            org_id, cid, before=4, limit=10, include_notes=False, scope=TenantScope(org_id=org_id)
        )
        == (written[1::-1])
    )
    assert await log.recover() == 3
    await log.copy_to_store(written)
    assert await log.recover() == 0
    assert await outbox_size(outboxed) == 0
    page = await outboxed.messages.after(
        org_id, cid, after=0, up_to=3, limit=10, include_notes=True
    )
    assert page == written
