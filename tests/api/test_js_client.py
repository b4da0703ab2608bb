"""The support journey driven by the official JavaScript client, socket.io-client, over WSS.

The journey itself is tests/js/journey.mjs; this test makes the people it needs, runs it
with node and checks its report against what the server stored, through REST.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from typing import Any

from tests.support.clients import World
from tests.support.server import ROOT

JS_DIR = ROOT / "tests" / "js"
JOURNEY = JS_DIR / "journey.mjs"
# The script gives up by itself after 60 s; this is the backstop if node itself hangs.
JOURNEY_TIMEOUT = 90.0
# Trust must come from the script's explicit `ca` option, never from the environment.
UNTRUSTED_ENV = {"NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS"}


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the JS client test needs Node.js (CI has it)"
    assert (JS_DIR / "node_modules" / "socket.io-client").is_dir(), (
        "socket.io-client is not installed: run `make js-deps`"
    )
    return node


def _pinned_client_version() -> str:
    package = json.loads((JS_DIR / "package.json").read_text())
    return str(package["dependencies"]["socket.io-client"])


async def _run_journey(config: dict[str, str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in UNTRUSTED_ENV}
    env["RAASEL_JOURNEY"] = json.dumps(config)
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(JOURNEY),
        cwd=JS_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), JOURNEY_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"journey.mjs did not finish within {JOURNEY_TIMEOUT} s") from None
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    assert process.returncode == 0, f"journey.mjs exited {process.returncode}: {stderr}{stdout}"
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line, got: {stdout!r}"
    report: dict[str, Any] = json.loads(lines[0])
    return report


async def test_socket_io_client_journey(world: World) -> None:
    tenant = await world.tenant(policy="round_robin", agents=1)
    (agent,) = tenant.agents
    customer = await world.individual("Dana")

    report = await _run_journey(
        {
            "url": world.server.url,
            "ca_file": str(world.server.ca_file),
            "customer_token": customer.token,
            "agent_token": agent.token,
            "org_id": tenant.org_id,
            "group_id": tenant.groups["support"]["id"],
        }
    )

    assert report["ok"] is True
    assert report["client"] == {"name": "socket.io-client", "version": _pinned_client_version()}
    assert report["transport"] == "websocket"
    assert report["tls"]["rejected_without_ca"] is True
    assert report["bad_token_code"] in {"invalid_token", "unauthenticated"}
    assert report["customer_id"] == customer.user_id
    assert report["agent_id"] == agent.user_id
    assert report["ticks"] == {
        "customer_sees": ["sent", "delivered", "read"],
        "agent_sees": ["sent", "delivered", "read"],
    }
    assert report["typing"] == {"agent_saw_customer": True, "customer_saw_agent": True}
    ids = report["messages"]
    assert ids["customer_retry"] == ids["customer"]
    assert report["sync"]["customer"] == ids["missed"] and len(ids["missed"]) == 3
    assert report["sync"]["customer_unread"] == 3
    assert len(ids["missed_notes"]) == 1
    notes = {ids["note"], *ids["missed_notes"]}
    assert not notes & set(report["customer_received"])

    # What the server stored agrees with what the JavaScript client saw.
    cid = report["conversation_id"]
    conversation = await customer.api.get(f"/api/v1/conversations/{cid}")
    assert conversation["status"] == "active"
    assert conversation["assignee"]["id"] == agent.user_id
    customer_history = await customer.api.get(f"/api/v1/conversations/{cid}/messages")
    seen = [m["id"] for m in customer_history["messages"]]
    assert not notes & set(seen), "the customer's history shows an internal note"
    assert seen.count(ids["customer"]) == 1
    visible = [ids["first"], ids["customer"], ids["reply"], ids["after_note"], *ids["missed"]]
    assert [i for i in seen if i in visible] == visible
    assert seen[-1] == ids["after_reconnect"]
    agent_history = await agent.api.get(f"/api/v1/conversations/{cid}/messages")
    assert notes <= {m["id"] for m in agent_history["messages"]}
