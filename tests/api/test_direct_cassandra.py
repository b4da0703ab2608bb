"""Direct chats on a node whose messages live in Cassandra: envelopes go through the
outbox to the partition ``("direct", conversation, bucket)`` and read back from there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from raasel.storage.cassandra_session import CassandraOptions, connect
from tests.api.test_cassandra_node import cassandra_env
from tests.support.cassandra import drop_keyspace
from tests.support.clients import World
from tests.support.direct import chatter, open_direct, sdk_client
from tests.support.server import RunningServer


def direct_rows(options: CassandraOptions, conversation_id: str) -> list[tuple[str, str, int]]:
    cluster, session = connect(options)
    try:
        rows = session.execute(
            f"SELECT org_id, kind, position FROM {options.keyspace}.messages_by_position"
            " WHERE org_id = 'direct' AND conversation_id = %s AND bucket = 0",
            (conversation_id,),
        )
        return sorted((r.org_id, r.kind, r.position) for r in rows)
    finally:
        cluster.shutdown()


async def test_direct_envelopes_live_in_the_direct_space(
    spawn_server: Callable[..., RunningServer], cassandra: CassandraOptions, tmp_path: Path
) -> None:
    keyspace = replace(cassandra, keyspace=f"{cassandra.keyspace}_direct")
    node = spawn_server(cassandra_env(keyspace), var_dir=tmp_path / "node")
    world = World(node)
    try:
        alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
        cid = (await open_direct(alice, bob))["id"]
        a, b = sdk_client(world, alice), sdk_client(world, bob)
        await a.connect()
        try:
            for text in ("one", "two", "three"):
                await a.send_text(cid, bob.user_id, text)
            retry = await a.send_text(cid, bob.user_id, "three again", client_id="fixed")
            again = await a.send_text(cid, bob.user_id, "three again", client_id="fixed")
            assert again == retry
            await b.connect()
            await b.sync([cid])
            texts = [r.content["text"] for r in b.received if r.content]
            assert texts == ["one", "two", "three", "three again"]
        finally:
            await a.close()
            await b.close()
        # The copy from the outbox follows the commit: wait for it (bounded).
        wanted = [("direct", "envelope", p) for p in (1, 2, 3, 4)]
        for _ in range(100):
            rows = await asyncio.to_thread(direct_rows, keyspace, cid)
            if rows == wanted:
                break
            await asyncio.sleep(0.1)
        assert rows == wanted
    finally:
        await world.close()
        await asyncio.to_thread(drop_keyspace, keyspace)
