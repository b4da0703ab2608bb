"""No message text in the server's logs (issue 12, item 4), on a real node at debug level.

Messages with a unique marker go through every path that handles their text: the open
(its first message is also the subject), REST and socket sends, a refused send, the
follow-up mail of an unseen reply and a transcript, both read from the real SMTP server
(aiosmtpd) to prove the marker went through; the node's whole log is then searched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.clients import World, unique
from tests.support.server import RunningServer


@pytest.mark.timeout(180)
async def test_message_text_never_reaches_the_log(
    spawn_server: Callable[..., RunningServer],
) -> None:
    node = spawn_server(
        {
            "RAASEL_LOG_LEVEL": "debug",
            "RAASEL_FOLLOWUP_AFTER_SECONDS": "1",
            "RAASEL_PRESENCE_SWEEP_SECONDS": "0.5",
        }
    )
    marker = unique("secretmarker")
    world = World(node)
    try:
        tenant = await world.tenant(agents=1)
        agent = tenant.agents[0]
        console = await world.socket(agent)
        assert (await console.emit("presence:set", {"availability": "online"}))["ok"]
        customer = await world.individual("Marker Customer")
        opened = await customer.open_conversation(tenant, text=f"open {marker}", group="support")
        cid = opened["conversation"]["id"]
        assert opened["conversation"]["assignee"]["id"] == agent.user_id
        await customer.api.post(
            f"/api/v1/conversations/{cid}/messages",
            {"text": f"rest {marker}", "client_id": unique("m")},
            expect=201,
        )
        refused = await customer.api.post(
            f"/api/v1/conversations/{cid}/messages",
            {"text": f"too long {marker} " + "x" * 5000, "client_id": unique("m")},
            expect=422,
        )
        assert marker not in str(refused), "the refusal echoes no text either"
        # The customer has no socket: the agent's replies stay unseen and are mailed.
        for n in (1, 2):
            ack: dict[str, Any] = await console.emit(
                "message:send",
                {"conversation_id": cid, "client_id": unique("r"), "text": f"reply{n} {marker}"},
            )
            assert ack["ok"], ack
        mail = await world.mailbox.wait_for(
            customer.email, "replied to your conversation", within=60
        )
        assert f"reply1 {marker}" in mail.body and f"reply2 {marker}" in mail.body
        await agent.api.post(f"/api/v1/conversations/{cid}/resolve")
        await customer.api.post(f"/api/v1/conversations/{cid}/transcript")
        transcript = await world.mailbox.wait_for(customer.email, "Your conversation with")
        assert f"open {marker}" in transcript.body
    finally:
        await world.close()
        node.stop()  # flushes and closes the log
    log = (node.var_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "serving https://" in log, "the log was captured"
    assert marker not in log, [line for line in log.splitlines() if marker in line][:5]
