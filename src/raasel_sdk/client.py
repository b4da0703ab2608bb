"""A direct-chat client of a Raasel server (docs/protocol.md, "End-to-end encrypted
direct chats"): registers its device, claims bundles, encrypts one envelope per device,
re-encrypts when the server says the device lists are stale, decrypts what arrives
(live or through ``direct:sync``), and reports receipts.

For bots and tests; the web app speaks the same protocol.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import socketio

from raasel_sdk import keyfile, payload
from raasel_sdk.device import Address, DecryptError, LocalDevice, NoSession, Replay


class ServerError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code"))
        self.error = error


@dataclass
class Received:
    conversation_id: str
    position: int
    sender_id: str
    sender_device_id: int
    client_id: str
    content: dict[str, Any] | None  # None: could not be decrypted (``error`` says why)
    error: str | None = None


@dataclass
class DirectClient:
    base_url: str
    token: str
    device: LocalDevice
    verify: Any = True
    received: list[Received] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)  # conversation -> position held
    events: list[tuple[str, Any]] = field(default_factory=list)
    on_message: Callable[[Received], None] | None = None
    # Where the device's keys, sessions, positions held and sent texts are kept (written
    # after every change, mode 0600): a bot restarted with ``restore`` is the same device.
    state_path: Path | None = None
    # Our texts by client id (to re-send one the other side could not decrypt).
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)
    _failures: dict[Address, int] = field(default_factory=dict)
    _resent: set[tuple[str, Address]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _http: httpx.AsyncClient | None = None
    _sio: socketio.AsyncClient | None = None
    _aiohttp: aiohttp.ClientSession | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _receiving: asyncio.Lock = field(default_factory=asyncio.Lock)
    # One encryption or decryption at a time: a ratchet step awaits inside, and a send and
    # a receive on the same session must not interleave (libsignal's session lock).
    _crypto: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ----- state across restarts ------------------------------------------------------

    @classmethod
    def restore(
        cls, state_path: Path, base_url: str, token: str, *, verify: Any = True
    ) -> DirectClient:
        """The device saved at ``state_path``: same identity, sessions and positions."""
        data = keyfile.read(state_path)
        client = cls(base_url, token, keyfile.load_device(data["device"]), verify=verify)
        client.state_path = state_path
        client.held = {str(c): int(p) for c, p in data["held"].items()}
        client.sent = {str(k): (str(c), str(t)) for k, (c, t) in data["sent"].items()}
        return client

    def save(self) -> None:
        if self.state_path is None:
            return
        keyfile.write_private(
            self.state_path,
            {
                "device": keyfile.dump_device(self.device),
                "held": self.held,
                "sent": {k: list(v) for k, v in self.sent.items()},
            },
        )

    # ----- REST -----------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                verify=self.verify,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=20,
            )
        return self._http

    async def call(self, method: str, path: str, json: Any = None) -> Any:
        response = await self.http.request(method, f"/api/v1/direct{path}", json=json)
        if response.status_code >= 400:
            raise ServerError(response.json().get("error", {}))
        return response.json() if response.content else None

    async def register(self) -> dict[str, Any]:
        body = self.device.registration()
        result: dict[str, Any] = await self.call("PUT", f"/devices/{self.device.device_id}", body)
        return result

    async def open_with(self, *, handle: str | None = None, user_id: str | None = None) -> str:
        body = {"handle": handle} if handle else {"user_id": user_id}
        answer = await self.call("POST", "/conversations", body)
        return str(answer["conversation"]["id"])

    async def _ensure_sessions(self, user_id: str, device_ids: list[int] | None) -> None:
        """Claim bundles for devices of ``user_id`` we have no session with."""
        body = {"device_ids": device_ids} if device_ids else {}
        claimed = await self.call("POST", f"/users/{user_id}/bundle", body)
        for bundle in claimed["devices"]:
            address = (user_id, int(bundle["device_id"]))
            if address == (self.device.user_id, self.device.device_id):
                continue
            if not self.device.has_session(address):
                await self.device.start_session(address, bundle)

    # ----- socket ---------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket (``verify``: an ``ssl.SSLContext`` for a private CA, or True)."""
        sio = socketio.AsyncClient(reconnection=False)
        if self.verify is not True:
            self._aiohttp = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.verify))
            sio.eio.http = self._aiohttp
        sio.on("direct:message", self._on_message)
        for name in (
            "direct:receipt",
            "direct:conversation",
            "direct:devices",
            "direct:prekeys_low",
            "direct:typing",
        ):
            sio.on(name, self._recorder(name))
        await sio.connect(
            self.base_url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10
        )
        self._sio = sio

    def _recorder(self, name: str) -> Callable[[Any], Any]:
        async def record(data: Any) -> None:
            self.events.append((name, data))
            self._arrived.set()

        return record

    async def disconnect(self) -> None:
        if self._sio is not None:
            await self._sio.disconnect()
            self._sio = None
        if self._aiohttp is not None:
            await self._aiohttp.close()
            self._aiohttp = None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.disconnect()
        if self._http is not None:
            await self._http.aclose()

    async def emit(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self._sio is not None, "connect first"
        answer: dict[str, Any] = await self._sio.call(event, data, timeout=20)
        if not answer.get("ok"):
            raise ServerError(answer.get("error", {}))
        return answer

    # ----- sending --------------------------------------------------------------------

    async def _envelopes(
        self, peers: dict[str, list[int]], plaintext: bytes
    ) -> list[dict[str, Any]]:
        envelopes = []
        for user_id, device_ids in peers.items():
            for device_id in device_ids:
                address = (user_id, device_id)
                if address == (self.device.user_id, self.device.device_id):
                    continue
                async with self._crypto:
                    kind, body = await self.device.encrypt(address, plaintext)
                envelopes.append(
                    {
                        "user_id": user_id,
                        "device_id": device_id,
                        "type": kind,
                        "body": base64.b64encode(body).decode(),
                    }
                )
        return envelopes

    async def send_text(
        self,
        conversation_id: str,
        other_id: str,
        text: str,
        *,
        client_id: str | None = None,
        resend_of: str | None = None,
    ) -> dict[str, Any]:
        """Encrypt for every device of both members but this one; on ``stale_devices``
        claim the new ones, drop the gone ones, and send again (same client id)."""
        client_id = client_id or uuid.uuid4().hex
        self.sent[client_id] = (conversation_id, text)
        return await self._send(
            conversation_id, other_id, payload.text(text, resend_of=resend_of), client_id
        )

    async def _send(
        self, conversation_id: str, other_id: str, plaintext: bytes, client_id: str
    ) -> dict[str, Any]:
        async with self._lock:
            peers = {
                other_id: self._known_devices(other_id),
                self.device.user_id: self._known_devices(self.device.user_id),
            }
            if not peers[other_id]:
                await self._ensure_sessions(other_id, None)
                peers[other_id] = self._known_devices(other_id)
            for _ in range(3):
                envelopes = await self._envelopes(peers, plaintext)
                # Saved before it leaves: a restart never encrypts twice with one message key.
                self.save()
                try:
                    answer = await self.emit(
                        "direct:send",
                        {
                            "conversation_id": conversation_id,
                            "client_id": client_id,
                            "sender_device_id": self.device.device_id,
                            "envelopes": envelopes,
                        },
                    )
                except ServerError as exc:
                    if exc.code != "stale_devices":
                        raise
                    peers = await self._recover(exc.error)
                    continue
                message: dict[str, Any] = answer["message"]
                async with self._receiving:  # our own message moves what we hold only
                    if message["position"] == self.held.get(conversation_id, 0) + 1:
                        await self._take(message)
                return message
        raise ServerError({"code": "stale_devices", "message": "device lists keep changing"})

    def _known_devices(self, user_id: str) -> list[int]:
        return sorted(d for (u, d) in self.device.sessions if u == user_id)

    async def _recover(self, error: dict[str, Any]) -> dict[str, list[int]]:
        """The server's current device lists: forget sessions with gone devices, start
        sessions with new ones."""
        current: dict[str, list[int]] = {
            user: [int(d["device_id"]) for d in devices]
            for user, devices in error["devices"].items()
        }
        for address in list(self.device.sessions):
            if address[1] not in current.get(address[0], []):
                del self.device.sessions[address]
        for stale in error.get("stale", []):
            self.device.sessions.pop((stale["user_id"], int(stale["device_id"])), None)
        for user, device_ids in current.items():
            missing = [
                d
                for d in device_ids
                if (user, d) != (self.device.user_id, self.device.device_id)
                and not self.device.has_session((user, d))
            ]
            if missing:
                await self._ensure_sessions(user, missing)
        current.setdefault(self.device.user_id, [])
        return current

    # ----- receiving ------------------------------------------------------------------

    async def _on_message(self, data: dict[str, Any]) -> None:
        """In order: a message behind a gap makes us sync first (docs/protocol.md)."""
        conversation_id = data["conversation_id"]
        async with self._receiving:
            if data["previous_position"] > self.held.get(conversation_id, 0):
                await self._sync([conversation_id])
            else:
                await self._take(data["message"])
        self._arrived.set()

    async def _take(self, message: dict[str, Any]) -> None:
        conversation_id = message["conversation_id"]
        if message["position"] <= self.held.get(conversation_id, 0):
            return
        mine = [
            e
            for e in message["envelopes"]
            if (e["user_id"], e["device_id"]) == (self.device.user_id, self.device.device_id)
        ]
        sender: Address = (message["sender_id"], int(message["sender_device_id"]))
        item = Received(
            conversation_id,
            message["position"],
            message["sender_id"],
            int(message["sender_device_id"]),
            message["client_id"],
            None,
        )
        if sender == (self.device.user_id, self.device.device_id):
            item.content = {"v": 1, "t": "own"}
        elif not mine:
            item.error = "no envelope for this device"
        else:
            try:
                async with self._crypto:
                    plaintext = await self.device.decrypt(
                        sender, int(mine[0]["type"]), base64.b64decode(mine[0]["body"])
                    )
                item.content = payload.decode(plaintext)
                self._failures.pop(sender, None)
            except (DecryptError, payload.PayloadError) as exc:
                item.error = str(exc)
                self._could_not_decrypt(item, sender, exc)
            else:
                if item.content.get("t") == "resend" and sender[0] != self.device.user_id:
                    asked = str(item.content["client_id"])
                    self._later(self._resend(conversation_id, sender, asked))
        self.held[conversation_id] = message["position"]
        self.save()
        self.received.append(item)
        if self.on_message is not None:
            self.on_message(item)

    # ----- decryption failures (docs/e2e.md, "Decryption failures") ---------------------

    def _later(self, job: Any) -> None:
        """Outside the receive lock: sending takes it at the end."""
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _could_not_decrypt(self, item: Received, sender: Address, error: Exception) -> None:
        """As the web app: one failure keeps the session (a tampered envelope); a second in
        a row, or no session at all, drops it so the request starts a new one. Then the
        sender's client is asked (inside the ciphertext) to send the text again."""
        if isinstance(error, Replay):
            return
        failures = self._failures.get(sender, 0) + 1
        self._failures[sender] = failures
        if failures >= 2 or isinstance(error, NoSession):
            self.device.sessions.pop(sender, None)
            self._failures.pop(sender, None)
        if sender[0] != self.device.user_id and item.client_id:
            request = payload.resend_request(item.client_id)
            self._later(self._ask(item.conversation_id, sender[0], request))

    async def _ask(self, conversation_id: str, other_id: str, request: bytes) -> None:
        # Offline or refused: the message stays marked as unreadable.
        with contextlib.suppress(ServerError, DecryptError, OSError):
            await self._send(conversation_id, other_id, request, uuid.uuid4().hex)

    async def _resend(self, conversation_id: str, requester: Address, client_id: str) -> None:
        """Our text again (a new message, ``resend_of`` the old client id), once per asking
        device, and only a text of ours in that conversation."""
        sent = self.sent.get(client_id)
        if sent is None or sent[0] != conversation_id or (client_id, requester) in self._resent:
            return
        self._resent.add((client_id, requester))
        try:
            await self.send_text(conversation_id, requester[0], sent[1], resend_of=client_id)
        except (ServerError, DecryptError, OSError):
            self._resent.discard((client_id, requester))

    async def sync(self, conversation_ids: list[str]) -> None:
        """Catch up on every listed conversation from the position held, in order."""
        async with self._receiving:
            await self._sync(conversation_ids)
        self._arrived.set()

    async def _sync(self, conversation_ids: list[str]) -> None:
        pending = list(conversation_ids)
        while pending:
            answer = await self.emit(
                "direct:sync",
                {
                    "conversations": [
                        {"conversation_id": c, "after_position": self.held.get(c, 0)}
                        for c in pending
                    ],
                    "device_id": self.device.device_id,
                },
            )
            pending = []
            for item in answer["conversations"]:
                if "error" in item:
                    continue
                for message in item["messages"]:
                    await self._take(message)
                if item["has_more"]:
                    pending.append(item["conversation_id"])

    async def wait_for(self, check: Callable[[], bool], within: float = 10) -> None:
        """Until ``check()`` holds (checked after every event that arrives)."""
        async with asyncio.timeout(within):
            while True:
                self._arrived.clear()
                if check():
                    return
                await self._arrived.wait()

    async def mark(self, conversation_id: str, field_name: str, position: int) -> dict[str, Any]:
        return await self.emit(
            f"direct:{field_name}",
            {"conversation_id": conversation_id, "up_to_position": position},
        )
