"""Social channels end to end, over TLS with real clients, against our fake Graph API:
signed webhooks of each platform (valid, wrong, missing, replayed, duplicate ids,
batches, statuses out of order), the round trip to the agent's reply and its ticks, the
24-hour window and templates, provider errors, media, and secrets at rest."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.api.channel_setup import (
    connect,
    contact_id,
    digits,
    graph_env,
    post,
    settled,
    status_payload,
    text_payload,
    wait,
)
from tests.support import channel_payloads as p
from tests.support.clients import Person, SocketClient, Tenant, World, unique
from tests.support.databases import node_database_url, query_node
from tests.support.fake_graph import FakeGraph, running_graph
from tests.support.files import PNG
from tests.support.server import ROOT, TEST_ENV, RunningServer


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraph]:
    with running_graph() as fake:
        yield fake


@pytest.fixture(scope="module")
def node(graph: FakeGraph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("channels"), graph_env(graph))
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def cworld(node: RunningServer) -> AsyncIterator[World]:
    w = World(node)
    yield w
    await w.close()


async def history(person: Person, cid: str) -> list[dict[str, Any]]:
    page = await person.api.get(f"/api/v1/conversations/{cid}/messages?limit=100")
    return [m for m in page["messages"] if m["kind"] != "system"]


async def conversation_of(tenant: Tenant, text: str) -> str:
    """The id of the conversation whose last message says ``text`` (waits for it)."""

    async def find() -> str | None:
        listed = await tenant.supervisor.api.get("/api/v1/conversations?scope=all&limit=100")
        for c in listed:
            preview = (c.get("last_message") or {}).get("preview")
            if preview == text or c["subject"].endswith(text):
                return str(c["id"])
        return None

    found: str = await wait(find)
    return found


async def sent_through(person: Person, cid: str, position: int) -> None:
    """Wait until the node recorded the provider's answer for ``position`` (statuses for
    it may come after that; earlier ones are retried, see channel_inbound.py)."""

    async def recorded() -> bool:
        info = await person.api.get(f"/api/v1/conversations/{cid}/channel")
        return bool(info["sent_position"] >= position)

    await wait(recorded)


async def customer_receipts(person: Person, cid: str) -> dict[str, Any]:
    view = await person.api.get(f"/api/v1/conversations/{cid}")
    receipts: dict[str, Any] = view["receipts"]["customer"]
    return receipts


async def reply(sock: SocketClient, cid: str, text: str) -> dict[str, Any]:
    ack = await sock.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("r"), "text": text}
    )
    assert ack["ok"], ack
    message: dict[str, Any] = ack["message"]
    return message


async def test_whatsapp_round_trip_webhook_reply_and_ticks(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    channel = await connect(cworld, a, "whatsapp")
    assert channel.token not in json.dumps(channel.view)
    # Meta's subscription check: the challenge only for the channel's verify token.
    ok = await cworld.anonymous.http.get(
        channel.hook,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": channel.verify_token,
            "hub.challenge": "1158201444",
        },
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    refused = await cworld.anonymous.http.get(
        channel.hook,
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "7654321"},
    )
    assert refused.status_code == 403 and "7654321" not in refused.text

    # No group on the channel: the AI router (or the default group) takes it, and the
    # supervisor, who sees every group, answers.
    agent = a.supervisor
    supervisor_sock = agent_sock = await cworld.socket(agent)
    wa = contact_id(channel)
    first = f"I was charged twice {unique('')}"
    answer = await post(cworld, channel, text_payload(channel, wa, "wamid.IN1" + wa, first))
    assert answer.status_code == 200, answer.text
    # The first message of a conversation without a group waits for the AI router (its
    # models load on first use).
    new = await supervisor_sock.wait_for(
        "message:new", lambda d: d["message"]["text"] == first, within=60
    )
    cid = new["conversation_id"]
    view = await a.supervisor.api.get(f"/api/v1/conversations/{cid}")
    assert view["customer_panel"]["name"] == f"Customer {wa[-4:]}"
    assert view["group_id"] is not None  # routed (the router's pick or the default group)
    info = await a.supervisor.api.get(f"/api/v1/conversations/{cid}/channel")
    assert info["channel"]["platform"] == "whatsapp" and info["contact_id"] == wa
    assert info["window"]["state"] == "open"

    await agent.api.post(f"/api/v1/conversations/{cid}/claim")
    sent = await reply(agent_sock, cid, "A refund is on its way")
    (call,) = await asyncio.to_thread(graph.wait_for_sends, 1, channel.account)
    assert call.token == channel.token
    assert call.body["to"] == wa and call.body["text"]["body"] == "A refund is on its way"
    assert call.answer is not None
    await sent_through(agent, cid, sent["position"])

    # Read arrives before delivered (allowed); the late "delivered" moves nothing back.
    assert (
        await post(cworld, channel, status_payload(channel, wa, call.answer, "read"))
    ).is_success
    update = await agent_sock.wait_for(
        "receipt:update",
        lambda d: (
            d["conversation_id"] == cid
            and d["side"] == "customer"
            and d["read_position"] >= sent["position"]
        ),
    )
    assert update["delivered_position"] >= sent["position"]
    late = status_payload(channel, wa, call.answer, "delivered")
    assert (await post(cworld, channel, late)).is_success
    await settled(cworld, channel)
    assert (await customer_receipts(a.supervisor, cid))["read_position"] == sent["position"]

    # The customer answers quoting our message: the reply is kept.
    quoted = f"thanks {unique('')}"
    payload = text_payload(channel, wa, "wamid.IN2" + wa, quoted, reply_to=call.answer)
    assert (await post(cworld, channel, payload)).is_success
    got = await agent_sock.wait_for("message:new", lambda d: d["message"]["text"] == quoted)
    # The reply link is written just after the message's own unit (message:new can come
    # first): wait for the delivery to be done.
    await settled(cworld, channel)
    info = await a.supervisor.api.get(f"/api/v1/conversations/{cid}/channel")
    assert {"position": got["message"]["position"], "replies_to": sent["position"]} in info[
        "replies"
    ]
    texts = [m["text"] for m in await history(a.supervisor, cid)]
    assert texts == [first, "A refund is on its way", quoted]


@pytest.mark.parametrize("platform", ["whatsapp", "messenger", "instagram"])
async def test_signed_fixtures_of_each_platform(
    cworld: World, graph: FakeGraph, platform: str
) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    channel = await connect(cworld, a, platform, group_id=a.groups["support"]["id"])
    contact = contact_id(channel)
    text = f"hello from {platform} {unique('')}"
    valid = text_payload(channel, contact, f"mid.{contact}.1", text)

    wrong = await cworld.anonymous.http.post(
        channel.hook,
        content=json.dumps(valid).encode(),
        headers={
            "X-Hub-Signature-256": p.signed("not-the-secret", valid)[1]["X-Hub-Signature-256"]
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_signature"
    missing = await cworld.anonymous.http.post(channel.hook, content=json.dumps(valid).encode())
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_signature"
    garbage = await post(cworld, channel, b"\xff\xfe not json")
    assert garbage.status_code == 400
    assert await settled(cworld, channel) == {}  # nothing refused was stored

    first = await post(cworld, channel, valid)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    replay = await post(cworld, channel, valid)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    # The same message id again in another body (Meta's at-least-once delivery).
    again = text_payload(channel, contact, f"mid.{contact}.1", text)
    again["entry"][0]["retry_marker"] = unique("")
    assert (await post(cworld, channel, again)).is_success
    cid = await conversation_of(a, text)
    await settled(cworld, channel)
    assert [m["text"] for m in await history(a.supervisor, cid)] == [text]

    # A batch: two entries, two contacts, and an unknown item type; all processed.
    other = contact_id(channel)
    texts = [f"batch one {unique('')}", f"batch two {unique('')}", f"batch three {unique('')}"]
    if platform == "whatsapp":
        batch = p.wa_payload(
            channel.waba,
            p.wa_change(
                channel.account,
                contacts=[p.wa_contact(contact, "A")],
                messages=[p.wa_text(contact, f"mid.{contact}.2", texts[0])],
            ),
            p.wa_change(
                channel.account,
                contacts=[p.wa_contact(other, "B")],
                messages=[
                    p.wa_text(other, f"mid.{other}.1", texts[1]),
                    {"from": other, "id": f"mid.{other}.x", "type": "unsupported"},
                    p.wa_text(other, f"mid.{other}.2", texts[2]),
                ],
            ),
            entries=2,
        )
    else:
        batch = p.messaging_payload(
            platform,
            channel.account,
            p.m_text(contact, channel.account, f"mid.{contact}.2", texts[0]),
            p.m_text(other, channel.account, f"mid.{other}.1", texts[1]),
            {"sender": {"id": other}, "recipient": {"id": channel.account}, "postback": {}},
            p.m_text(other, channel.account, f"mid.{other}.2", texts[2]),
            entries=2,
        )
    assert len(batch["entry"]) == 2
    assert (await post(cworld, channel, batch)).is_success
    other_cid = await conversation_of(a, texts[2])
    await settled(cworld, channel)
    assert [m["text"] for m in await history(a.supervisor, cid)] == [text, texts[0]]
    assert [m["text"] for m in await history(a.supervisor, other_cid)] == texts[1:]

    # Two replies; their statuses arrive out of order: the ticks never move back.
    agent = a.agents[0]
    sock = await cworld.socket(agent)
    await agent.api.post(f"/api/v1/conversations/{cid}/claim")
    before = len(graph.sends(channel.account))
    one = await reply(sock, cid, "first answer")
    two = await reply(sock, cid, "second answer")
    calls = (await asyncio.to_thread(graph.wait_for_sends, before + 2, channel.account))[before:]
    assert [
        c.body["text"]["body"] if platform == "whatsapp" else c.body["message"]["text"]
        for c in calls
    ] == ["first answer", "second answer"]
    if platform != "whatsapp":
        assert all(c.body["messaging_type"] == "RESPONSE" for c in calls)
    ids = [c.answer for c in calls]
    assert all(ids)
    await sent_through(agent, cid, two["position"])
    for mid, status in ((ids[1], "read"), (ids[0], "delivered"), (ids[0], "read")):
        assert mid is not None
        assert (
            await post(cworld, channel, status_payload(channel, contact, mid, status))
        ).is_success
    await settled(cworld, channel)
    receipts = await customer_receipts(a.supervisor, cid)
    assert receipts["read_position"] == two["position"] > one["position"]
    assert receipts["delivered_position"] == two["position"]


async def test_window_templates_and_human_agent(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    agent = a.agents[0]
    whatsapp = await connect(cworld, a, "whatsapp", group_id=a.groups["support"]["id"])
    graph.templates = [
        {
            "name": "order_update",
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hello {{1}}, your order {{2}} shipped."}],
        },
    ]
    wa = contact_id(whatsapp)
    old = f"old question {unique('')}"
    payload = text_payload(whatsapp, wa, "wamid.OLD" + wa, old, ts=p.now_s(-25 * 3600))
    assert (await post(cworld, whatsapp, payload)).is_success
    cid = await conversation_of(a, old)
    await agent.api.post(f"/api/v1/conversations/{cid}/claim")
    refused = await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("w"), "text": "too late"},
        expect=409,
    )
    assert refused["error"]["code"] == "outside_window"
    assert "template" in refused["error"]["message"]
    note = {"client_id": unique("n"), "text": "internal note passes", "kind": "note"}
    await agent.api.post(f"/api/v1/conversations/{cid}/messages", note, expect=201)
    info = await agent.api.get(f"/api/v1/conversations/{cid}/channel")
    assert info["window"]["state"] == "template_only"
    templates = await agent.api.get(f"/api/v1/conversations/{cid}/channel/templates")
    assert templates == [
        {
            "name": "order_update",
            "language": "en_US",
            "category": "UTILITY",
            "body": "Hello {{1}}, your order {{2}} shipped.",
            "parameters": 2,
        },
    ]
    wrong = {
        "client_id": unique("t"),
        "name": "order_update",
        "language": "en_US",
        "parameters": ["Ann"],
    }
    await agent.api.post(f"/api/v1/conversations/{cid}/channel/templates", wrong, expect=422)
    before = len(graph.sends(whatsapp.account))
    body = {
        "client_id": unique("t"),
        "name": "order_update",
        "language": "en_US",
        "parameters": ["Ann", "A-17"],
    }
    sent = await agent.api.post(f"/api/v1/conversations/{cid}/channel/templates", body, expect=201)
    assert sent["text"] == "Hello Ann, your order A-17 shipped."
    call = (await asyncio.to_thread(graph.wait_for_sends, before + 1, whatsapp.account))[-1]
    assert call.body["type"] == "template"
    assert call.body["template"]["name"] == "order_update"
    assert call.body["template"]["components"][0]["parameters"][1]["text"] == "A-17"
    texts = [m["text"] for m in await history(agent, cid)]
    assert "internal note passes" in texts and "too late" not in texts
    assert len(graph.sends(whatsapp.account)) == before + 1  # the note never left

    # Messenger two days after the customer wrote: the reply goes tagged HUMAN_AGENT.
    messenger = await connect(cworld, a, "messenger", group_id=a.groups["support"]["id"])
    psid = contact_id(messenger)
    older = f"messenger question {unique('')}"
    ts_ms = (p.now_s(-2 * 86400)) * 1000
    assert (
        await post(
            cworld, messenger, text_payload(messenger, psid, "m_OLD" + psid, older, ts_ms=ts_ms)
        )
    ).is_success
    mcid = await conversation_of(a, older)
    await agent.api.post(f"/api/v1/conversations/{mcid}/claim")
    await agent.api.post(
        f"/api/v1/conversations/{mcid}/messages",
        {"client_id": unique("h"), "text": "sorry for the wait"},
        expect=201,
    )
    (call,) = await asyncio.to_thread(graph.wait_for_sends, 1, messenger.account)
    assert call.body["messaging_type"] == "MESSAGE_TAG" and call.body["tag"] == "HUMAN_AGENT"
    assert call.body["recipient"] == {"id": psid}


async def test_provider_errors_retried_or_shown(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    agent = a.agents[0]
    channel = await connect(cworld, a, "whatsapp", group_id=a.groups["support"]["id"])
    wa = contact_id(channel)
    text = f"help {unique('')}"
    assert (await post(cworld, channel, text_payload(channel, wa, "wamid.E" + wa, text))).is_success
    cid = await conversation_of(a, text)
    await agent.api.post(f"/api/v1/conversations/{cid}/claim")
    sock = await cworld.socket(agent)
    path = f"/{channel.account}/messages"

    # Rate limits (130429, then 131056): retried with back-off until it goes, once.
    graph.fail_next(path, 400, 130429, "Rate limit hit")
    graph.fail_next(path, 400, 131056, "Pair rate limit hit")
    await reply(sock, cid, "after the rate limit")
    calls = await asyncio.to_thread(graph.wait_for_sends, 3, channel.account)
    assert [c.answer for c in calls[:2]] == [None, None] and calls[2].answer
    assert [c.body["text"]["body"] for c in calls] == ["after the rate limit"] * 3

    # A message the provider refuses for good: the agent is told, the next one goes.
    graph.fail_next(path, 400, 131026, "Message undeliverable")
    refused = await reply(sock, cid, "undeliverable")
    failed = await sock.wait_for("channel:message_failed", lambda d: d["conversation_id"] == cid)
    assert failed["position"] == refused["position"] and "131026" in failed["error"]
    info = await agent.api.get(f"/api/v1/conversations/{cid}/channel")
    assert info["failures"][0]["position"] == refused["position"]

    # An expired token: the channel stops and says so; a new token sends what waited.
    graph.fail_next(path, 401, 190, "Error validating access token: Session has expired")
    waiting = await reply(sock, cid, "after the new token")
    error = await sock.wait_for("channel:error", lambda d: d["conversation_id"] == cid)
    assert error["status"] == "token_expired" and error["position"] == waiting["position"]
    url = f"/api/v1/orgs/{a.org_id}/channels/{channel.id}"
    assert (await a.owner.api.get(url))["status"] == "token_expired"
    fresh = f"EAAG{unique('fresh')}"
    count = len(graph.sends(channel.account))
    updated = await a.owner.api.patch(url, {"access_token": fresh})
    assert updated["status"] == "active" and fresh not in json.dumps(updated)
    call = (await asyncio.to_thread(graph.wait_for_sends, count + 1, channel.account))[-1]
    assert call.token == fresh and call.body["text"]["body"] == "after the new token"


async def test_media_fetched_checked_and_stored(cworld: World, graph: FakeGraph) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    channel = await connect(cworld, a, "whatsapp")
    wa = contact_id(channel)
    media_id, bad_id = unique("9"), unique("8")
    graph.add_media(media_id, PNG, "image/png")
    graph.add_media(bad_id, b"MZ\x90\x00" + bytes(200), "application/pdf")  # not a PDF at all
    caption = f"my receipt {unique('')}"
    payload = p.wa_payload(
        channel.waba,
        p.wa_change(
            channel.account,
            contacts=[p.wa_contact(wa, "Ann")],
            messages=[
                p.wa_media(wa, "wamid.IMG" + wa, "image", media_id, caption=caption),
                p.wa_media(
                    wa,
                    "wamid.DOC" + wa,
                    "document",
                    bad_id,
                    mime="application/pdf",
                    filename="invoice.pdf",
                ),
            ],
        ),
    )
    assert (await post(cworld, channel, payload)).is_success
    cid = await conversation_of(a, "[image]")
    await settled(cworld, channel)
    messages = await history(a.supervisor, cid)
    with_file = [m for m in messages if m["attachment_id"]]
    assert len(with_file) == 1 and with_file[0]["text"] == caption
    downloaded = await a.supervisor.api.http.get(
        f"/api/v1/attachments/{with_file[0]['attachment_id']}"
    )
    assert downloaded.status_code == 200 and downloaded.content == PNG
    assert any(m["text"].startswith("[document not accepted") for m in messages)
    fetches = [c for c in graph.calls if c.path in (f"/{media_id}", f"/files/{media_id}")]
    assert len(fetches) == 2 and all(c.token == channel.token for c in fetches)


def _database_text(node: RunningServer) -> bytes:
    """Everything the node's database holds, as bytes: the SQLite files themselves, or
    every channel-related row of PostgreSQL."""
    url = node_database_url(node.var_dir)
    if url.startswith("sqlite"):
        files = sorted(node.var_dir.glob("raasel.sqlite3*"))
        assert files
        return b"".join(f.read_bytes() for f in files)
    rows = []
    for table in ("channels", "org_data_keys", "channel_webhooks", "audit_log"):
        rows += query_node(node.var_dir, f"SELECT * FROM {table}")
    return repr(rows).encode()


async def test_secrets_sealed_at_rest_and_key_rotation(
    cworld: World, node: RunningServer, graph: FakeGraph
) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    channel = await connect(cworld, a, "messenger")
    listed = await a.owner.api.get(f"/api/v1/orgs/{a.org_id}/channels")
    seen = json.dumps(listed)
    for secret in (channel.token, channel.app_secret, channel.verify_token):
        assert secret not in seen
    # Agents and supervisors do not see channels at all.
    await a.supervisor.api.get(f"/api/v1/orgs/{a.org_id}/channels", expect=403)
    key_file = node.var_dir / "encryption.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # Checkpoint-free scan: the WAL holds the newest pages, the main file the rest.
    data = _database_text(node)
    for secret in (channel.token, channel.app_secret, channel.verify_token):
        assert secret.encode() not in data
    assert b"appsecret" not in data and b"EAAG" not in data
    log = (node.var_dir / "server.log").read_bytes()
    assert channel.token.encode() not in log and channel.app_secret.encode() not in log

    old_key = key_file.read_text()
    env = {**TEST_ENV, "RAASEL_VAR_DIR": str(node.var_dir), "PYTHONPATH": str(ROOT / "src")}
    if not node_database_url(node.var_dir).startswith("sqlite"):
        env["RAASEL_DATABASE_URL"] = node_database_url(node.var_dir)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "raasel.cli", "rotate-encryption-key"],
        env=env | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "rotated" in done.stdout
    assert key_file.read_text() != old_key
    assert (node.var_dir / "encryption.key.previous").read_text() == old_key
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The running node opens the re-sealed secrets with the new key: webhooks still verify.
    psid = contact_id(channel)
    text = f"after rotation {unique('')}"
    answer = await post(cworld, channel, text_payload(channel, psid, "m_ROT" + psid, text))
    assert answer.status_code == 200, answer.text
    await conversation_of(a, text)
    data = _database_text(node)
    assert channel.token.encode() not in data and channel.app_secret.encode() not in data


async def test_channel_admin_input_is_checked(cworld: World) -> None:
    a = await cworld.tenant(policy="manual", agents=1)
    url = f"/api/v1/orgs/{a.org_id}/channels"
    base = {
        "platform": "whatsapp",
        "name": "x",
        "external_id": "123",
        "access_token": "EAAGxxxxxxxx",
        "app_secret": "secretsecret",
        "verify_token": "verifyverify",
    }
    await a.owner.api.post(url, base, expect=422)  # WhatsApp needs its business account id
    for bad in (
        {"platform": "telegram"},
        {"external_id": "abc"},
        {"access_token": "short"},
        {"unknown": 1},
        {"access_token": "x" * 2000},
    ):
        await a.owner.api.post(url, base | {"business_account_id": "9"} | bad, expect=422)
    made = await a.owner.api.post(
        url, base | {"business_account_id": "9", "external_id": digits()}, expect=201
    )
    again = base | {"business_account_id": "9", "external_id": made["external_id"]}
    conflict = await a.owner.api.post(url, again, expect=409)
    assert conflict["error"]["code"] == "channel_exists"
    await a.agents[0].api.post(url, again, expect=403)  # agents do not connect channels
    await cworld.anonymous.post(
        "/api/v1/channels/0123456789abcdef01234567/webhook", {"x": 1}, expect=404
    )
