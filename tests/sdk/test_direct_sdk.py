"""Two Python SDK clients talk end to end through a real server over TLS: the first
PreKey message, replies, ticks, out-of-order decryption across a ratchet step, one side
offline and resyncing, a replayed and a tampered envelope refused without breaking the
session, and a newly linked device picked up after a stale-device refusal."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from raasel_sdk import payload, wire
from raasel_sdk.client import DirectClient, Received
from raasel_sdk.device import DecryptError
from tests.support.clients import World
from tests.support.databases import nodes_use_postgres
from tests.support.direct import DIRECT, Chatter, add_device, chatter, open_direct, sdk_client


@pytest.fixture
async def pair(world: World) -> AsyncIterator[tuple[Chatter, DirectClient, Chatter, DirectClient]]:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    a, b = sdk_client(world, alice), sdk_client(world, bob)
    await a.connect()
    await b.connect()
    yield alice, a, bob, b
    await a.close()
    await b.close()


def texts(client: DirectClient) -> list[str | None]:
    return [
        r.content.get("text") if r.content and r.content.get("t") == "text" else None
        for r in client.received
        if r.sender_id != client.device.user_id
    ]


async def test_two_sdk_clients_through_the_server(
    world: World, pair: tuple[Chatter, DirectClient, Chatter, DirectClient]
) -> None:
    alice, a, bob, b = pair
    conversation = await open_direct(alice, bob)
    cid = conversation["id"]
    first = await a.send_text(cid, bob.user_id, "hello Bob")
    assert [e["type"] for e in first["envelopes"]] == [wire.PREKEY_TYPE]
    await b.wait_for(lambda: texts(b) == ["hello Bob"])
    await b.call("POST", f"/conversations/{cid}/accept")
    await b.send_text(cid, alice.user_id, "hi Alice")
    await a.wait_for(lambda: texts(a) == ["hi Alice"])
    second = await a.send_text(cid, bob.user_id, "how are you?")
    assert [e["type"] for e in second["envelopes"]] == [wire.WHISPER_TYPE]
    await b.wait_for(lambda: texts(b)[-1:] == ["how are you?"])
    # Ticks: Bob's device acknowledges and reads; Alice sees his watermarks move.
    await b.mark(cid, "delivered", second["position"])
    await b.mark(cid, "read", second["position"])
    await a.wait_for(
        lambda: any(
            n == "direct:receipt" and d["user_id"] == bob.user_id and d["read_position"] == 3
            for n, d in a.events
        )
    )

    # Offline: Bob's socket is gone while Alice writes; he resyncs in order on return.
    await b.disconnect()
    for text in ("one", "two", "three"):
        await a.send_text(cid, bob.user_id, text)
    await b.connect()
    await b.sync([cid])
    assert texts(b)[-3:] == ["one", "two", "three"]
    assert [r.position for r in b.received] == list(range(1, 7))

    # Out of order across a ratchet step, from what the server stored. Bob's client is
    # away; Alice writes "late"; Bob's device answers from another socket, so Alice's
    # ratchet steps and "later" is on a new chain; Bob's device then decrypts the two
    # from history, "later" first.
    await b.disconnect()
    late = await a.send_text(cid, bob.user_id, "late")
    bare = await world.socket(bob.person)
    sender = (alice.user_id, alice.device.device_id)
    kind, body = await bob.device.encrypt(sender, payload.text("step"))
    answer = await bare.emit(
        "direct:send",
        {
            "conversation_id": cid,
            "client_id": uuid.uuid4().hex,
            "sender_device_id": bob.device.device_id,
            "envelopes": [
                {
                    "user_id": alice.user_id,
                    "device_id": alice.device.device_id,
                    "type": kind,
                    "body": base64.b64encode(body).decode(),
                }
            ],
        },
    )
    assert answer["ok"], answer
    await a.wait_for(lambda: texts(a)[-1:] == ["step"])
    later = await a.send_text(cid, bob.user_id, "later")
    assert later["envelopes"][0]["body"][:8] != late["envelopes"][0]["body"][:8]
    page = await b.call(
        "GET", f"/conversations/{cid}/messages?device_id={bob.device.device_id}&limit=3"
    )
    stored = {m["position"]: m["envelopes"] for m in page["messages"]}
    for message, text in ((later, "later"), (late, "late")):
        (mine,) = stored[message["position"]]
        plaintext = await bob.device.decrypt(sender, mine["type"], base64.b64decode(mine["body"]))
        assert payload.decode(plaintext)["text"] == text
    # A replay of a stored envelope is refused by the session.
    (replayed,) = stored[late["position"]]
    with pytest.raises(DecryptError):
        await bob.device.decrypt(sender, replayed["type"], base64.b64decode(replayed["body"]))
    b.held[cid] = later["position"]
    await b.connect()

    # Through the server: a replayed and a tampered envelope arrive, are shown as not
    # decryptable, and the next message decrypts as usual. Bob's client asks for the
    # tampered one again (inside the ciphertext), not for the replay.
    tampered = bytearray(base64.b64decode(replayed["body"]))
    tampered[-1] ^= 0x01
    bad_ids = [uuid.uuid4().hex, uuid.uuid4().hex]
    for body, bad_id in zip(
        (replayed["body"], base64.b64encode(bytes(tampered)).decode()), bad_ids, strict=True
    ):
        sent = await a.emit(
            "direct:send",
            {
                "conversation_id": cid,
                "client_id": bad_id,
                "sender_device_id": alice.device.device_id,
                "envelopes": [
                    {
                        "user_id": bob.user_id,
                        "device_id": bob.device.device_id,
                        "type": replayed["type"],
                        "body": body,
                    }
                ],
            },
        )
        assert sent["ok"]
    after = await a.send_text(cid, bob.user_id, "still fine")
    await b.wait_for(lambda: any(r.position == after["position"] for r in b.received))
    from_alice: list[Received] = [r for r in b.received if r.sender_id == alice.user_id]
    assert [r.error is not None for r in from_alice[-3:]] == [True, True, False], [
        r.error for r in from_alice[-3:]
    ]
    assert from_alice[-1].content == {"v": 1, "t": "text", "text": "still fine"}
    await a.wait_for(lambda: any(r.content and r.content.get("t") == "resend" for r in a.received))
    asked = [r.content["client_id"] for r in a.received if r.content and r.content["t"] == "resend"]
    assert asked == [bad_ids[1]]


async def test_a_linked_device_is_picked_up_after_a_stale_refusal(
    world: World, pair: tuple[Chatter, DirectClient, Chatter, DirectClient]
) -> None:
    alice, a, bob, b = pair
    conversation = await open_direct(alice, bob)
    cid = conversation["id"]
    await bob.person.api.post(f"{DIRECT}/conversations/{cid}/accept")
    await a.send_text(cid, bob.user_id, "before the tablet")
    await b.wait_for(lambda: texts(b) == ["before the tablet"])
    tablet = await add_device(bob)
    t = sdk_client(world, bob, tablet)
    await t.connect()
    try:
        sent = await a.send_text(cid, bob.user_id, "hello both")
        devices = sorted(e["device_id"] for e in sent["envelopes"])
        assert devices == sorted([bob.device.device_id, tablet.device_id])
        await t.wait_for(lambda: texts(t)[-1:] == ["hello both"])
        await b.wait_for(lambda: texts(b)[-1:] == ["hello both"])
        # The tablet cannot read what was sent before it was linked (not for its keys).
        early = [r for r in t.received if r.position == 1]
        assert early and early[0].error == "no envelope for this device"
    finally:
        await t.close()


async def test_no_plaintext_reaches_the_server(
    world: World, pair: tuple[Chatter, DirectClient, Chatter, DirectClient]
) -> None:
    """Known plaintexts go through the server; none of them is in its database files
    (with the WAL), its log, its metrics or any answer it gives (SPEC 2.8)."""
    alice, a, bob, b = pair
    cid = (await open_direct(alice, bob))["id"]
    await b.call("POST", f"/conversations/{cid}/accept")
    marker = uuid.uuid4().hex
    secrets_sent = [f"secret-{marker}-{i}" for i in range(3)]
    for text in secrets_sent:
        await a.send_text(cid, bob.user_id, text)
    await b.send_text(cid, alice.user_id, f"secret-{marker}-reply")
    await b.wait_for(lambda: texts(b)[-3:] == secrets_sent)
    await a.wait_for(lambda: texts(a)[-1:] == [f"secret-{marker}-reply"])
    answers = [
        await a.call("GET", f"/conversations/{cid}/messages"),
        await b.call("GET", f"/conversations/{cid}/messages/after-position/0"),
    ]
    metrics = await a.http.get("/metrics", headers={"Authorization": "Bearer test-metrics-token"})
    needle = marker.encode()
    assert needle not in repr(answers).encode()
    assert metrics.status_code == 200 and needle not in metrics.content
    scanned, holds_the_conversation = 0, False
    for path in world.server.var_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert needle not in content, f"plaintext found in {path}"
            holds_the_conversation |= cid.encode() in content
            scanned += 1
    # The scan did read the stored conversation (SQLite keeps it under the node's folder).
    assert scanned >= 2 and (holds_the_conversation or nodes_use_postgres())


async def test_a_bot_restarts_as_the_same_device(
    world: World, pair: tuple[Chatter, DirectClient, Chatter, DirectClient], tmp_path: Path
) -> None:
    alice, a, bob, b = pair
    b.state_path = tmp_path / "bob.json"
    conversation = await open_direct(alice, bob)
    cid = conversation["id"]
    await bob.person.api.post(f"{DIRECT}/conversations/{cid}/accept")
    await a.send_text(cid, bob.user_id, "before the restart")
    await b.wait_for(lambda: texts(b) == ["before the restart"])
    await b.send_text(cid, alice.user_id, "going down")
    await a.wait_for(lambda: texts(a) == ["going down"])
    await b.close()
    # While the bot is down Alice writes; the restored bot syncs from where it was.
    await a.send_text(cid, bob.user_id, "while you were down")
    restored = DirectClient.restore(
        b.state_path, world.server.url, bob.person.token, verify=world.server.ssl_context()
    )
    try:
        assert restored.device.identity_key == bob.device.identity_key
        assert restored.held == {cid: 2}
        await restored.connect()
        await restored.sync([cid])
        assert texts(restored) == ["while you were down"]
        assert all(r.error is None for r in restored.received)
        await restored.send_text(cid, alice.user_id, "back up")
        await a.wait_for(lambda: texts(a)[-1:] == ["back up"])
        # The server still has the one device it registered: no new identity for Alice.
        devices = (await bob.person.api.get(f"{DIRECT}/devices"))["devices"]
        assert [d["device_id"] for d in devices] == [bob.device.device_id]
        assert a.device.identity_changes == []
    finally:
        await restored.close()


async def test_a_lost_session_is_recovered_by_a_resend(
    pair: tuple[Chatter, DirectClient, Chatter, DirectClient],
) -> None:
    alice, a, bob, b = pair
    conversation = await open_direct(alice, bob)
    cid = conversation["id"]
    await bob.person.api.post(f"{DIRECT}/conversations/{cid}/accept")
    await a.send_text(cid, bob.user_id, "one")
    await b.wait_for(lambda: texts(b) == ["one"])
    await b.send_text(cid, alice.user_id, "two")
    await a.wait_for(lambda: texts(a) == ["two"])
    # Bob's session with Alice's device is gone (an old backup restored, say).
    del bob.device.sessions[(alice.user_id, alice.device.device_id)]
    lost = await a.send_text(cid, bob.user_id, "three")
    await b.wait_for(lambda: texts(b)[-1:] == ["three"])
    failed = [r for r in b.received if r.position == lost["position"]]
    assert failed and failed[0].error == "no session with that device"
    resent = [r for r in b.received if r.content and r.content.get("resend_of")]
    assert [r.content["resend_of"] for r in resent if r.content] == [lost["client_id"]]
    # A new session: both ways again.
    await b.send_text(cid, alice.user_id, "four")
    await a.wait_for(lambda: texts(a)[-1:] == ["four"])
    await a.send_text(cid, bob.user_id, "five")
    await b.wait_for(lambda: texts(b)[-1:] == ["five"])
