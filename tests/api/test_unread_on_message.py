"""The receiving side's unread count rides on ``message:new`` for clients that declared the
``message_unread`` feature: one packet per delivered message. Clients without it also get
``unread:update``, as before (docs/protocol.md, "Unread counts")."""

from __future__ import annotations

from typing import Any

from tests.support.clients import SocketClient, World, unique

FEATURE = ["message_unread"]


def names_for(socket: SocketClient, cid: str) -> list[str]:
    return [
        name
        for name, data in socket.events
        if name in {"message:new", "unread:update"} and data.get("conversation_id") == cid
    ]


async def send(socket: SocketClient, cid: str, text: str) -> str:
    ack = await socket.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": text}
    )
    assert ack["ok"], ack
    return str(ack["message"]["id"])


async def test_one_packet_per_message_for_clients_that_read_the_count_on_it(
    world: World,
) -> None:
    tenant = await world.tenant(agents=1)
    (alice,) = tenant.agents
    alice_console = await world.socket(alice, features=FEATURE)
    assert (await alice_console.emit("presence:set", {"availability": "online"}))["ok"]
    customer = await world.individual("Dana")
    phone = await world.socket(customer, features=FEATURE)
    laptop = await world.socket(customer)  # an older client: no features declared
    opened = await customer.open_conversation(tenant, text="my parcel never came", group="support")
    cid = opened["conversation"]["id"]
    assert opened["conversation"]["status"] == "active", opened["conversation"]

    reply_ids = [await send(alice_console, cid, f"reply {n}") for n in (1, 2)]
    for n, reply_id in enumerate(reply_ids, start=1):
        got = await phone.wait_for("message:new", lambda d, i=reply_id: d["message"]["id"] == i)
        assert got["unread"] == {"side": "customer", "unread": n}
        assert got["position"] == int(got["message"]["position"])
        await laptop.wait_for("unread:update", lambda d, k=n: d["unread"] == k)
    # A socket's events arrive in the order they were published: past the second
    # message, the phone would already hold an unread:update for the first.
    assert names_for(phone, cid).count("unread:update") == 0
    assert names_for(laptop, cid)[-4:] == ["message:new", "unread:update"] * 2

    # A read moves the count with no message to carry it: every socket of the side gets it.
    read = await laptop.emit("receipt:read", {"conversation_id": cid, "up_to": reply_ids[-1]})
    assert read["ok"] and read["unread"] == 0
    zero: dict[str, Any] = await phone.wait_for(
        "unread:update", lambda d: d["conversation_id"] == cid and d["unread"] == 0
    )
    assert zero["side"] == "customer"

    # The customer writes: the console's copy carries the organization's count.
    mine = await send(phone, cid, "thanks")
    got = await alice_console.wait_for("message:new", lambda d: d["message"]["id"] == mine)
    assert got["unread"] == {"side": "org", "unread": 2}
    assert "unread" not in (
        await laptop.wait_for("message:new", lambda d: d["message"]["id"] == mine)
    )
