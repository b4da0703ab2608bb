"""Attachments: type from the content, size limit, seen only by who may see their message."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from tests.support.clients import Person, World, unique
from tests.support.databases import execute_node
from tests.support.server import RunningServer

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


async def test_upload_send_and_download_by_participants_only(world: World) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    stranger = await world.individual()
    opened = await customer.open_conversation(tenant, text="see picture")
    cid = opened["conversation"]["id"]
    url = f"/api/v1/conversations/{cid}/attachments"

    uploaded = await customer.api.post(
        url, files={"file": ("photo.png", PNG, "application/octet-stream")}, expect=201
    )
    assert uploaded["content_type"] == "image/png" and uploaded["size"] == len(PNG)
    sent = await customer.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("m"), "attachment_id": uploaded["id"]},
        expect=201,
    )
    assert sent["attachment_id"] == uploaded["id"]

    response = await customer.api.http.get(f"/api/v1/attachments/{uploaded['id']}")
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (await stranger.api.http.get(f"/api/v1/attachments/{uploaded['id']}")).status_code == 404
    assert (
        await world.anonymous.http.get(f"/api/v1/attachments/{uploaded['id']}")
    ).status_code == 401
    assert (await stranger.api.http.post(url, files={"file": ("a.png", PNG)})).status_code == 404


async def test_type_is_checked_on_content_not_name(world: World) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    opened = await customer.open_conversation(tenant, text="x")
    url = f"/api/v1/conversations/{opened['conversation']['id']}/attachments"
    refused = await customer.api.post(
        url, files={"file": ("cute-cat.png", EXE, "image/png")}, expect=415
    )
    assert refused["error"]["code"] == "unsupported_type"
    # Errors written for people (issue 13, item 8): the allowed types, the limit in MB.
    assert refused["error"]["message"] == (
        "this type of file cannot be sent; allowed: images (PNG, JPEG, GIF, WebP), "
        "PDF and plain text"
    )
    for size in (10 * 1024 * 1024 + 1, 11 * 1024 * 1024):  # checked by the action; the body limit
        too_big = await customer.api.post(
            url, files={"file": ("big.txt", b"a" * size, "text/plain")}, expect=413
        )
        assert too_big["error"] == {
            "code": "payload_too_large",
            "message": "this file is larger than 10 MB, the most a file may be",
        }


async def test_attachment_of_another_conversation_cannot_be_sent(world: World) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    first = await customer.open_conversation(tenant, text="a")
    second = await customer.open_conversation(tenant, text="b")
    uploaded = await customer.api.post(
        f"/api/v1/conversations/{first['conversation']['id']}/attachments",
        files={"file": ("p.png", PNG)},
        expect=201,
    )
    refused = await customer.api.post(
        f"/api/v1/conversations/{second['conversation']['id']}/messages",
        {"client_id": unique("m"), "attachment_id": uploaded["id"]},
        expect=404,
    )
    assert refused["error"]["code"] == "not_found"


async def upload(person: Person, cid: str, name: str = "p.png") -> dict[str, Any]:
    uploaded: dict[str, Any] = await person.api.post(
        f"/api/v1/conversations/{cid}/attachments", files={"file": (name, PNG)}, expect=201
    )
    return uploaded


async def download_status(person: Person, attachment_id: str) -> tuple[int, Any]:
    response = await person.api.http.get(f"/api/v1/attachments/{attachment_id}")
    return response.status_code, response.json() if response.status_code != 200 else None


async def test_a_file_is_seen_by_exactly_who_may_see_its_message(world: World) -> None:
    """Issue 9, item 2: an internal note's file never reaches the customer; an upload no
    message carries is its uploader's alone; the ids cannot be scanned."""
    tenant = await world.tenant(agents=1)
    agent = tenant.agents[0]
    customer = await world.individual()
    opened = await customer.open_conversation(tenant, text="hello", group="support")
    cid = opened["conversation"]["id"]
    await agent.api.post(f"/api/v1/conversations/{cid}/claim")

    note_file = await upload(agent, cid, "internal.png")
    assert re.fullmatch(r"[0-9a-f]{24}", note_file["id"]), "96 random bits, not a snowflake"
    # Not yet carried by a message: nobody but the uploader sees it, the lead neither.
    assert (await download_status(customer, note_file["id"]))[0] == 404
    assert (await download_status(tenant.supervisor, note_file["id"]))[0] == 404
    assert (await download_status(agent, note_file["id"]))[0] == 200
    # Nobody else may send someone's upload either.
    stolen = await tenant.supervisor.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("m"), "attachment_id": note_file["id"], "kind": "note"},
        expect=404,
    )
    assert stolen["error"]["code"] == "not_found"
    await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("m"), "kind": "note", "attachment_id": note_file["id"]},
        expect=201,
    )
    status, body = await download_status(customer, note_file["id"])
    assert status == 404, "a customer never downloads an internal note's file"
    assert (await download_status(tenant.supervisor, note_file["id"]))[0] == 200
    # A file goes with one message only: sending it again (as a public reply) is refused.
    again = await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("m"), "attachment_id": note_file["id"]},
        expect=404,
    )
    assert again["error"]["code"] == "not_found"

    public = await upload(agent, cid, "for-you.png")
    await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("m"), "text": "here", "attachment_id": public["id"]},
        expect=201,
    )
    assert (await download_status(customer, public["id"]))[0] == 200

    # Item 11: another tenant's real file and a made-up id read exactly alike.
    outsider = await world.tenant(agents=0)
    stranger = await world.individual()
    made_up = "0123456789abcdef01234567"
    for who in (outsider.owner, stranger, customer):
        real = await download_status(who, note_file["id"])
        fake = await download_status(who, made_up)
        assert real == fake == (404, body), (real, fake)


async def test_downloads_are_rate_limited(spawn_server: Callable[..., RunningServer]) -> None:
    node = spawn_server({"RAASEL_DOWNLOAD_RATE": "3/3600"})
    world = World(node)
    try:
        tenant = await world.tenant(agents=0)
        customer = await world.individual()
        opened = await customer.open_conversation(tenant, text="x")
        mine = await upload(customer, opened["conversation"]["id"])
        statuses = [(await download_status(customer, mine["id"]))[0] for _ in range(3)]
        limited = await customer.api.http.get(f"/api/v1/attachments/{'f' * 24}")
        assert statuses == [200] * 3 and limited.status_code == 429
        assert "downloads" in limited.json()["error"]["message"]
    finally:
        await world.close()


async def test_disk_is_bounded_per_organization_and_per_customer(
    spawn_server: Callable[..., RunningServer],
) -> None:
    """Issue 9, item 7: an organization's quota, a customer's budget, and uploads no
    message carries deleted after the retention time."""
    node = spawn_server(
        {
            "RAASEL_CUSTOMER_UPLOAD_BUDGET_BYTES": str(2 * len(PNG)),
            "RAASEL_ORG_STORAGE_QUOTA_BYTES": str(3 * len(PNG)),
            "RAASEL_RETENTION_SWEEP_SECONDS": "0.2",
        }
    )
    world = World(node)
    try:
        tenant = await world.tenant(agents=0)
        visitor_session = await world.anonymous.post(
            "/api/v1/auth/visitor", {"organization": tenant.org["slug"]}, expect=201
        )
        visitor = Person(visitor_session, world.api(visitor_session["access_token"]))
        opened = await visitor.open_conversation(tenant, text="files")
        cid = opened["conversation"]["id"]
        kept = [await upload(visitor, cid), await upload(visitor, cid)]
        over = await visitor.api.post(
            f"/api/v1/conversations/{cid}/attachments", files={"file": ("p.png", PNG)}, expect=413
        )
        assert over["error"]["code"] == "quota_exceeded"
        assert "the most a customer may store" in over["error"]["message"]
        other = await world.individual()
        other_cid = (await other.open_conversation(tenant, text="x"))["conversation"]["id"]
        await upload(other, other_cid)
        full = await other.api.post(
            f"/api/v1/conversations/{other_cid}/attachments",
            files={"file": ("p.png", PNG)},
            expect=413,
        )
        assert full["error"]["code"] == "quota_exceeded"
        assert "organization" in full["error"]["message"]

        await visitor.api.post(
            f"/api/v1/conversations/{cid}/messages",
            {"client_id": unique("m"), "attachment_id": kept[0]["id"]},
            expect=201,
        )
        execute_node(
            node.var_dir,
            "UPDATE attachments SET created_at = '2000-01-01 00:00:00.000000' WHERE id = :id",
            id=kept[1]["id"],
        )
        for _ in range(100):
            if (await download_status(visitor, kept[1]["id"]))[0] == 404:
                break
            await asyncio.sleep(0.1)
        assert (await download_status(visitor, kept[1]["id"]))[0] == 404, "unattached: deleted"
        assert (await download_status(visitor, kept[0]["id"]))[0] == 200, "attached: kept"
        files = [p.name for p in (node.var_dir / "attachments").rglob("*") if p.is_file()]
        assert kept[1]["id"] not in files and kept[0]["id"] in files
    finally:
        await world.close()
