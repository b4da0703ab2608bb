"""`raasel backup` while a real node takes a send burst over TLS, `raasel restore` into a
fresh var/, and a node on the restored data that serves everything acknowledged before."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.clients import World, unique
from tests.support.databases import (
    create_empty_postgres_database,
    node_database_env,
    nodes_use_postgres,
)
from tests.support.server import ROOT, RunningServer

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64
LANES = 4  # sends in flight at once during the burst


def raasel(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``raasel ARGS`` for the node on ``var_dir``, as an operator's script runs it."""
    env = (
        os.environ
        | node_database_env(var_dir)
        | {"RAASEL_VAR_DIR": str(var_dir), "RAASEL_LOG_LEVEL": "warning"}
    )
    return subprocess.run(
        [sys.executable, "-m", "raasel.cli", *args],
        cwd=ROOT,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def fresh_var_dir(path: Path) -> Path:
    """An empty var/ for a restore; on PostgreSQL nodes, with its own empty database."""
    path.mkdir(parents=True)
    if nodes_use_postgres():
        (path / "test-database-url").write_text(create_empty_postgres_database())
    return path


@pytest.mark.timeout(300)
async def test_backup_during_a_send_burst_restores_every_acknowledged_message(
    spawn_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    live = spawn_server({"RAASEL_MAX_PENDING_SENDS_PER_SOCKET": "1000"}, var_dir=tmp_path / "live")
    world = World(live)
    acked: list[tuple[float, str]] = []  # (when the ack arrived, message id)
    warmed_up = asyncio.Event()
    stop = asyncio.Event()
    try:
        tenant = await world.tenant(agents=1)
        customer = await world.individual()
        opened = await customer.open_conversation(tenant, text="before the backup")
        cid = opened["conversation"]["id"]
        uploaded = await customer.api.post(
            f"/api/v1/conversations/{cid}/attachments", files={"file": ("p.png", PNG)}, expect=201
        )
        with_file = await customer.api.post(
            f"/api/v1/conversations/{cid}/messages",
            {"client_id": unique("a"), "attachment_id": uploaded["id"]},
            expect=201,
        )
        sock = await world.socket(customer)

        async def burst(lane: int) -> None:
            sent = 0
            while not stop.is_set():
                text = f"{lane}.{sent}"
                payload = {"conversation_id": cid, "client_id": f"b{text}", "text": text}
                ack = await sock.emit("message:send", payload)
                assert ack["ok"], ack
                acked.append((time.monotonic(), ack["message"]["id"]))
                sent += 1
                if len(acked) >= 40:
                    warmed_up.set()

        lanes = [asyncio.create_task(burst(lane)) for lane in range(LANES)]
        await asyncio.wait_for(warmed_up.wait(), 60)
        began = time.monotonic()
        archive = tmp_path / "backup.tar.gz"
        made = await asyncio.to_thread(raasel, live.var_dir, "backup", "--output", str(archive))
        ended = time.monotonic()
        stop.set()
        await asyncio.gather(*lanes)
        assert made.returncode == 0, made.stderr
        assert "backup written" in made.stdout
        before = {mid for at, mid in acked if at < began}
        during = [mid for at, mid in acked if began <= at <= ended]
        assert len(before) >= 40
        assert during, "the burst went on while the backup ran"
    finally:
        stop.set()
        await world.close()

    target = fresh_var_dir(tmp_path / "restored")
    restored = await asyncio.to_thread(raasel, target, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    again = await asyncio.to_thread(raasel, target, "restore", str(archive))
    assert again.returncode == 1 and "fresh" in again.stderr, "never over existing data"

    node = spawn_server(var_dir=target)
    world = World(node)
    try:
        back = await world.login(customer.email)
        stored: list[str] = []
        page_before = None
        while True:
            params = {"limit": 100, **({"before": page_before} if page_before else {})}
            page = await back.api.get(f"/api/v1/conversations/{cid}/messages", params=params)
            stored += [m["id"] for m in page["messages"]]
            if not page["has_more"]:
                break
            page_before = page["next_before"]
        assert before <= set(stored), f"lost {len(before - set(stored))} acknowledged messages"
        assert len(stored) == len(set(stored))
        known = {mid for _, mid in acked} | {opened["message"]["id"], with_file["id"]}
        assert set(stored) <= known, "nothing but what was sent"
        download = await back.api.http.get(f"/api/v1/attachments/{uploaded['id']}")
        assert download.status_code == 200 and download.content == PNG
        # The restored node takes new messages after the restored ones.
        sock = await world.socket(back)
        ack = await sock.emit(
            "message:send", {"conversation_id": cid, "client_id": unique("n"), "text": "after"}
        )
        assert ack["ok"], ack
        agent = await world.login(tenant.owner.email, tenant.org["slug"])
        seen = await agent.api.get(f"/api/v1/conversations/{cid}")
        assert seen["id"] == cid and seen["customer_panel"]["email"] == customer.email
    finally:
        await world.close()
