"""End-to-end encrypted direct chats in real browsers (docs/e2e.md).

Two or three Chromium contexts (each its own profile: its own IndexedDB, its own keys)
talk through a real node; the scenarios live in tests/web/direct.mjs. The plaintext scan
runs the node with ``RAASEL_TLS=off`` behind a TLS-terminating proxy that records the
traffic readable (tests/support/capturing_proxy.py), sends known texts through the
browsers, and looks for them in the database, the node's files and logs, /metrics and
the captured traffic.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from raasel.lib.tls import ensure_self_signed
from tests.support.capturing_proxy import CapturingProxy
from tests.support.server import ROOT, RunningServer, free_port

WEB_TESTS = ROOT / "tests" / "web"
CHROMIUM = os.environ.get("RAASEL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / os.environ.get("RAASEL_SCREENSHOTS_DIR", "test-artifacts/web")
SCENARIO_TIMEOUT = 150.0
# Mails (the sign-up links) go to var/outbox; key uploads and claims as often as needed.
DIRECT_ENV = {
    "RAASEL_SMTP_HOST": "",
    "RAASEL_DIRECT_CLAIM_RATE": "10000/60",
    "RAASEL_DIRECT_KEYS_RATE": "10000/60",
}


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "node is not on PATH: the browser tests need Node.js"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `apt-get install chromium`"
    assert (WEB_TESTS / "node_modules" / "playwright-core").is_dir(), "run `make web-test-deps`"
    assert (ROOT / "web" / "dist" / "index.html").is_file(), "the web app is not built: `make web`"
    return node


def run_scenario(scenario: str, server: RunningServer, **extra: Any) -> list[str]:
    config = {
        "url": server.url,
        "artifacts": str(ARTIFACTS),
        "scenario": scenario,
        "chromium": CHROMIUM,
        "outbox": str(server.var_dir / "outbox"),
        **extra,
    }
    try:
        done = subprocess.run(
            [_node(), str(WEB_TESTS / "direct.mjs")],
            cwd=WEB_TESTS,
            env=os.environ | {"RAASEL_BROWSER": json.dumps(config)},
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"direct scenario {scenario} hung") from None
    assert done.returncode == 0, (
        f"direct scenario {scenario} failed (screenshots in {ARTIFACTS}):\n"
        f"{done.stderr}{done.stdout}\n--- server log ---\n{server.log_tail()}"
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["checks"], "the scenario checked nothing"
    return list(report["checks"])


@pytest.fixture(scope="module")
def direct_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    node = RunningServer(tmp_path_factory.mktemp("direct"), dict(DIRECT_ENV))
    node.start(timeout=60)
    yield node
    node.stop()


@pytest.mark.timeout(SCENARIO_TIMEOUT + 20)
@pytest.mark.parametrize("scenario", ["basics", "attacks", "requests", "delivery"])
def test_direct_scenario(scenario: str, direct_server: RunningServer) -> None:
    print("\n".join(run_scenario(scenario, direct_server)))


# ---- the plaintext scan ----


@dataclass
class ProxiedServer(RunningServer):
    """A node on plain HTTP (loopback) reached through the capturing TLS proxy."""

    proxy_port: int = field(default_factory=free_port)
    proxy: CapturingProxy | None = None

    @property
    def url(self) -> str:
        return f"https://localhost:{self.proxy_port}"

    def start(self, timeout: float = 30.0) -> None:
        cert, key = self.var_dir / "tls" / "cert.pem", self.var_dir / "tls" / "key.pem"
        cert.parent.mkdir(parents=True, exist_ok=True)
        ensure_self_signed(cert, key, "localhost")
        # The pages' origin is the proxy's: the node allows sockets from it (as behind nginx).
        self.env["RAASEL_PUBLIC_URL"] = self.url
        self.proxy = CapturingProxy(self.proxy_port, self.https_port, cert, key)
        self.proxy.start()
        super().start(timeout)

    def stop(self) -> None:
        super().stop()
        if self.proxy is not None:
            self.proxy.stop()


def _forms(text: str) -> list[bytes]:
    """The text as UTF-8, its ASCII start (found even where JSON escaped the rest), and
    base64 at each of the three alignments."""
    raw = text.encode()
    forms = [raw, text[:21].encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)[4 if shift else 0 :]
        forms.append(encoded[:-4])  # the middle: independent of what surrounds it
    return forms


def _postgres_dump(url: str) -> bytes:
    import asyncpg

    async def dump() -> bytes:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            out = []
            for t in tables:
                for row in await conn.fetch(f'SELECT * FROM "{t["tablename"]}"'):
                    out.append(repr(tuple(row)))
            return "\n".join(out).encode()
        finally:
            await conn.close()

    return asyncio.run(dump())


@pytest.mark.timeout(SCENARIO_TIMEOUT + 60)
def test_no_plaintext_reaches_the_server(tmp_path: Path) -> None:
    env = dict(DIRECT_ENV) | {"RAASEL_TLS": "off", "RAASEL_LOG_LEVEL": "debug"}
    node = ProxiedServer(tmp_path / "node", env)
    node.start(timeout=60)
    marker = secrets.token_hex(4)
    texts = [
        f"Canary alpha {marker}: the vault code is 4711",
        f"Canary bravo {marker} — ünïcödé and emoji 🦜",
        f"Canary charlie {marker} meet at the old mill",
        f"Canary delta {marker} " + "long " * 200,
    ]
    names = tmp_path / "names.json"
    try:
        checks = run_scenario("plaintext", node, plaintexts=texts, names=str(names))
        metrics = httpx.get(
            f"{node.url}/metrics",
            headers={"Authorization": "Bearer test-metrics-token"},
            verify=node.ssl_context(),
            timeout=10,
        )
        assert metrics.status_code == 200
        assert node.proxy is not None
        traffic = node.proxy.captured()
    finally:
        node.stop()

    haystacks: dict[str, bytes] = {"traffic": traffic, "/metrics": metrics.content}
    for path in sorted((tmp_path / "node").rglob("*")):
        if path.is_file():
            haystacks[str(path.relative_to(tmp_path))] = path.read_bytes()
    url_file = tmp_path / "node" / "test-database-url"
    if url_file.exists():
        haystacks["postgresql"] = _postgres_dump(url_file.read_text().strip())

    # The scan sees what it should: the traffic and the database hold the names and the
    # handle the scenario used (metadata the server must have), and the envelopes.
    seen = json.loads(names.read_text())
    stored = b"".join(v for k, v in haystacks.items() if k not in ("traffic", "/metrics"))
    for plain in ("Alice Scan", seen["handle"]):
        assert plain.encode() in traffic, plain
        assert plain.encode() in stored, plain
    assert b"direct:send" in traffic and b'"envelopes"' in traffic
    assert len(traffic) > 10_000

    leaks = [
        f"{text[:20]}… in {where}"
        for text in texts
        for form in _forms(text)
        for where, data in haystacks.items()
        if form in data
    ]
    assert not leaks, leaks
    print(
        "\n".join([*checks, f"scanned {len(haystacks)} sources, {len(traffic)} bytes of traffic"])
    )


# ---- the browser and the Python SDK, both ways ----

PASSWORD = "a-good-password"


def _mailed_token(outbox: Path, address: str) -> str:
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        raw = path.read_text(errors="replace")
        if f"to: {address.lower()}" not in raw.lower():
            continue
        text = re.sub(r"=\r?\n", "", raw)
        text = re.sub(r"=([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)
        found = re.search(r"#token=([0-9]+\.[A-Za-z0-9_-]+)", text)
        if found:
            return found.group(1)
    raise AssertionError(f"no mail to {address}")


async def _individual(server: RunningServer, name: str) -> dict[str, Any]:
    """A verified individual with a handle: {session, handle}."""
    email = f"{secrets.token_hex(6)}@example.com"
    async with httpx.AsyncClient(base_url=server.url, verify=server.ssl_context()) as http:
        body = {"email": email, "password": PASSWORD, "display_name": name}
        assert (await http.post("/api/v1/auth/register", json=body)).status_code == 202
        token = ""
        for _ in range(100):
            try:
                token = _mailed_token(server.var_dir / "outbox", email)
                break
            except AssertionError:
                await asyncio.sleep(0.05)
        verified = await http.post(
            "/api/v1/auth/verify-email", json={"token": token, "password": PASSWORD}
        )
        session = verified.json()
        handle = f"py_{secrets.token_hex(5)}"
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        claimed = await http.put("/api/v1/direct/handle", json={"handle": handle}, headers=headers)
        assert claimed.status_code == 200, claimed.text
    return {"session": session, "handle": handle}


async def _bot(server: RunningServer, name: str) -> tuple[Any, dict[str, Any]]:
    from raasel_sdk.client import DirectClient
    from raasel_sdk.device import LocalDevice

    who = await _individual(server, name)
    user_id = str(who["session"]["user"]["id"])
    device = LocalDevice.create(user_id, secrets.randbelow(2**31 - 2) + 1, pre_keys=10)
    client = DirectClient(
        server.url, who["session"]["access_token"], device, verify=server.ssl_context()
    )
    await client.register()
    await client.connect()
    return client, who


@pytest.mark.timeout(SCENARIO_TIMEOUT + 60)
async def test_browser_and_python_sdk_talk_both_ways(
    direct_server: RunningServer, tmp_path: Path
) -> None:
    """The SDK starts one session (its PreKey message decrypted by the browser), the
    browser starts the other (its PreKey message decrypted by the SDK); replies go both
    ways in each."""
    from raasel_sdk.client import Received

    one, _ = await _bot(direct_server, "Py One")
    two, two_who = await _bot(direct_server, "Py Two")
    marker = secrets.token_hex(3)
    browser_handle = f"web_{secrets.token_hex(5)}"
    tasks: list[asyncio.Task[Any]] = []

    def echo(client: Any, accept_first: bool) -> Any:
        def on_message(item: Received) -> None:
            content = item.content or {}
            text = str(content.get("text", ""))
            if content.get("t") != "text" or not text.startswith("browser"):
                return

            async def reply() -> None:
                if accept_first:
                    await client.call("POST", f"/conversations/{item.conversation_id}/accept")
                await client.send_text(item.conversation_id, item.sender_id, f"python echo: {text}")

            tasks.append(asyncio.ensure_future(reply()))

        return on_message

    one.on_message = echo(one, accept_first=False)
    two.on_message = echo(two, accept_first=True)
    signals = tmp_path / "signals"
    signals.mkdir()
    config = {
        "url": direct_server.url,
        "artifacts": str(ARTIFACTS),
        "scenario": "interop",
        "chromium": CHROMIUM,
        "outbox": str(direct_server.var_dir / "outbox"),
        "marker": marker,
        "browserHandle": browser_handle,
        "botOne": "Py One",
        "botTwoHandle": two_who["handle"],
        "signals": str(signals),
    }
    browser = await asyncio.create_subprocess_exec(
        _node(),
        str(WEB_TESTS / "direct.mjs"),
        cwd=WEB_TESTS,
        env=os.environ | {"RAASEL_BROWSER": json.dumps(config)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            while not (signals / "ready").exists():
                assert browser.returncode is None, "the browser scenario ended early"
                await asyncio.sleep(0.1)
            async with httpx.AsyncClient(
                base_url=direct_server.url, verify=direct_server.ssl_context()
            ) as http:
                found = await http.get(
                    f"/api/v1/direct/users/by-handle/{browser_handle}",
                    headers={"Authorization": f"Bearer {one.token}"},
                )
            browser_id = str(found.json()["user_id"])
            conversation = await one.open_with(handle=browser_handle)
            await one.send_text(conversation, browser_id, f"python first {marker}")
            stdout, stderr = await browser.communicate()
            await asyncio.gather(*tasks)
    finally:
        if browser.returncode is None:
            browser.kill()
        for client in (one, two):
            await client.close()
    assert browser.returncode == 0, (
        f"{stderr.decode()}{stdout.decode()}\nbot one got {one.received}\n"
        f"bot two got {two.received}\n--- server log ---\n{direct_server.log_tail()}"
    )
    texts_one = [str((r.content or {}).get("text")) for r in one.received]
    texts_two = [str((r.content or {}).get("text")) for r in two.received]
    assert f"browser reply {marker}" in texts_one, one.received
    assert f"browser first {marker}" in texts_two, two.received
    assert not [r for r in [*one.received, *two.received] if r.error], "an envelope did not decrypt"
    # The same safety number in the browser and in the SDK for the same two identities.
    from raasel_sdk.safety import with_contact

    (browser_device,) = [a for a in one.device.known_identities if a[0] == browser_id]
    assert (signals / "safety").read_text() == with_contact(one.device, browser_device)
    print(json.loads(stdout.decode().strip().splitlines()[-1])["checks"])
