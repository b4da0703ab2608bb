"""Social channels, second part, end to end against our fake Graph API: files agents send
(uploaded to the provider, then sent as image/document/audio/video, within each
platform's limits or refused in the console), the provider's own times kept beside the
server's, and an admin disconnecting a channel (secrets destroyed, its webhook refused,
its conversations kept)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.channel_setup import (
    Connected,
    connect,
    contact_id,
    graph_env,
    post,
    settled,
    status_payload,
    text_payload,
    wait,
)
from tests.support import channel_payloads as p
from tests.support.clients import Person, Tenant, World, unique
from tests.support.databases import query_node
from tests.support.fake_graph import FakeGraph, running_graph
from tests.support.files import PNG
from tests.support.server import RunningServer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraph]:
    with running_graph() as fake:
        yield fake


@pytest.fixture(scope="module")
def node(graph: FakeGraph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("channel-files"), graph_env(graph))
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def cworld(node: RunningServer) -> AsyncIterator[World]:
    w = World(node)
    yield w
    await w.close()


async def opened(world: World, tenant: Tenant, channel: Connected, **kw: Any) -> tuple[str, str]:
    """A conversation the channel's customer opened, claimed by the tenant's agent: (its
    id, the contact's platform id)."""
    contact = contact_id(channel)
    text = f"hello {unique('')}"
    payload = text_payload(channel, contact, f"mid.{contact}.{unique('')}", text, **kw)
    assert (await post(world, channel, payload)).is_success

    async def find() -> str | None:
        listed = await tenant.supervisor.api.get("/api/v1/conversations?scope=all&limit=100")
        for c in listed:
            if c["subject"].endswith(text):
                return str(c["id"])
        return None

    cid: str = await wait(find)
    await tenant.agents[0].api.post(f"/api/v1/conversations/{cid}/claim")
    return cid, contact


async def attach(person: Person, cid: str, name: str, data: bytes) -> str:
    uploaded = await person.api.post(
        f"/api/v1/conversations/{cid}/attachments", files={"file": (name, data)}, expect=201
    )
    return str(uploaded["id"])


async def send(
    person: Person, cid: str, text: str, attachment_id: str, expect: int = 201
) -> dict[str, Any]:
    body = {"client_id": unique("f"), "text": text, "attachment_id": attachment_id}
    answer: dict[str, Any] = await person.api.post(
        f"/api/v1/conversations/{cid}/messages", body, expect=expect
    )
    return answer


async def test_agents_files_go_to_each_platform(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    agent = a.agents[0]
    group = a.groups["support"]["id"]

    # WhatsApp: an image goes up to /media, then as an image message with its caption.
    whatsapp = await connect(cworld, a, "whatsapp", group_id=group)
    cid, wa = await opened(cworld, a, whatsapp)
    await send(agent, cid, "your receipt", await attach(agent, cid, "receipt.png", PNG))
    (call,) = await asyncio.to_thread(graph.wait_for_sends, 1, whatsapp.account)
    upload = next(u for u in graph.uploads if u.path == f"/{whatsapp.account}/media")
    assert upload.data == PNG and upload.content_type == "image/png"
    assert upload.fields == {"messaging_product": "whatsapp", "type": "image/png"}
    assert call.token == whatsapp.token and call.body["to"] == wa
    assert call.body["type"] == "image"
    assert call.body["image"] == {"id": upload.media_id, "caption": "your receipt"}
    # A PDF goes as a document, with its name.
    await send(agent, cid, "", await attach(agent, cid, "terms.pdf", PDF))
    document = (await asyncio.to_thread(graph.wait_for_sends, 2, whatsapp.account))[-1]
    assert document.body["type"] == "document"
    assert document.body["document"]["filename"] == "terms.pdf"
    # Over WhatsApp's 5 MB for images: refused in the console, nothing sent.
    big = PNG + bytes(5 * 1024 * 1024)
    refused = await send(agent, cid, "big", await attach(agent, cid, "big.png", big), 422)
    assert refused["error"]["code"] == "channel_media_refused"
    assert "WhatsApp takes images of at most 5 MB" in refused["error"]["message"]
    texts = [
        m["text"]
        for m in (await agent.api.get(f"/api/v1/conversations/{cid}/messages"))["messages"]
    ]
    assert "big" not in texts

    # Messenger: the Attachment Upload API, then the file and its text as two messages;
    # statuses of either one tick the reply.
    messenger = await connect(cworld, a, "messenger", group_id=group)
    mcid, psid = await opened(cworld, a, messenger)
    sent = await send(agent, mcid, "the terms", await attach(agent, mcid, "terms.pdf", PDF))
    file_call, text_call = await asyncio.to_thread(graph.wait_for_sends, 2, messenger.account)
    upload = next(u for u in graph.uploads if u.path == f"/{messenger.account}/message_attachments")
    assert upload.data == PDF and "platform" not in upload.fields
    assert '"type": "file"' in upload.fields["message"]
    assert file_call.body["message"] == {
        "attachment": {"type": "file", "payload": {"attachment_id": upload.media_id}}
    }
    assert file_call.body["messaging_type"] == "RESPONSE"
    assert text_call.body["message"] == {"text": "the terms"}
    assert text_call.answer is not None

    async def through() -> bool:
        info = await agent.api.get(f"/api/v1/conversations/{mcid}/channel")
        return bool(info["sent_position"] >= sent["position"])

    await wait(through)
    late = status_payload(messenger, psid, text_call.answer, "delivered")
    assert (await post(cworld, messenger, late)).is_success
    await settled(cworld, messenger)

    async def delivered() -> bool:
        view = await agent.api.get(f"/api/v1/conversations/{mcid}")
        return bool(view["receipts"]["customer"]["delivered_position"] >= sent["position"])

    await wait(delivered)

    # Instagram: uploads name the platform; a plain-text file it does not take is refused.
    instagram = await connect(cworld, a, "instagram", group_id=group)
    icid, _ = await opened(cworld, a, instagram)
    await send(agent, icid, "", await attach(agent, icid, "p.png", PNG))
    (image,) = await asyncio.to_thread(graph.wait_for_sends, 1, instagram.account)
    upload = next(u for u in graph.uploads if u.path == f"/{instagram.account}/message_attachments")
    assert upload.fields["platform"] == "instagram"
    assert image.body["message"]["attachment"]["type"] == "image"
    refused = await send(
        agent, icid, "", await attach(agent, icid, "notes.txt", b"plain words\n" * 4), 422
    )
    assert "Instagram does not take text/plain" in refused["error"]["message"]

    # An upload the provider refuses for good fails that message, told to the agents.
    sock = await cworld.socket(agent)
    graph.fail_next(f"/{whatsapp.account}/media", 400, 131053, "Media upload error")
    failed_send = await send(agent, cid, "again", await attach(agent, cid, "again.png", PNG))
    failed = await sock.wait_for("channel:message_failed", lambda d: d["conversation_id"] == cid)
    assert failed["position"] == failed_send["position"] and "131053" in failed["error"]


async def test_provider_times_kept_beside_the_servers(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    channel = await connect(cworld, a, "whatsapp", group_id=a.groups["support"]["id"])
    # The customer wrote an hour ago (delivered late), then again now.
    earlier = p.now_s(-3600)
    cid, wa = await opened(cworld, a, channel, ts=earlier)
    later = p.now_s(-5)
    text = f"second {unique('')}"
    payload = text_payload(channel, wa, f"wamid.T2{wa}", text, ts=later)
    assert (await post(cworld, channel, payload)).is_success
    await settled(cworld, channel)
    info = await a.supervisor.api.get(f"/api/v1/conversations/{cid}/channel")
    page = await a.supervisor.api.get(f"/api/v1/conversations/{cid}/messages")
    positions = [m["position"] for m in page["messages"] if m["kind"] != "system"]
    assert info["provider_times"] == [
        {
            "position": positions[0],
            "provider_sent_at": datetime.fromtimestamp(earlier, UTC).isoformat(),
        },
        {
            "position": positions[1],
            "provider_sent_at": datetime.fromtimestamp(later, UTC).isoformat(),
        },
    ]
    # Ordered by position; the server's own time is the message's created_at.
    first = page["messages"][-2]
    assert datetime.fromisoformat(first["created_at"]) > datetime.fromtimestamp(earlier, UTC)


async def test_admin_disconnects_a_channel(
    cworld: World, graph: FakeGraph, node: RunningServer
) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    other = await cworld.tenant(policy="manual", agents=1)
    agent = a.agents[0]
    channel = await connect(cworld, a, "messenger", group_id=a.groups["support"]["id"])
    cid, psid = await opened(cworld, a, channel)
    url = f"/api/v1/orgs/{a.org_id}/channels/{channel.id}"
    # Only the organization's admins, and only its own channels.
    await agent.api.call("DELETE", url, expect=403)
    await other.owner.api.call(
        "DELETE", f"/api/v1/orgs/{other.org_id}/channels/{channel.id}", expect=404
    )
    await other.owner.api.call("DELETE", url, expect=404)  # not its organization
    await a.owner.api.call("DELETE", f"/api/v1/orgs/{a.org_id}/channels/nothex", expect=422)

    await a.owner.api.call("DELETE", url, expect=204)
    await a.owner.api.call("DELETE", url, expect=404)  # once
    await a.owner.api.get(url, expect=404)
    assert await a.owner.api.get(f"/api/v1/orgs/{a.org_id}/channels") == []
    # Its webhook refuses everything, signed or not, and the subscription check.
    again = text_payload(channel, psid, f"m_DEL{psid}", "still there?")
    assert (await post(cworld, channel, again)).status_code == 404
    check = await cworld.anonymous.http.get(
        channel.hook,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": channel.verify_token,
            "hub.challenge": "42",
        },
    )
    assert check.status_code == 404 and "42" not in check.text
    # The secrets are gone from the database, not only hidden.
    rows = query_node(
        node.var_dir,
        "SELECT access_token_sealed, app_secret_sealed, verify_token_sealed, status "
        "FROM channels WHERE id = :id",
        id=channel.id,
    )
    assert [tuple(r) for r in rows] == [("", "", "", "deleted")]
    # The conversation stays, with its history; a reply is refused with a clear reason.
    page = await agent.api.get(f"/api/v1/conversations/{cid}/messages")
    assert next(m["text"] for m in page["messages"] if m["kind"] != "system").startswith("hello")
    info = await agent.api.get(f"/api/v1/conversations/{cid}/channel")
    assert info["channel"]["status"] == "deleted"
    refused = await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("d"), "text": "anyone?"},
        expect=409,
    )
    assert refused["error"]["code"] == "channel_deleted"
    note = {"client_id": unique("n"), "text": "noted", "kind": "note"}
    await agent.api.post(f"/api/v1/conversations/{cid}/messages", note, expect=201)
    assert graph.sends(channel.account) == []
    # The account may be connected again, as a new channel.
    body = {
        "platform": "messenger",
        "name": "again",
        "external_id": channel.account,
        "access_token": f"EAAG{unique('t')}",
        "app_secret": f"appsecret{unique('s')}",
        "verify_token": f"verify{unique('v')}",
    }
    made = await a.owner.api.post(f"/api/v1/orgs/{a.org_id}/channels", body, expect=201)
    assert made["id"] != channel.id


async def test_failed_status_and_per_number_throughput(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    agent = a.agents[0]
    # One send per second for this number, across nodes (the ephemeral store's window).
    channel = await connect(
        cworld, a, "whatsapp", group_id=a.groups["support"]["id"], throughput_per_second=1
    )
    cid, wa = await opened(cworld, a, channel)
    sock = await cworld.socket(agent)
    sent = []
    for n in range(3):
        body = {"client_id": unique("q"), "text": f"reply {n}"}
        sent.append(await agent.api.post(f"/api/v1/conversations/{cid}/messages", body, expect=201))
    calls = await asyncio.to_thread(graph.wait_for_sends, 3, channel.account, 60)
    assert [c.body["text"]["body"] for c in calls] == ["reply 0", "reply 1", "reply 2"]
    # Never faster than the limit (a busy machine only makes it slower).
    assert calls[1].at - calls[0].at >= 0.95 and calls[2].at - calls[1].at >= 0.95

    async def through() -> bool:
        info = await agent.api.get(f"/api/v1/conversations/{cid}/channel")
        return bool(info["sent_position"] >= sent[-1]["position"])

    await wait(through)
    # A message read, then reported failed (late, out of order): it stays read.
    first, second = calls[0].answer, calls[1].answer
    assert first is not None and second is not None
    read = status_payload(channel, wa, first, "read")
    assert (await post(cworld, channel, read)).is_success
    failed_late = p.wa_payload(
        channel.waba,
        p.wa_change(channel.account, statuses=[p.wa_status(first, "failed", wa, code=131047)]),
    )
    assert (await post(cworld, channel, failed_late)).is_success
    # A message that did fail (never delivered): shown to the agents.
    failed = p.wa_payload(
        channel.waba,
        p.wa_change(
            channel.account,
            statuses=[p.wa_status(calls[2].answer or "", "failed", wa, code=131026)],
        ),
    )
    assert (await post(cworld, channel, failed)).is_success
    told = await sock.wait_for("channel:message_failed", lambda d: d["conversation_id"] == cid)
    assert told["position"] == sent[2]["position"] and "131026" in told["error"]
    await settled(cworld, channel)
    info = await agent.api.get(f"/api/v1/conversations/{cid}/channel")
    assert [f["position"] for f in info["failures"]] == [sent[2]["position"]]
    assert len(sock.received("channel:message_failed")) == 1
    view = await agent.api.get(f"/api/v1/conversations/{cid}")
    assert view["receipts"]["customer"]["read_position"] >= sent[0]["position"]
