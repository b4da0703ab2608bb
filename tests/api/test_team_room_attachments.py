"""Team rooms' files over TLS with real clients (docs/protocol.md, "Team rooms"): a member
uploads into the room, sends it with ``room:send``, the room's members download it; and
as tight as support conversations' files: nobody but the room's members (not a lead
who is not in it, not a teammate outside it, not a removed member, not another
organization's agent, not a customer) gets anything but "not found"; an upload is its
uploader's alone until a message carries it, and only they may send it, only in its room.
"""

from __future__ import annotations

from typing import Any

from tests.support.clients import Person, SocketClient, World, unique

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 60


async def upload(person: Person, room_id: str, data: bytes = PNG, expect: int = 201) -> Any:
    return await person.api.call(
        "POST",
        f"/api/v1/rooms/{room_id}/attachments",
        files={"file": ("../../chart.png", data, "application/octet-stream")},
        expect=expect,
    )


async def download_status(person: Person, room_id: str, file_id: str) -> int:
    response = await person.api.http.get(f"/api/v1/rooms/{room_id}/attachments/{file_id}")
    return response.status_code


async def send(socket: SocketClient, room_id: str, **fields: Any) -> dict[str, Any]:
    payload = {"room_id": room_id, "client_id": unique("f"), "text": ""} | fields
    return await socket.emit("room:send", payload)


async def test_a_room_file_is_uploaded_sent_and_seen_by_the_room_only(world: World) -> None:
    tenant = await world.tenant(agents=3)
    ana, ben, cid = tenant.agents  # Cid is a teammate outside the room
    lead = tenant.supervisor
    other = await world.tenant(agents=1)
    customer = await world.individual("Pat")
    rid = (
        await ana.api.post(
            "/api/v1/rooms", {"name": "Billing", "member_ids": [ben.user_id]}, expect=201
        )
    )["id"]
    ana_socket, ben_socket = await world.socket(ana), await world.socket(ben)

    uploaded = await upload(ana, rid)
    fid = uploaded["id"]
    assert uploaded["room_id"] == rid and uploaded["content_type"] == "image/png"
    assert uploaded["size"] == len(PNG) and uploaded["filename"] == "chart.png"
    # Not sent yet: the uploader's alone.
    assert await download_status(ana, rid, fid) == 200
    assert await download_status(ben, rid, fid) == 404
    # Only its uploader may send it.
    refused = await send(ben_socket, rid, attachment_id=fid)
    assert not refused["ok"] and refused["error"]["code"] == "not_found", refused

    ack = await send(ana_socket, rid, attachment_id=fid, text="the chart")
    assert ack["ok"], ack
    message = ack["message"]
    assert message["attachment_id"] == fid and message["text"] == "the chart"
    heard = await ben_socket.wait_for("room:message", lambda d: d["message"]["id"] == message["id"])
    assert heard["message"]["attachment_id"] == fid
    synced = await ben_socket.emit("room:sync", {"rooms": [{"room_id": rid}]})
    assert [m["attachment_id"] for m in synced["rooms"][0]["messages"]] == [fid]

    response = await ben.api.http.get(f"/api/v1/rooms/{rid}/attachments/{fid}")
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Sent once: a second message cannot carry it again.
    again = await send(ana_socket, rid, attachment_id=fid)
    assert not again["ok"] and again["error"]["code"] == "not_found", again

    # Everyone outside the room: not found, for the download and the upload alike.
    for outsider in (cid, lead, other.agents[0], other.supervisor, customer):
        assert await download_status(outsider, rid, fid) == 404
        await upload(outsider, rid, expect=404)
    # Another room's id with this file: not found (the room is in the lookup).
    elsewhere = (await cid.api.post("/api/v1/rooms", {"name": "Elsewhere"}, expect=201))["id"]
    assert await download_status(cid, elsewhere, fid) == 404
    cid_socket = await world.socket(cid)
    theirs = await send(cid_socket, elsewhere, attachment_id=fid)
    assert not theirs["ok"] and theirs["error"]["code"] == "not_found", theirs
    mine_elsewhere = (await upload(cid, elsewhere))["id"]
    crossed = await send(ana_socket, rid, attachment_id=mine_elsewhere)
    assert not crossed["ok"] and crossed["error"]["code"] == "not_found", crossed

    # A removed member loses the room's files; a lead added to the room gains them.
    await ana.api.call("DELETE", f"/api/v1/rooms/{rid}/members/{ben.user_id}", expect=200)
    assert await download_status(ben, rid, fid) == 404
    await lead.api.post(f"/api/v1/rooms/{rid}/members", {"user_id": lead.user_id})
    assert await download_status(lead, rid, fid) == 200


async def test_room_uploads_refuse_bad_files_and_archived_rooms(world: World) -> None:
    tenant = await world.tenant(agents=1)
    ana = tenant.agents[0]
    rid = (await ana.api.post("/api/v1/rooms", {"name": "Ops"}, expect=201))["id"]
    refused = await upload(ana, rid, EXE, expect=415)
    assert refused["error"]["code"] == "unsupported_type"
    ana_socket = await world.socket(ana)
    empty = await send(ana_socket, rid)  # neither text nor a file
    assert not empty["ok"] and empty["error"]["code"] == "validation_error", empty
    bad_id = await send(ana_socket, rid, attachment_id="not-hex!")
    assert not bad_id["ok"] and bad_id["error"]["code"] == "validation_error", bad_id
    await ana.api.get(f"/api/v1/rooms/{rid}/attachments/{'f' * 24}", expect=404)
    pending = (await upload(ana, rid))["id"]
    await ana.api.post(f"/api/v1/rooms/{rid}/archive")
    archived = await upload(ana, rid, expect=403)
    assert archived["error"]["code"] == "archived"
    late = await send(ana_socket, rid, attachment_id=pending)
    assert not late["ok"] and late["error"]["code"] == "archived", late
    assert await download_status(ana, rid, pending) == 200  # still the uploader's
