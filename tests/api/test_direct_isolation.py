"""No organization reaches the direct space (SPEC 1): a member's (agent's, owner's) or a
visitor's session is refused on every direct route and event, whatever ids it names, and
never receives a direct event."""

from __future__ import annotations

import uuid
from typing import Any

from raasel_sdk.device import LocalDevice
from tests.support.clients import Person, World
from tests.support.direct import DIRECT, chatter, envelope, open_direct


def bodies(user_id: str) -> dict[str, Any]:
    device = LocalDevice.create(user_id, 1)
    return {
        "HandleBody": {"handle": "probe_handle"},
        "DeviceBody": device.registration(),
        "PreKeysBody": {"prekeys": device.generate_pre_keys(1)},
        "SignedPreKeyBody": device.signed_pre_key(),
        "ClaimBody": {},
        "EmptyBody": {},
        "OpenDirectBody": {"user_id": user_id},
        "BlockBody": {"user_id": user_id},
        "InviteAcceptBody": {"token": f"{user_id}.9999999999.forged-signature"},
    }


async def test_members_and_visitors_get_nothing_of_direct_chats(world: World) -> None:
    alice, bob = await chatter(world, "Alice"), await chatter(world, "Bob")
    conversation = await open_direct(alice, bob)
    alice_sock = await world.socket(alice.person)
    sent = await alice_sock.emit(
        "direct:send",
        {
            "conversation_id": conversation["id"],
            "client_id": uuid.uuid4().hex,
            "sender_device_id": alice.device.device_id,
            "envelopes": [envelope(bob.user_id, bob.device.device_id, 3)],
        },
    )
    assert sent["ok"], sent
    tenant = await world.tenant(agents=1)
    visitor_session = await world.anonymous.post(
        "/api/v1/auth/visitor", {"organization": tenant.org["slug"]}, expect=201
    )
    visitor = Person(visitor_session, world.api(visitor_session["access_token"]))
    spec = await world.anonymous.get("/openapi.json")
    values = {
        "user_id": alice.user_id,
        "device_id": str(alice.device.device_id),
        "handle": alice.handle,
        "conversation_id": conversation["id"],
        "position": "0",
    }
    probed = 0
    for prober in (tenant.owner, tenant.agents[0], visitor):
        sock = await world.socket(prober)
        for path, operations in spec["paths"].items():
            if not path.startswith(f"{DIRECT}/"):
                continue
            for method, op in operations.items():
                url = path
                for param in op.get("parameters", []):
                    if param["in"] == "path":
                        url = url.replace("{" + param["name"] + "}", values[param["name"]])
                content = op.get("requestBody", {}).get("content", {})
                kwargs: dict[str, Any] = {}
                if "application/json" in content:
                    schema = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                    kwargs["json"] = bodies(alice.user_id)[schema]
                response = await prober.api.http.request(method.upper(), url, **kwargs)
                assert response.status_code == 403, (method, url, response.text)
                assert response.json()["error"]["code"] == "forbidden"
                probed += 1
        for event, payload in [
            (
                "direct:send",
                {
                    "conversation_id": conversation["id"],
                    "client_id": "probe",
                    "sender_device_id": 1,
                    "envelopes": [envelope(bob.user_id, bob.device.device_id)],
                },
            ),
            ("direct:sync", {"conversations": [{"conversation_id": conversation["id"]}]}),
            ("direct:delivered", {"conversation_id": conversation["id"], "up_to_position": 1}),
            ("direct:read", {"conversation_id": conversation["id"], "up_to_position": 1}),
            ("direct:typing", {"conversation_id": conversation["id"], "is_typing": True}),
        ]:
            answer = await sock.emit(event, payload)
            assert answer["ok"] is False and answer["error"]["code"] == "forbidden", (event, answer)
        # None of the probers ever hears a direct event.
        assert not [name for name, _ in sock.events if name.startswith("direct:")]
    assert probed >= 3 * 20
    view = await alice.person.api.get(f"{DIRECT}/conversations/{conversation['id']}")
    assert view["conversation"]["last_position"] == 1
