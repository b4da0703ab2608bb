"""Attachments: type from the content, size limit, participants only."""

from __future__ import annotations

from tests.support.clients import World, unique

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
    too_big = await customer.api.post(
        url, files={"file": ("big.txt", b"a" * (10 * 1024 * 1024 + 1), "text/plain")}, expect=413
    )
    assert too_big["error"]["code"] == "payload_too_large"


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
