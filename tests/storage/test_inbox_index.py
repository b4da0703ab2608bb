"""The search index follows every message path: the SQL message store's ``messages`` and,
with Cassandra, the ``message_outbox`` rows each unit writes in its commit (the index keeps
its own copy, so the outbox can be emptied after the copy to Cassandra)."""

from __future__ import annotations

from sqlalchemy import delete

from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage import schema
from raasel.storage.database import Database
from raasel.storage.metadata import inbox_search
from raasel.storage.tenancy import TenantScope
from raasel.storage.transaction import Tx


async def test_outbox_rows_are_indexed_and_stay_found_once_copied(database: Database) -> None:
    org_id, cid, user_id, group_id = new_str_id(), new_str_id(), new_str_id(), new_str_id()
    now = utcnow()

    async def seed(conn: Tx) -> None:
        await conn.execute(
            schema.organizations.insert().values(
                id=org_id,
                slug=f"o{org_id}",
                name="Org",
                description="",
                category="",
                domains=[],
                tags=[],
                languages=[],
                settings={},
                is_listed=True,
                plan="free",
                created_at=now,
                verified_domains=[],
            )
        )
        await conn.execute(
            schema.users.insert().values(
                id=user_id,
                email=None,
                password_hash=None,
                display_name="Quentin Quail",
                kind="person",
                plan="free",
                created_at=now,
            )
        )
        # In a group: an ungrouped support conversation is "Unassigned", which every
        # agent sees (issue 12), so the group scope below would have nothing to refuse.
        await conn.execute(
            schema.dispatch_groups.insert().values(
                id=group_id,
                org_id=org_id,
                slug="shipping",
                name="Shipping",
                description="",
                policy="manual",
                is_default=True,
                created_at=now,
            )
        )
        await conn.execute(
            schema.conversations.insert().values(
                id=cid,
                org_id=org_id,
                group_id=group_id,
                kind="support",
                status="active",
                subject="Lost parcel",
                tags=["shipping"],
                customer_id=user_id,
                created_at=now,
                updated_at=now,
                first_message_id=1,
            )
        )
        for position, (kind, body) in enumerate(
            [
                ("text", "my parcel never arrived"),
                ("system", "parcel agent joined"),
                ("note", "courier says parcel lost"),
            ],
            start=1,
        ):
            await conn.execute(
                schema.message_outbox.insert().values(
                    conversation_id=cid,
                    position=position,
                    org_id=org_id,
                    id=position,
                    sender_id=user_id,
                    sender_side="customer",
                    client_id=f"c{position}",
                    kind=kind,
                    body=body,
                    created_at=now,
                )
            )

    async with database.writer.begin() as conn:
        await seed(conn)
        await conn.execute(delete(schema.message_outbox))  # copied to Cassandra: gone here

    # Read as a member's request reads (on PostgreSQL the search's match step takes the
    # organization from the transaction's tenant setting, docs/security.md).
    async with database.read(TenantScope(org_id=org_id)) as conn:
        hits = await inbox_search.search_messages(
            conn, org_id, ["parcel"], groups=None, me=None, limit=10, offset=0
        )
        assert sorted((h.position, h.kind) for h in hits) == [(1, "text"), (3, "note")]
        assert (
            await inbox_search.search_messages(
                conn, new_str_id(), ["parcel"], groups=None, me=None, limit=10, offset=0
            )
            == []
        )
        by_customer = await inbox_search.search_conversations(
            conn, org_id, ["quail"], groups=None, me=None, limit=5, offset=0
        )
        assert [h.conversation_id for h in by_customer] == [cid]
        by_label = await inbox_search.search_conversations(
            conn, org_id, ["shipping"], groups=[], me="someone-else", limit=5, offset=0
        )
        assert by_label == []  # an agent outside its group and not assigned finds nothing
