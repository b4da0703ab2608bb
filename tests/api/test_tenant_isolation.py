"""Tenant isolation (SPEC 5): nobody of one organization can read, list, join, change or
infer anything of another's, over REST or the socket, and live events stay inside.

Organization A runs a real conversation (messages, an internal note, an attachment);
organization B's owner, supervisor and agent then try every authenticated REST route
(enumerated from /openapi.json, so a new route is probed without editing this file)
and every conversation socket event on A's ids.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from raasel_sdk.device import LocalDevice
from tests.support.clients import Person, SocketClient, Tenant, World, unique
from tests.support.files import PNG

# A 1x1 PNG: the server checks the type on the bytes.


@dataclass
class Scene:
    """Organization A's conversation and everything of it that must not reach B."""

    a: Tenant
    customer: Person
    cid: str
    attachment_id: str
    message_ids: list[str]
    channel_id: str = ""
    community_id: str = ""
    room_id: str = ""
    room_file_id: str = ""
    secrets: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    sockets: dict[str, SocketClient] = field(default_factory=dict)

    @property
    def last_message_id(self) -> str:
        return self.message_ids[-1]


async def run_conversation(world: World, a: Tenant) -> Scene:
    """A customer and A's agent talk; every kind of content ends up in A's conversation."""
    marker = unique("")
    customer = await world.individual(f"Customer {marker}")
    agent = a.agents[0]
    sockets = {
        "customer": await world.socket(customer),
        "agent": await world.socket(agent),
        "supervisor": await world.socket(a.supervisor),
    }
    secrets = {
        "open": f"my card ends in 4242 {marker}",
        "reply": f"refund approved {marker}",
        "note": f"internal: VIP customer {marker}",
        "caption": f"receipt attached {marker}",
        "file": f"receipt-{marker}.png",
    }
    opened = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": a.org_id,
            "group_id": a.groups["support"]["id"],
            "text": secrets["open"],
            "client_id": unique("c"),
        },
        expect=201,
    )
    cid = opened["conversation"]["id"]
    await agent.api.post(f"/api/v1/conversations/{cid}/claim")
    reply = await sockets["agent"].emit(
        "message:send", {"conversation_id": cid, "client_id": unique("r"), "text": secrets["reply"]}
    )
    assert reply["ok"], reply
    await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("n"), "text": secrets["note"], "kind": "note"},
        expect=201,
    )
    attachment = await customer.api.post(
        f"/api/v1/conversations/{cid}/attachments",
        files={"file": (secrets["file"], PNG, "image/png")},
        expect=201,
    )
    with_file = await customer.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("f"), "text": secrets["caption"], "attachment_id": attachment["id"]},
        expect=201,
    )
    assert (await sockets["customer"].emit("typing:start", {"conversation_id": cid}))["ok"]
    read = await sockets["agent"].emit(
        "receipt:read", {"conversation_id": cid, "up_to": with_file["id"]}
    )
    assert read["ok"] and read["counted"], read
    await agent.api.patch(f"/api/v1/conversations/{cid}", {"tags": [f"tag-{marker}"]})
    await sockets["customer"].wait_for(
        "message:new", lambda d: d["message"]["id"] == reply["message"]["id"]
    )
    await sockets["supervisor"].wait_for(
        "message:new", lambda d: d["message"]["id"] == with_file["id"]
    )
    history = await a.supervisor.api.get(f"/api/v1/conversations/{cid}/messages")
    message_ids = [m["id"] for m in history["messages"]]
    texts = [m["text"] for m in history["messages"] if m["kind"] != "system"]
    assert texts == [secrets[k] for k in ("open", "reply", "note", "caption")], texts
    # A's social channel: its secrets must never reach anyone, B least of all.
    channel_secrets = {
        "access_token": f"EAAG{marker}tokentoken",
        "app_secret": f"appsecret{marker}",
        "verify_token": f"verify{marker}",
    }
    channel = await a.owner.api.post(
        f"/api/v1/orgs/{a.org_id}/channels",
        {
            "platform": "messenger",
            "name": f"Page {marker}",
            "external_id": str(10**12 + int.from_bytes(marker.encode()) % 10**12),
            **channel_secrets,
        },
        expect=201,
    )
    # A's community channel (its id is a snowflake, a social channel's is not).
    community = await a.owner.api.post(
        "/api/v1/community", {"name": f"Community {marker}", "join_mode": "invite"}, expect=201
    )
    community_id = (community.get("channel") or community)["id"]
    # A's team room (docs/protocol.md, "Team rooms"): its name and id never reach B.
    room = await a.agents[0].api.post(
        "/api/v1/rooms",
        {"name": f"Room {marker}", "member_ids": [a.supervisor.user_id]},
        expect=201,
    )
    # A file sent in A's room: only its members may fetch it.
    room_file = await agent.api.call(
        "POST",
        f"/api/v1/rooms/{room['id']}/attachments",
        files={"file": (f"room-{marker}.png", PNG, "image/png")},
        expect=201,
    )
    room_text = f"room file {marker}"
    payload = {"room_id": room["id"], "client_id": unique("r"), "text": room_text}
    sent = await sockets["agent"].emit("room:send", payload | {"attachment_id": room_file["id"]})
    assert sent["ok"], sent
    people = [customer, a.owner, a.supervisor, *a.agents]
    return Scene(
        a=a,
        customer=customer,
        cid=cid,
        attachment_id=attachment["id"],
        message_ids=message_ids,
        secrets=[
            *secrets.values(),
            f"tag-{marker}",
            customer.session["user"]["display_name"],
            customer.email,
            a.org["name"],
            a.org["slug"],
            *channel_secrets.values(),
            channel["name"],
            room["name"],
            room_text,
            f"room-{marker}.png",
        ],
        channel_id=channel["id"],
        community_id=community_id,
        room_id=room["id"],
        room_file_id=room_file["id"],
        ids={cid, a.org_id, attachment["id"], channel["id"], community_id, room["id"]}
        | {room_file["id"]}
        | set(message_ids)
        | {p.user_id for p in people}
        | {g["id"] for g in a.groups.values()},
        sockets=sockets,
    )


def assert_no_leak(text: str, scene: Scene, allowed: set[str], context: object) -> None:
    """Nothing of A in ``text``: no content, no names, no ids but those the caller sent."""
    for secret in scene.secrets:
        assert secret not in text, (context, secret, text[:500])
    for leaked in scene.ids - allowed:
        assert leaked not in text, (context, leaked, text[:500])


async def snapshot(scene: Scene) -> dict[str, Any]:
    """A's state as its own people see it: anything B managed to change shows here."""
    a, cid, org = scene.a, scene.cid, scene.a.org_id
    return {
        "org": await a.owner.api.get(f"/api/v1/orgs/{org}"),
        "groups": await a.owner.api.get(f"/api/v1/orgs/{org}/groups"),
        "members": await a.owner.api.get(f"/api/v1/orgs/{org}/members"),
        "channels": await a.owner.api.get(f"/api/v1/orgs/{org}/channels"),
        "audit": await a.owner.api.get(f"/api/v1/orgs/{org}/audit"),
        "conversation": await a.supervisor.api.get(f"/api/v1/conversations/{cid}"),
        "history": await a.supervisor.api.get(f"/api/v1/conversations/{cid}/messages"),
        "customer_list": await scene.customer.api.get("/api/v1/conversations"),
        "org_list": await a.supervisor.api.get("/api/v1/conversations"),
        "rooms": await a.agents[0].api.get("/api/v1/rooms"),
        "room_members": await a.agents[0].api.get(f"/api/v1/rooms/{scene.room_id}/members"),
    }


# A valid body per request schema, so that a refusal comes from the tenant check and not
# from validation. Each tries to do harm: take A's conversation, demote A's agent...
Body = Callable[[Scene, Person], dict[str, Any]]
BODIES: dict[str, Body] = {
    "OrgCreateBody": lambda s, p: {"slug": unique("org"), "name": "Probe"},
    "OrgUpdateBody": lambda s, p: {"name": "Taken over", "is_listed": False},
    "GroupCreateBody": lambda s, p: {"slug": unique("grp"), "name": "Moles"},
    "GroupUpdateBody": lambda s, p: {"name": "Taken over", "policy": "manual"},
    "InvitationBody": lambda s, p: {
        "email": f"{unique('mole')}@example.com",
        "display_name": "Mole",
        "role": "agent",
    },
    "MemberUpdateBody": lambda s, p: {"role": "agent", "is_active": False},
    "AvailabilityBody": lambda s, p: {"availability": "online"},
    "OpenConversationBody": lambda s, p: {
        "org_id": s.a.org_id,
        "group_id": s.a.groups["support"]["id"],
        "text": "probe",
        "client_id": unique("p"),
    },
    "ConversationUpdateBody": lambda s, p: {"tags": ["taken"], "priority": "urgent"},
    "SendMessageBody": lambda s, p: {"client_id": unique("p"), "text": "probe from B"},
    "WatermarkBody": lambda s, p: {"up_to": s.last_message_id},
    "AssignBody": lambda s, p: {"agent_id": p.user_id},
    "TransferBody": lambda s, p: {"agent_id": p.user_id},
    "EscalateBody": lambda s, p: {"supervisor_id": p.user_id},
    # Routing inside the prober's own organization (across organizations needs plan plus).
    "RouteBody": lambda s, p: {"text": "billing question", "org_id": p.session["org_id"]},
    # The team inbox (api/rest/inbox.py): B acting on A's conversation, or in its own org.
    "BulkBody": lambda s, p: {"conversation_ids": [s.cid], "action": "resolve"},
    "LabelsBody": lambda s, p: {"add": ["taken"], "remove": ["vip"]},
    "RatingBody": lambda s, p: {"rating": 1, "comment": "probe"},
    "LabelBody": lambda s, p: {"name": "probe", "color": "#000000"},
    "CannedBody": lambda s, p: {"shortcut": "probe", "title": "Probe", "body": "probe"},
    "CannedUpdateBody": lambda s, p: {"shortcut": "probe", "title": "Probe", "body": "probe"},
    "InboxSettingsBody": lambda s, p: {"require_label_to_resolve": False},
    # Outreach (api/rest/outreach.py): B writing first to A's customer, whom B never served.
    "OutreachBody": lambda s, p: {
        "customer_id": s.customer.user_id,
        "text": "probe",
        "client_id": unique("p"),
    },
    "ContactBody": lambda s, p: {"is_blocked": True},
    # Ticket fields: B's own list of categories; resolving A's conversation with a note.
    "CategoriesBody": lambda s, p: {"categories": ["Probe"]},
    "ResolveBody": lambda s, p: {"resolution_note": "probe"},
    # Direct chats (api/rest/direct.py): no member's session reaches them at all.
    "HandleBody": lambda s, p: {"handle": unique("probe")},
    "DeviceBody": lambda s, p: LocalDevice.create(p.user_id, 1).registration(),
    "PreKeysBody": lambda s, p: {"prekeys": LocalDevice.create(p.user_id, 1).generate_pre_keys(1)},
    "SignedPreKeyBody": lambda s, p: LocalDevice.create(p.user_id, 1).signed_pre_key(),
    "ClaimBody": lambda s, p: {},
    "EmptyBody": lambda s, p: {},
    "OpenDirectBody": lambda s, p: {"user_id": s.customer.user_id},
    "BlockBody": lambda s, p: {"user_id": s.customer.user_id},
    "InviteAcceptBody": lambda s, p: {"token": f"{s.customer.user_id}.1.forged-signature"},
    # Social channels (api/rest/channels.py): B connecting, changing, sending a template.
    "ChannelCreateBody": lambda s, p: {
        "platform": "messenger",
        "name": "Probe page",
        "external_id": str(10**13 + int(unique("")[:6].encode().hex(), 16) % 10**12),
        "access_token": "EAAGprobeprobe",
        "app_secret": "probeprobe",
        "verify_token": "probeprobe",
    },
    "ChannelUpdateBody": lambda s, p: {"access_token": "EAAGtakenover", "is_enabled": False},
    "TemplateSendBody": lambda s, p: {
        "client_id": unique("p"),
        "name": "order_update",
        "language": "en_US",
        "parameters": [],
    },
    "LeaveEmailBody": lambda s, p: {"email": "mole@example.com"},
    # Platform support (api/rest/platform.py): B asking the platform as A, escalating A's
    # conversation, writing into it as an operator (members never reach operator routes).
    "PlatformOpenBody": lambda s, p: {"category": "billing", "text": "probe", "client_id": "p1"},
    # Opening a b2b conversation with A is legitimate; with A's support conversation's id
    # as A's "group" it must find nothing (and say nothing of A).
    "B2BOpenBody": lambda s, p: {
        "org_id": s.a.org_id,
        "group_id": s.cid,
        "text": "probe",
        "client_id": unique("p"),
    },
    "PlatformEscalateBody": lambda s, p: {"reason": "probe"},
    "OperatorSendBody": lambda s, p: {"client_id": unique("p"), "text": "probe"},
    # Community channels (api/rest/community.py): B's own channel is legitimate; joining
    # with a made-up code, muting in A's channel id finds nothing.
    "CreateCommunityBody": lambda s, p: {"name": "Probe"},
    "JoinByCodeBody": lambda s, p: {"code": "probeprobeprobe01"},
    "MuteBody": lambda s, p: {"is_muted": True},
    # Team rooms: B putting A's agent into B's room, or itself into A's room.
    "CreateRoomBody": lambda s, p: {"name": "Probe room", "member_ids": [s.a.agents[0].user_id]},
    "AddMemberBody": lambda s, p: {"user_id": p.user_id},
}

# Ends the prober's own session; tests/api/test_auth.py covers it.
SKIPPED = {("post", "/api/v1/auth/logout")}


def path_values(scene: Scene) -> dict[str, str]:
    return {
        "conversation_id": scene.cid,
        "org_id": scene.a.org_id,
        "group_id": scene.a.groups["support"]["id"],
        "user_id": scene.a.agents[0].user_id,
        "attachment_id": scene.attachment_id,
        "after_id": scene.message_ids[0],
        "position": "1",
        # No invitation of A's is pending: the route answers as for a made-up id.
        "invitation_id": scene.cid,
        "domain": "a-claim.example",
        # Names and ids of the team inbox that B's organization does not have.
        "name": "vip",
        "canned_id": scene.cid,
        # Direct chats: a device id and a handle (every direct route refuses members).
        "device_id": "1",
        "handle": "probe",
        "channel_id": scene.channel_id,
        "room_id": scene.room_id,
        "action": "remove",
    }


async def probe_rest(scene: Scene, prober: Person, spec: dict[str, Any]) -> list[str]:
    """Every authenticated operation, as ``prober``, on A's ids; returns what was probed."""
    values = path_values(scene)
    probed = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if "security" not in op or (method, path) in SKIPPED:
                continue  # public routes (login, directory, health) are not tenant data
            url, allowed = path, set()
            for param in op.get("parameters", []):
                if param["in"] != "path":
                    continue
                name = param["name"]
                assert name in values, f"{method} {path}: give this test A's {name}"
                value = values[name]
                if name == "channel_id" and path.startswith("/api/v1/community"):
                    value = scene.community_id
                if name == "attachment_id" and path.startswith("/api/v1/rooms"):
                    value = scene.room_file_id  # the file sent in A's room
                url = url.replace("{" + name + "}", value)
                allowed.add(values[name])
            kwargs: dict[str, Any] = {}
            content = op.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in content:
                kwargs["files"] = {"file": ("probe.png", PNG, "image/png")}
            elif "application/json" in content:
                schema = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                assert schema in BODIES, f"{method} {path}: add a valid {schema} to BODIES"
                body = BODIES[schema](scene, prober)
                allowed |= {v for v in body.values() if isinstance(v, str)}
                allowed |= {
                    i for v in body.values() if isinstance(v, list) for i in v if isinstance(i, str)
                }
                kwargs["json"] = body
            response = await prober.api.http.request(method.upper(), url, **kwargs)
            context = (prober.session.get("role"), method, url, response.status_code)
            if url != path:  # it names something of A's
                assert response.status_code in (403, 404), (context, response.text)
                assert response.json()["error"]["code"] in ("forbidden", "not_found"), context
            else:
                assert response.status_code < 500, (context, response.text)
            assert_no_leak(response.text, scene, allowed, context)
            probed.append(f"{method} {path}")
    return probed


async def test_rest_routes_refuse_another_tenants_ids(world: World) -> None:
    a, b = await world.tenant(policy="manual", agents=1), await world.tenant(agents=1)
    scene = await run_conversation(world, a)
    spec = await world.anonymous.get("/openapi.json")
    before = await snapshot(scene)

    for prober in (b.owner, b.supervisor, b.agents[0]):
        probed = await probe_rest(scene, prober, spec)
        # The enumeration really reached A's conversation, org and attachment routes.
        for expected in (
            "get /api/v1/conversations/{conversation_id}/messages",
            "post /api/v1/conversations/{conversation_id}/assign",
            "patch /api/v1/orgs/{org_id}/members/{user_id}",
            "get /api/v1/attachments/{attachment_id}",
            "patch /api/v1/orgs/{org_id}/channels/{channel_id}",
            "get /api/v1/conversations/{conversation_id}/channel",
            "post /api/v1/rooms/{room_id}/members",
            "post /api/v1/rooms/{room_id}/attachments",
            "get /api/v1/rooms/{room_id}/attachments/{attachment_id}",
        ):
            assert expected in probed

    assert await snapshot(scene) == before
    # B's own views do not list A's conversation either.
    for person in (b.owner, b.supervisor, b.agents[0]):
        for scope in ("all", "queue", "mine"):
            listed = await person.api.get(f"/api/v1/conversations?scope={scope}")
            assert_no_leak(json.dumps(listed), scene, set(), (scope, "list"))
    # B's leads' overview of every team room of their organization: none of A's.
    for person in (b.owner, b.supervisor):
        rooms = await person.api.get("/api/v1/rooms?scope=organization")
        assert_no_leak(json.dumps(rooms), scene, set(), ("rooms", "organization"))
    # B's inbox views, with the peer's b2b branches (kind=b2b too): none of A's.
    for person, queries in (
        (b.owner, ("view=all", "view=all&kind=b2b", "view=resolved&kind=b2b")),
        (b.supervisor, ("view=queue", "view=unassigned&kind=b2b")),
        (b.agents[0], ("view=mine&kind=b2b", "view=queue&kind=b2b")),
    ):
        for query in queries:
            page = await person.api.get(f"/api/v1/inbox/conversations?{query}")
            assert_no_leak(json.dumps(page), scene, set(), ("inbox", query))


def socket_probes(scene: Scene) -> list[tuple[str, dict[str, Any]]]:
    cid, last = scene.cid, scene.last_message_id
    return [
        ("message:send", {"conversation_id": cid, "client_id": unique("b"), "text": "from B"}),
        (
            "message:send",
            {"conversation_id": cid, "client_id": unique("b"), "text": "note", "kind": "note"},
        ),
        ("message:history", {"conversation_id": cid}),
        ("message:history", {"conversation_id": cid, "limit": 100}),
        ("receipt:delivered", {"conversation_id": cid, "up_to": last}),
        ("receipt:read", {"conversation_id": cid, "up_to": last}),
        ("typing:start", {"conversation_id": cid}),
        ("typing:start", {"conversation_id": cid, "is_note": True}),
        ("typing:stop", {"conversation_id": cid}),
    ]


async def barrier(scene: Scene) -> None:
    """Both sides of A type once; once A's sockets saw that, any earlier event has arrived."""
    customer_id, agent_id = scene.customer.user_id, scene.a.agents[0].user_id
    sockets = scene.sockets
    count = {name: len(sock.events) for name, sock in sockets.items()}
    assert (await sockets["customer"].emit("typing:start", {"conversation_id": scene.cid}))["ok"]
    assert (await sockets["agent"].emit("typing:start", {"conversation_id": scene.cid}))["ok"]

    for name, who in (("agent", customer_id), ("supervisor", agent_id), ("customer", agent_id)):
        await next_event(
            sockets[name],
            count[name],
            "typing",
            lambda d, w=who: d["user_id"] == w and d["is_typing"],
        )


async def next_event(
    sock: SocketClient, since: int, event: str, where: Callable[[Any], bool], within: float = 10
) -> Any:
    """The first ``event`` matching ``where`` among those received after the first ``since``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        for name, data in sock.events[since:]:
            if name == event and where(data):
                return data
        assert loop.time() < deadline, f"no new {event}; saw {sock.events[since:]}"
        await asyncio.sleep(0.02)


async def counts_settled(scene: Scene) -> None:
    """A's consoles got the ``inbox:counts`` that follows the scene's last conversation
    change (published 0.2 s after it, debounced): it cannot arrive during the probes."""
    for name in ("agent", "supervisor"):
        sock = scene.sockets[name]
        names = [event for event, _ in sock.events]
        last = max((i for i, e in enumerate(names) if e == "conversation:updated"), default=-1)
        await next_event(sock, last + 1, "inbox:counts", lambda d: True)


async def test_socket_events_refuse_another_tenants_conversation(world: World) -> None:
    a, b = await world.tenant(policy="manual", agents=1), await world.tenant(agents=1)
    scene = await run_conversation(world, a)
    probers = {
        "owner": await world.socket(b.owner),
        "supervisor": await world.socket(b.supervisor),
        "agent": await world.socket(b.agents[0]),
    }
    await barrier(scene)
    await counts_settled(scene)
    before = await snapshot(scene)
    seen = {name: len(sock.events) for name, sock in scene.sockets.items()}

    for role, sock in probers.items():
        for event, payload in socket_probes(scene):
            ack = await sock.emit(event, payload)
            assert ack["ok"] is False and ack["error"]["code"] == "not_found", (role, event, ack)
            assert_no_leak(json.dumps(ack), scene, {scene.cid}, (role, event))
        # sync answers per conversation, so one unknown id does not fail the others.
        ack = await sock.emit(
            "sync", {"conversations": [{"conversation_id": scene.cid, "after": "0"}]}
        )
        assert ack["ok"] is True, ack
        [item] = ack["conversations"]
        assert item["conversation_id"] == scene.cid and item["error"]["code"] == "not_found"
        assert set(item) == {"conversation_id", "error"}, item
        assert_no_leak(json.dumps(ack), scene, {scene.cid}, (role, "sync"))

    # Nothing was stored and none of A's sockets heard of B: after A's own typing
    # arrives, the only new events are that typing.
    assert await snapshot(scene) == before
    await barrier(scene)
    own = {scene.customer.user_id, scene.a.agents[0].user_id}
    for name, sock in scene.sockets.items():
        new = sock.events[seen[name] :]
        assert new, name
        assert all(e == "typing" and d["user_id"] in own for e, d in new), (name, new)


async def test_live_events_stay_inside_their_tenant(world: World) -> None:
    b = await world.tenant(agents=1)
    b_sockets = [await world.socket(p) for p in (b.owner, b.supervisor, b.agents[0])]
    ack = await b_sockets[2].emit("presence:set", {"availability": "online"})
    assert ack["ok"], ack

    a = await world.tenant(policy="manual", agents=1)
    scene = await run_conversation(world, a)
    await scene.sockets["agent"].emit(
        "typing:start", {"conversation_id": scene.cid, "is_note": True}
    )
    await scene.sockets["agent"].emit("presence:set", {"availability": "online"})
    await a.agents[0].api.post(f"/api/v1/conversations/{scene.cid}/escalate", {})
    # A's events did flow meanwhile: A's supervisor saw them.
    a_seen = {name for name, _ in scene.sockets["supervisor"].events}
    assert {"message:new", "typing", "conversation:updated"} <= a_seen, a_seen

    # B's supervisor changes availability: every B console hears it, after anything earlier.
    ack = await b_sockets[1].emit("presence:set", {"availability": "away"})
    assert ack["ok"], ack
    for sock in b_sockets:
        await sock.wait_for(
            "presence:update",
            lambda d: d["user_id"] == b.supervisor.user_id and d["availability"] == "away",
        )
    b_people = {p.user_id for p in (b.owner, b.supervisor, *b.agents)}
    for sock in b_sockets:
        for name, data in sock.events:
            assert name == "presence:update" and data["user_id"] in b_people, (name, data)
            assert_no_leak(json.dumps(data), scene, set(), name)


async def test_customer_cannot_reach_another_customers_conversation(world: World) -> None:
    a = await world.tenant(policy="manual", agents=1)
    scene = await run_conversation(world, a)
    cid = scene.cid
    other = await world.individual("Other customer")
    visitor_session = await world.anonymous.post(
        "/api/v1/auth/visitor", {"organization": a.org["slug"]}, expect=201
    )
    visitor = Person(visitor_session, world.api(visitor_session["access_token"]))
    before = await snapshot(scene)
    reads = [
        ("GET", f"/api/v1/conversations/{cid}", None),
        ("GET", f"/api/v1/conversations/{cid}/messages", None),
        ("GET", f"/api/v1/conversations/{cid}/messages/after/0", None),
        ("GET", f"/api/v1/attachments/{scene.attachment_id}", None),
        ("POST", f"/api/v1/conversations/{cid}/messages", {"client_id": "x1", "text": "hi"}),
        ("POST", f"/api/v1/conversations/{cid}/read", {"up_to": scene.last_message_id}),
        ("POST", f"/api/v1/conversations/{cid}/close", None),
        ("POST", f"/api/v1/conversations/{cid}/reopen", None),
    ]
    for person in (other, visitor):
        for method, url, body in reads:
            response = await person.api.http.request(method, url, json=body)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json()["error"]["code"] == "not_found"
            assert_no_leak(response.text, scene, {cid, scene.attachment_id}, url)
        listed = await person.api.get("/api/v1/conversations")
        assert cid not in [c["id"] for c in listed]
        sock = await world.socket(person)
        ack = await sock.emit("message:history", {"conversation_id": cid})
        assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
        ack = await sock.emit(
            "message:send", {"conversation_id": cid, "client_id": "x2", "text": "hi"}
        )
        assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
    assert await snapshot(scene) == before
    # The conversation's own customer does reach it (so the 404s above are about who asks).
    mine = await scene.customer.api.get(f"/api/v1/conversations/{cid}")
    assert mine["id"] == cid


async def test_agents_see_their_groups_and_supervisors_see_all(world: World) -> None:
    a = await world.tenant(policy="manual", agents=1)
    agent, supervisor = a.agents[0], a.supervisor  # agents: support only; supervisor: both
    agent_socket = await world.socket(agent)
    supervisor_socket = await world.socket(supervisor)
    customer = await world.individual("Billing customer")
    secret = unique("invoice question ")
    billing = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": a.org_id,
            "group_id": a.groups["billing"]["id"],
            "text": secret,
            "client_id": unique("c"),
        },
        expect=201,
    )
    billing_id = billing["conversation"]["id"]
    support = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": a.org_id,
            "group_id": a.groups["support"]["id"],
            "text": "a support question",
            "client_id": unique("c"),
        },
        expect=201,
    )
    support_id = support["conversation"]["id"]

    # The agent's console heard of the later support conversation, hence of anything before.
    await agent_socket.wait_for(
        "message:new", lambda d: d["message"]["conversation_id"] == support_id
    )
    assert billing_id not in json.dumps(agent_socket.events)
    assert secret not in json.dumps(agent_socket.events)
    await supervisor_socket.wait_for(
        "message:new", lambda d: d["message"]["conversation_id"] == billing_id
    )

    for url in (
        f"/api/v1/conversations/{billing_id}",
        f"/api/v1/conversations/{billing_id}/messages",
    ):
        response = await agent.api.http.get(url)
        assert response.status_code == 404, (url, response.text)
        assert secret not in response.text
    response = await agent.api.http.post(f"/api/v1/conversations/{billing_id}/claim")
    assert response.status_code == 404, response.text
    ack = await agent_socket.emit("message:history", {"conversation_id": billing_id})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
    for scope in ("all", "queue"):
        listed = [c["id"] for c in await agent.api.get(f"/api/v1/conversations?scope={scope}")]
        assert support_id in listed and billing_id not in listed, (scope, listed)

    seen = await supervisor.api.get(f"/api/v1/conversations/{billing_id}")
    assert seen["group_id"] == a.groups["billing"]["id"]
    history = await supervisor_socket.emit("message:history", {"conversation_id": billing_id})
    assert history["ok"] and [m["text"] for m in history["messages"]] == [secret]
    listed = [c["id"] for c in await supervisor.api.get("/api/v1/conversations?scope=queue")]
    assert {billing_id, support_id} <= set(listed)


async def test_visitor_cannot_open_a_conversation_with_another_org(world: World) -> None:
    a, b = await world.tenant(agents=1), await world.tenant(agents=1)
    b_socket = await world.socket(b.supervisor)
    session = await world.anonymous.post(
        "/api/v1/auth/visitor", {"organization": a.org["slug"]}, expect=201
    )
    visitor = Person(session, world.api(session["access_token"]))
    attempts = [
        {"org_id": b.org_id},
        {"org_id": b.org_id, "group_id": b.groups["support"]["id"]},
        {"org_id": a.org_id, "group_id": b.groups["support"]["id"]},  # A with B's group
    ]
    for attempt in attempts:
        response = await visitor.api.http.post(
            "/api/v1/conversations", json=attempt | {"text": "hello", "client_id": unique("v")}
        )
        assert response.status_code == 404, (attempt, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert await b.supervisor.api.get("/api/v1/conversations") == []
    assert await visitor.api.get("/api/v1/conversations") == []

    # Its own organization it can talk to; B's console heard nothing of it.
    opened = await visitor.api.post(
        "/api/v1/conversations",
        {"org_id": a.org_id, "text": "hello A", "client_id": unique("v")},
        expect=201,
    )
    assert opened["conversation"]["org_id"] == a.org_id
    await b_socket.emit("presence:set", {"availability": "away"})
    await b_socket.wait_for("presence:update", lambda d: d["user_id"] == b.supervisor.user_id)
    assert [n for n, _ in b_socket.events] == ["presence:update"] * len(b_socket.events)
