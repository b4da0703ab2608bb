"""A real node whose messages live in Cassandra: `raasel serve` migrates the keyspace,
sends are idempotent, history and resync read it back, and a restart finds everything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from raasel.storage.cassandra_session import CassandraOptions
from tests.support.cassandra import drop_keyspace
from tests.support.clients import World, unique
from tests.support.server import RunningServer


def cassandra_env(options: CassandraOptions) -> dict[str, str]:
    env = {
        "RAASEL_MESSAGE_STORE": "cassandra",
        "RAASEL_CASSANDRA_HOSTS": ",".join(f"{h}:{options.port}" for h in options.hosts),
        "RAASEL_CASSANDRA_KEYSPACE": options.keyspace,
        "RAASEL_CASSANDRA_CONSISTENCY": options.consistency,
    }
    if options.protocol_version is not None:
        env["RAASEL_CASSANDRA_PROTOCOL_VERSION"] = str(options.protocol_version)
    return env


async def test_a_node_on_cassandra_sends_reads_and_survives_a_restart(
    spawn_server: Callable[..., RunningServer], cassandra: CassandraOptions, tmp_path: Path
) -> None:
    keyspace = replace(cassandra, keyspace=f"{cassandra.keyspace}_node")  # `serve` creates it
    try:
        await journey(spawn_server, cassandra_env(keyspace), tmp_path)
    finally:
        await asyncio.to_thread(drop_keyspace, keyspace)


async def journey(
    spawn_server: Callable[..., RunningServer], env: dict[str, str], tmp_path: Path
) -> None:
    node = spawn_server(env, var_dir=tmp_path / "node")
    world = World(node)
    try:
        tenant = await world.tenant(agents=1)
        customer = await world.individual()
        opened = await customer.open_conversation(tenant, text="first")
        cid = opened["conversation"]["id"]
        sock = await world.socket(customer)
        payload = {"conversation_id": cid, "client_id": unique("c"), "text": "once"}
        acks = await asyncio.gather(*(sock.emit("message:send", payload) for _ in range(3)))
        assert len({a["message"]["id"] for a in acks}) == 1
        for i in range(5):
            ack = await sock.emit(
                "message:send", {"conversation_id": cid, "client_id": f"m{i}", "text": f"m{i}"}
            )
            assert ack["ok"], ack
        history = await customer.api.get(f"/api/v1/conversations/{cid}/messages")
        texts = [m["text"] for m in history["messages"]]
        assert texts.count("once") == 1 and {"first", "m0", "m4"} <= set(texts)
        node.stop()
    finally:
        await world.close()
    revived = spawn_server(env, var_dir=tmp_path / "node")
    world = World(revived)
    try:
        again = await world.login(customer.email)
        history = await again.api.get(f"/api/v1/conversations/{cid}/messages")
        assert [m["text"] for m in history["messages"]] == texts
    finally:
        await world.close()
