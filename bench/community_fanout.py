"""Send-to-delivered time in a 5,000-member community channel (issue 11), real sockets.

    .venv/bin/python -m bench.community_fanout --members 5000 --messages 5

Before the node serves, its database gets one organization (``create_org_cli``), the
members' accounts with a live session each, and one open channel with all of them as
members (written through the storage layer in bulk: 5,000 sign-ups over REST would take
an hour of argon2). The node (``raasel serve``, TLS, SQLite) is then started and every
member connects a real Socket.IO WebSocket (bench/eio.py, thousands of sockets in one
process) with its access token: the node puts each socket in the channel's room on
connect. Member 0 sends ``--messages`` messages one after another; for each, the ack
time (after COMMIT) and the time until each other member's socket got its
``community:message`` are reported (p50/p99/max over the members), and the load average.
The channel is above ``RAASEL_GROUP_RECEIPTS_MAX_MEMBERS`` (256), so no per-member
receipts are written: the send is one row and one emit to one room.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.eio import LeanSocket
from bench.targets import RAASEL_ENV, ROOT, Target, free_port

PASSWORD = "bench password 0123"  # a throwaway world


async def make_world(members: int) -> dict[str, Any]:
    """The organization, ``members`` accounts with sessions, one channel of them all."""
    from sqlalchemy import insert

    from raasel.actions import operator
    from raasel.app import build_services
    from raasel.config import Settings
    from raasel.lib import tokens
    from raasel.lib.clock import utcnow
    from raasel.lib.ids import new_str_id
    from raasel.storage import schema
    from raasel.storage.community_schema import community_channels, community_members

    settings = Settings()
    svc = build_services(settings)
    try:
        slug = f"bench{uuid.uuid4().hex[:6]}"
        org_id = await operator.create_org_cli(
            svc, slug, "Bench community", f"owner@{slug}.example", PASSWORD, "Owner"
        )
        now = utcnow()
        users = [new_str_id() for _ in range(members)]
        channel_id = new_str_id()

        async def write(conn: Any) -> None:
            await conn.execute(
                insert(schema.users),
                [
                    {
                        "id": u,
                        "email": f"m{i}@{slug}.example",
                        "password_hash": None,
                        "display_name": f"Member {i}",
                        "kind": "person",
                        "visitor_org_id": None,
                        "plan": "free",
                        "created_at": now,
                        "email_verified_at": now,
                        "contact_email": None,
                        "is_followup_muted": False,
                    }
                    for i, u in enumerate(users)
                ],
            )
            await conn.execute(
                insert(schema.refresh_tokens),
                [
                    {
                        "id": u,
                        "family_id": u,
                        "user_id": u,
                        "org_id": None,
                        "token_digest": uuid.uuid4().hex,
                        "expires_at": now.replace(year=now.year + 1),
                        "used_at": None,
                        "revoked_at": None,
                        "created_at": now,
                    }
                    for u in users
                ],
            )
            await conn.execute(
                insert(community_channels).values(
                    id=channel_id,
                    org_id=org_id,
                    name="Attendees",
                    description="",
                    join_mode="open",
                    status="active",
                    invite_code=uuid.uuid4().hex,
                    created_by=users[0],
                    created_at=now,
                    updated_at=now,
                    last_position=0,
                    last_position_id=0,
                    last_message_at=None,
                    member_count=members,
                    delivered_position=0,
                    read_position=0,
                )
            )
            await conn.execute(
                insert(community_members),
                [
                    {
                        "channel_id": channel_id,
                        "user_id": u,
                        "org_id": org_id,
                        "status": "member",
                        "is_muted": False,
                        "delivered_position": 0,
                        "read_position": 0,
                        "joined_at": now,
                        "updated_at": now,
                    }
                    for u in users
                ],
            )

        await svc.db.write(write)
        secret = settings.resolved_secret_key
        ttl = 24 * 3600
        return {
            "channel_id": channel_id,
            "tokens": [tokens.issue_access_token(secret, u, None, u, ttl) for u in users],
        }
    finally:
        await svc.db.close()


ARRIVED = asyncio.Event()  # set by every arrival; the sender's loop waits on it


class Member:
    def __init__(self, index: int, got: dict[int, dict[int, float]]) -> None:
        self.index = index
        self.got = got
        self.acks: dict[int, tuple[float, Any]] = {}
        self.socket = LeanSocket(self.on_event, self.on_ack, lambda: None)

    def on_event(self, name: str, data: Any) -> None:
        if name == "community:message":
            self.got.setdefault(data["position"], {})[self.index] = time.perf_counter()
            ARRIVED.set()

    def on_ack(self, ack_id: int, data: Any) -> None:
        self.acks[ack_id] = (time.perf_counter(), data)
        ARRIVED.set()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(target: Target, world: dict[str, Any], messages: int) -> list[str]:
    got: dict[int, dict[int, float]] = {}
    members = [Member(i, got) for i in range(len(world["tokens"]))]
    context = target.ssl_context()
    started = time.perf_counter()
    gate = asyncio.Semaphore(64)

    async def connect(member: Member) -> None:
        async with gate:
            await member.socket.connect(
                target.url, {"token": world["tokens"][member.index]}, context, open_timeout=120
            )

    await asyncio.gather(*(connect(m) for m in members))
    lines = [
        f"{len(members)} members connected in {time.perf_counter() - started:.1f} s",
    ]
    sender, others = members[0], len(members) - 1
    for n in range(1, messages + 1):
        sent_at = time.perf_counter()
        ack_id = await sender.socket.emit(
            "community:send",
            {"channel_id": world["channel_id"], "client_id": f"b{n}", "text": f"message {n}"},
        )
        assert ack_id is not None
        deadline = sent_at + 120
        while len(got.get(n, {})) < others or ack_id not in sender.acks:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            ARRIVED.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ARRIVED.wait(), remaining)
        acked_at, ack = sender.acks.get(ack_id, (float("nan"), None))
        assert ack is not None and ack.get("ok"), ack
        times = [(t - sent_at) * 1000 for i, t in got.get(n, {}).items() if i != 0]
        lines.append(
            f"message {n}: ack {(acked_at - sent_at) * 1000:.1f} ms; delivered to "
            f"{len(times)}/{others}: p50 {percentile(times, 0.5):.0f} ms, "
            f"p99 {percentile(times, 0.99):.0f} ms, max {max(times):.0f} ms, "
            f"mean {statistics.fmean(times):.0f} ms"
        )
        await asyncio.sleep(0.5)
    await asyncio.gather(*(m.socket.close() for m in members), return_exceptions=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="community-bench-"))
    var_dir = scratch / "var"
    port = free_port()
    env = os.environ | RAASEL_ENV | {"RAASEL_VAR_DIR": str(var_dir), "RAASEL_HTTPS_PORT": str(port)}
    os.environ.update(env)
    from raasel.config import Settings
    from raasel.storage.migrate import upgrade_all

    upgrade_all(Settings())
    world = asyncio.run(make_world(args.members))
    target = Target("raasel", "raasel", port, var_dir / "tls" / "cert.pem")
    scratch.joinpath("logs").mkdir()
    target.spawn(
        "raasel",
        [sys.executable, "-m", "raasel.cli", "serve", "--no-migrate"],
        env,
        scratch / "logs" / "raasel.log",
        None,
    )
    try:
        target.wait_ready_https("/readyz", timeout=120)
        before = os.getloadavg()
        lines = asyncio.run(run(target, world, args.messages))
    finally:
        target.stop()
    print(
        f"machine: {os.cpu_count()} CPUs, load average before {before[0]:.1f}, "
        f"after {os.getloadavg()[0]:.1f} ({ROOT.name})"
    )
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
