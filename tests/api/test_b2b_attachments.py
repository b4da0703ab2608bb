"""Files in ``b2b`` conversations (issue 11): both organizations upload and download
the files of the conversation's public messages; a note's file stays on the side that
wrote it; a third organization, the peer's agents outside the routed group and an
individual get "not found" alike. Over TLS with python-socketio clients (the messages)
and httpx (the files); docs/protocol.md, "Organization to organization"."""

from __future__ import annotations

from typing import Any

from tests.api.test_attachments import PNG
from tests.api.test_b2b import online, open_b2b
from tests.support.clients import Person, SocketClient, World, unique


async def upload(person: Person, cid: str, expect: int = 201) -> Any:
    return await person.api.post(
        f"/api/v1/conversations/{cid}/attachments",
        files={"file": ("scan.png", PNG, "application/octet-stream")},
        expect=expect,
    )


async def send_file(sock: SocketClient, cid: str, attachment_id: str, kind: str = "text") -> Any:
    ack = await sock.emit(
        "message:send",
        {
            "conversation_id": cid,
            "client_id": unique("m"),
            "text": "the scan",
            "kind": kind,
            "attachment_id": attachment_id,
        },
    )
    assert ack["ok"], ack
    return ack["message"]


async def status_of(person: Person, attachment_id: str) -> int:
    response = await person.api.http.get(f"/api/v1/attachments/{attachment_id}")
    if response.status_code == 200:
        assert response.content == PNG
    return response.status_code


async def test_both_sides_share_files_and_keep_their_notes_files(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=2, policy="round_robin")
    c = await world.tenant(agents=1)
    pat = await world.individual("Pat")
    s_a = await online(world, a.agents[0])
    s_b = await online(world, b.agents[0])
    opened = await open_b2b(a.agents[0], b, group_id=b.groups["support"]["id"])
    cid = opened["conversation"]["id"]
    # B's second agent is in no group of B's: it does not see the conversation.
    outsider = b.agents[1]
    await b.owner.api.patch(
        f"/api/v1/orgs/{b.org_id}/members/{outsider.user_id}", {"group_ids": []}
    )

    # The peer uploads and sends a file; the opener downloads it, and the peer too.
    from_b = await upload(b.agents[0], cid)
    await send_file(s_b, cid, from_b["id"])
    # The opener uploads and sends one; the peer downloads it.
    from_a = await upload(a.agents[0], cid)
    await send_file(s_a, cid, from_a["id"])
    for person in (a.agents[0], a.supervisor, b.agents[0], b.supervisor):
        for file in (from_b, from_a):
            assert await status_of(person, file["id"]) == 200, (person.email, file)

    # Each side's note file: its own side only.
    a_note = await upload(a.agents[0], cid)
    await send_file(s_a, cid, a_note["id"], kind="note")
    b_note = await upload(b.agents[0], cid)
    await send_file(s_b, cid, b_note["id"], kind="note")
    assert await status_of(a.agents[0], a_note["id"]) == 200
    assert await status_of(b.agents[0], b_note["id"]) == 200
    assert await status_of(b.agents[0], a_note["id"]) == 404, "A's note file reached B"
    assert await status_of(b.supervisor, a_note["id"]) == 404, "A's note file reached B"
    assert await status_of(a.agents[0], b_note["id"]) == 404, "B's note file reached A"
    assert await status_of(a.supervisor, b_note["id"]) == 404, "B's note file reached A"

    # An upload no message carried yet is its uploader's alone, even on its own side.
    pending = await upload(b.agents[0], cid)
    assert await status_of(b.supervisor, pending["id"]) == 404
    assert await status_of(a.agents[0], pending["id"]) == 404

    # Walls: a third organization, B's agent outside the routed group, an individual.
    for stranger in (c.agents[0], c.owner, outsider, pat):
        for file in (from_a, from_b, a_note, b_note, pending):
            assert await status_of(stranger, file["id"]) == 404, (stranger.email, file)
        response = await stranger.api.http.post(
            f"/api/v1/conversations/{cid}/attachments", files={"file": ("a.png", PNG)}
        )
        assert response.status_code == 404, (stranger.email, response.text)
