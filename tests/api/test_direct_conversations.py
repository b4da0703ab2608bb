"""Direct conversations over TLS: requests, blocking, the send path, stale device lists,
bad input. Envelope bodies here are opaque bytes: the server never looks inside them
(tests/sdk/test_direct_sdk.py sends real Signal messages)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.clients import SocketClient, World
from tests.support.direct import DIRECT, Chatter, add_device, chatter, envelope, open_direct


def send_payload(
    conversation: dict[str, Any], sender: Chatter, *envelopes: Any, **kw: Any
) -> dict[str, Any]:
    return {
        "conversation_id": conversation["id"],
        "client_id": kw.get("client_id", uuid.uuid4().hex),
        "sender_device_id": kw.get("device_id", sender.device.device_id),
        "envelopes": list(envelopes),
    }


async def test_message_request_accept_and_decline(world: World) -> None:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    bob_sock = await world.socket(bob.person)
    alice_sock = await world.socket(alice.person)
    found = await alice.person.api.get(f"{DIRECT}/users/by-handle/{bob.handle.upper()}")
    assert found == {"user_id": bob.user_id, "handle": bob.handle, "display_name": "Bob"}
    conversation = await open_direct(alice, bob)
    assert (conversation["status"], conversation["requested_by"]) == ("request", alice.user_id)
    again = await alice.person.api.post(f"{DIRECT}/conversations", {"user_id": bob.user_id})
    assert again["conversation"]["id"] == conversation["id"]
    pushed = await bob_sock.wait_for("direct:conversation")
    assert pushed["conversation"]["id"] == conversation["id"]
    to_bob = envelope(bob.user_id, bob.device.device_id, 3)
    first = await alice_sock.emit("direct:send", send_payload(conversation, alice, to_bob))
    assert first["ok"], first
    assert first["message"]["position"] == 1
    got = await bob_sock.wait_for("direct:message")
    assert got["message"]["envelopes"] == [
        {k: to_bob[k] for k in ("user_id", "device_id", "type", "body")}
    ]
    to_alice = envelope(alice.user_id, alice.device.device_id)
    # The recipient of a request may not answer, read or type before accepting it.
    for event, payload in [
        ("direct:send", send_payload(conversation, bob, to_alice)),
        ("direct:read", {"conversation_id": conversation["id"], "up_to_position": 1}),
        ("direct:typing", {"conversation_id": conversation["id"], "is_typing": True}),
    ]:
        answer = await bob_sock.emit(event, payload)
        assert answer["error"]["code"] == "not_accepted", (event, answer)
    delivered = await bob_sock.emit(
        "direct:delivered", {"conversation_id": conversation["id"], "up_to_position": 1}
    )
    assert delivered["counted"]
    receipt = await alice_sock.wait_for("direct:receipt", lambda d: d["user_id"] == bob.user_id)
    assert (receipt["delivered_position"], receipt["read_position"]) == (1, 0)
    # Declined: the requester's sends are refused; accepting later opens it.
    path = f"{DIRECT}/conversations/{conversation['id']}"
    await alice.person.api.post(f"{path}/accept", expect=409)
    declined = await bob.person.api.post(f"{path}/decline")
    assert declined["conversation"]["status"] == "declined"
    answer = await alice_sock.emit("direct:send", send_payload(conversation, alice, to_bob))
    assert answer["error"]["code"] == "request_declined"
    accepted = await bob.person.api.post(f"{path}/accept")
    assert accepted["conversation"]["status"] == "accepted"
    reply = await bob_sock.emit("direct:send", send_payload(conversation, bob, to_alice))
    assert reply["message"]["position"] == 2
    await alice_sock.wait_for("direct:message", lambda d: d["position"] == 2)
    read = await alice_sock.emit(
        "direct:read", {"conversation_id": conversation["id"], "up_to_position": 9}
    )
    mine = next(m for m in read["members"] if m["user_id"] == alice.user_id)
    assert (mine["delivered_position"], mine["read_position"]) == (2, 2)
    typing = await bob_sock.emit(
        "direct:typing", {"conversation_id": conversation["id"], "is_typing": True}
    )
    assert typing["ok"]
    shown = await alice_sock.wait_for("direct:typing")
    assert (shown["user_id"], shown["is_typing"]) == (bob.user_id, True)
    listed = await bob.person.api.get(f"{DIRECT}/conversations")
    assert [c["id"] for c in listed["conversations"]] == [conversation["id"]]


async def test_blocking(world: World) -> None:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    conversation = await open_direct(alice, bob)
    await bob.person.api.post(f"{DIRECT}/conversations/{conversation['id']}/accept")
    blocked = await bob.person.api.post(f"{DIRECT}/blocks", {"user_id": alice.user_id})
    assert blocked == {"blocked": [alice.user_id]}
    alice_sock = await world.socket(alice.person)
    to_bob = envelope(bob.user_id, bob.device.device_id)
    answer = await alice_sock.emit("direct:send", send_payload(conversation, alice, to_bob))
    assert answer["error"]["code"] == "blocked"
    for path in (f"/users/{bob.user_id}/bundle",):
        await alice.person.api.post(f"{DIRECT}{path}", {}, expect=404)
    await alice.person.api.get(f"{DIRECT}/users/by-handle/{bob.handle}", expect=404)
    await alice.person.api.post(f"{DIRECT}/conversations", {"user_id": bob.user_id}, expect=404)
    view = await bob.person.api.get(f"{DIRECT}/conversations/{conversation['id']}")
    assert view["conversation"]["is_blocked"]
    await bob.person.api.call("DELETE", f"{DIRECT}/blocks/{alice.user_id}", expect=200)
    answer = await alice_sock.emit("direct:send", send_payload(conversation, alice, to_bob))
    assert answer["ok"], answer
    # A stranger's pending request is declined by blocking them.
    carol = await chatter(world, "Carol")
    request = await open_direct(carol, bob)
    await bob.person.api.post(f"{DIRECT}/blocks", {"user_id": carol.user_id})
    view = await bob.person.api.get(f"{DIRECT}/conversations/{request['id']}")
    assert view["conversation"]["status"] == "declined"


async def test_stale_device_lists_are_refused_with_the_current_ones(world: World) -> None:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    conversation = await open_direct(alice, bob)
    sock: SocketClient = await world.socket(alice.person)
    bob_phone = await add_device(bob)
    alice_laptop = await add_device(alice)
    to_bob = envelope(bob.user_id, bob.device.device_id, registration_id=bob.device.registration_id)
    answer = await sock.emit("direct:send", send_payload(conversation, alice, to_bob))
    error = answer["error"]
    assert error["code"] == "stale_devices"
    assert {(m["user_id"], m["device_id"]) for m in error["missing"]} == {
        (bob.user_id, bob_phone.device_id),
        (alice.user_id, alice_laptop.device_id),
    }
    assert sorted(d["device_id"] for d in error["devices"][bob.user_id]) == sorted(
        [bob.device.device_id, bob_phone.device_id]
    )
    # A wrong registration id (the device re-registered) and an unknown device: stale too.
    wrong = envelope(
        bob.user_id, bob.device.device_id, registration_id=bob.device.registration_id % 16380 + 1
    )
    ghost = envelope(bob.user_id, 424242)
    everyone = [
        envelope(bob.user_id, bob_phone.device_id),
        envelope(alice.user_id, alice_laptop.device_id),
    ]
    answer = await sock.emit("direct:send", send_payload(conversation, alice, wrong, *everyone))
    assert answer["error"]["stale"] == [{"user_id": bob.user_id, "device_id": bob.device.device_id}]
    answer = await sock.emit(
        "direct:send", send_payload(conversation, alice, to_bob, ghost, *everyone)
    )
    assert answer["error"]["extra"] == [{"user_id": bob.user_id, "device_id": 424242}]
    # Recovered: every device, once; a retry with the same client id stores nothing new.
    payload = send_payload(conversation, alice, to_bob, *everyone)
    sent = await sock.emit("direct:send", payload)
    assert sent["message"]["position"] == 1
    retry = await sock.emit("direct:send", payload)
    assert retry.get("message") == sent["message"], retry
    view = await alice.person.api.get(f"{DIRECT}/conversations/{conversation['id']}")
    assert view["conversation"]["last_position"] == 1
    mine = await alice.person.api.get(
        f"{DIRECT}/conversations/{conversation['id']}/messages?device_id={alice_laptop.device_id}"
    )
    (message,) = mine["messages"]
    assert [e["device_id"] for e in message["envelopes"]] == [alice_laptop.device_id]


async def test_bad_input_is_a_typed_error_and_changes_nothing(world: World) -> None:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    eve = await chatter(world, "Eve")
    conversation = await open_direct(alice, bob)
    sock = await world.socket(alice.person)
    good = envelope(bob.user_id, bob.device.device_id)
    bad_payloads = [
        send_payload(conversation, alice, good | {"type": 2}),
        send_payload(conversation, alice, good | {"body": "not base64!"}),
        send_payload(conversation, alice, good | {"body": "A" * 16388}),
        send_payload(conversation, alice, good | {"device_id": "1"}),
        send_payload(conversation, alice, good | {"extra": 1}),
        send_payload(conversation, alice),
        send_payload(conversation, alice, *[good] * 11),
        send_payload(conversation, alice, good, good),
        send_payload(conversation, alice, good) | {"conversation_id": "x1"},
    ]
    for payload in bad_payloads:
        answer = await sock.emit("direct:send", payload)
        assert answer["error"]["code"] == "validation_error", (payload, answer)
    # Someone else's conversation, or an unknown one: not found, alike.
    eve_sock = await world.socket(eve.person)
    for cid in (conversation["id"], "12345"):
        answer = await eve_sock.emit(
            "direct:send",
            send_payload({"id": cid}, eve, envelope(bob.user_id, bob.device.device_id)),
        )
        assert answer["error"]["code"] == "not_found"
        await eve.person.api.get(f"{DIRECT}/conversations/{cid}", expect=404)
        await eve.person.api.get(f"{DIRECT}/conversations/{cid}/messages", expect=404)
    answer = await sock.emit("direct:send", send_payload(conversation, alice, good, device_id=777))
    assert answer["error"]["code"] == "not_found"
    await alice.person.api.put(f"{DIRECT}/handle", {"handle": bob.handle}, expect=409)
    await alice.person.api.put(f"{DIRECT}/handle", {"handle": ".x"}, expect=422)
    await alice.person.api.post(f"{DIRECT}/conversations", {"user_id": alice.user_id}, expect=422)
    await alice.person.api.post(f"{DIRECT}/conversations", {}, expect=422)
    await alice.person.api.post(
        f"{DIRECT}/invites/accept", {"token": "1.2.forgedforged"}, expect=400
    )
    view = await alice.person.api.get(f"{DIRECT}/conversations/{conversation['id']}")
    assert view["conversation"]["last_position"] == 0


async def test_invitation_link_opens_an_accepted_conversation(world: World) -> None:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    invite = await alice.person.api.post(f"{DIRECT}/invites", {})
    assert invite["url"].endswith(f"/direct#invite={invite['token']}")
    opened = await bob.person.api.post(f"{DIRECT}/invites/accept", {"token": invite["token"]})
    assert opened["conversation"]["status"] == "accepted"
    await alice.person.api.post(f"{DIRECT}/invites/accept", {"token": invite["token"]}, expect=422)
    tampered = invite["token"][:-2] + ("AA" if invite["token"][-2:] != "AA" else "BB")
    await bob.person.api.post(f"{DIRECT}/invites/accept", {"token": tampered}, expect=400)
