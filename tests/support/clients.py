"""Real clients for tests: httpx for REST and python-socketio for live events, over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import socketio

from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer

_counter = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:6]}"


class Api:
    """REST calls as one caller (or anonymously)."""

    def __init__(self, server: RunningServer, token: str | None = None) -> None:
        self.server = server
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(
            base_url=server.url, verify=server.ssl_context(), headers=headers, timeout=20
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self, method: str, path: str, json: Any = None, expect: int | None = None, **kw: Any
    ) -> Any:
        response = await self.http.request(method, path, json=json, **kw)
        if expect is not None:
            assert response.status_code == expect, (
                method,
                path,
                response.status_code,
                response.text,
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return await self.call("GET", path, expect=expect, **kw)

    async def post(self, path: str, json: Any = None, expect: int | None = 200, **kw: Any) -> Any:
        return await self.call("POST", path, json, expect=expect, **kw)

    async def patch(self, path: str, json: Any = None, expect: int | None = 200) -> Any:
        return await self.call("PATCH", path, json, expect=expect)

    async def put(self, path: str, json: Any = None, expect: int | None = 200) -> Any:
        return await self.call("PUT", path, json, expect=expect)


@dataclass
class Person:
    """A logged-in caller: its session and REST client."""

    session: dict[str, Any]
    api: Api
    email: str = ""
    password: str = ""

    @property
    def user_id(self) -> str:
        return str(self.session["user"]["id"])

    @property
    def token(self) -> str:
        return str(self.session["access_token"])

    async def open_conversation(
        self, tenant: Tenant, *, text: str = "hello", group: str | None = None
    ) -> dict[str, Any]:
        """Open a support conversation with ``tenant`` (its ``group``, or the default);
        returns ``{conversation, message}``."""
        body: dict[str, Any] = {"org_id": tenant.org_id, "text": text, "client_id": unique("o")}
        if group is not None:
            body["group_id"] = tenant.groups[group]["id"]
        opened: dict[str, Any] = await self.api.post("/api/v1/conversations", body, expect=201)
        return opened


@dataclass
class Tenant:
    """An organization made through the API, with an owner, a supervisor and agents."""

    org: dict[str, Any]
    owner: Person
    supervisor: Person
    agents: list[Person]
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def org_id(self) -> str:
        return str(self.org["id"])


PASSWORD = "correct horse battery"


class World:
    """Creates people and organizations on a running server; closes what it opened."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.anonymous = Api(server)
        assert server.mailbox is not None, "World needs a node that mails the test SMTP server"
        self.mailbox: Mailbox = server.mailbox
        self._apis: list[Api] = [self.anonymous]
        self._sockets: list[SocketClient] = []

    def api(self, token: str | None) -> Api:
        api = Api(self.server, token)
        self._apis.append(api)
        return api

    async def close(self) -> None:
        for sock in self._sockets:
            await sock.close()
        for api in self._apis:
            await api.close()

    async def individual(self, name: str = "Customer", email: str | None = None) -> Person:
        """Sign up as a person does: register, read the mail, open its link."""
        email = email or f"{unique('person')}@example.com"
        await self.anonymous.post(
            "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "display_name": name},
            expect=202,
        )
        mail = await self.mailbox.wait_for(email, "Confirm your Raasel account")
        session = await self.anonymous.post(
            "/api/v1/auth/verify-email", {"token": mail.token, "password": PASSWORD}
        )
        return Person(session, self.api(session["access_token"]), email, PASSWORD)

    async def invite(
        self, inviter: Person, org_id: str, email: str, *, password: str = PASSWORD, **fields: Any
    ) -> Person:
        """``inviter`` invites ``email``; its holder accepts the mailed link (with
        ``password``: the existing account's, or the new one's). A member's session."""
        earlier = len(self.mailbox.to(email))
        body = {"email": email, "display_name": "Invitee"} | fields
        await inviter.api.post(f"/api/v1/orgs/{org_id}/invitations", body, expect=201)
        mail = await self.mailbox.wait_for(email, "invites you", count=earlier + 1)
        session = await self.anonymous.post(
            "/api/v1/invitations/accept", {"token": mail.token, "password": password}
        )
        return Person(session, self.api(session["access_token"]), email, password)

    async def login(self, email: str, organization: str | None = None) -> Person:
        body: dict[str, Any] = {"email": email, "password": PASSWORD}
        if organization:
            body["organization"] = organization
        session = await self.anonymous.post("/api/v1/auth/login", body)
        return Person(session, self.api(session["access_token"]), email, PASSWORD)

    async def tenant(
        self, *, policy: str = "round_robin", agents: int = 2, capacity: int = 5
    ) -> Tenant:
        """A fresh organization with one group ``support`` (``policy``) and ``agents`` agents."""
        founder = await self.individual("Founder")
        slug = unique("org")
        org = await founder.api.post(
            "/api/v1/orgs",
            {
                "slug": slug,
                "name": f"Org {slug}",
                "description": "Test organization",
                "tags": ["test"],
            },
            expect=201,
        )
        owner = await self.login(founder.email, slug)
        org_id = org["id"]
        group = await owner.api.post(
            f"/api/v1/orgs/{org_id}/groups",
            {"slug": "support", "name": "Support", "description": "Help", "policy": policy},
            expect=201,
        )
        other = await owner.api.post(
            f"/api/v1/orgs/{org_id}/groups",
            {"slug": "billing", "name": "Billing", "description": "Invoices", "policy": "manual"},
            expect=201,
        )
        people = []
        for index, role in enumerate(["supervisor"] + ["agent"] * agents):
            people.append(
                await self.invite(
                    owner,
                    org_id,
                    f"{unique('agent')}@{slug}.example",
                    display_name=f"{role.title()} {index}",
                    role=role,
                    capacity=capacity,
                    group_ids=[group["id"]] if role == "agent" else [group["id"], other["id"]],
                )
            )
        return Tenant(org, owner, people[0], people[1:], {"support": group, "billing": other})

    async def socket(
        self, person: Person, *, connect: bool = True, features: Sequence[str] = ()
    ) -> SocketClient:
        client = SocketClient(self.server, person.token, features)
        self._sockets.append(client)
        if connect:
            await client.connect()
        return client


class SocketClient:
    """A python-socketio client that records every event it receives."""

    def __init__(self, server: RunningServer, token: str, features: Sequence[str] = ()) -> None:
        self.server = server
        self.token = token
        self.features = list(features)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self.sio = socketio.AsyncClient(reconnection=False)

        @self.sio.on("*")
        async def any_event(event: str, data: Any) -> None:
            self.events.append((event, data))
            self._changed.set()

    async def connect(self) -> None:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self.server.ssl_context())
        )
        self.sio.eio.http = self._http
        auth: dict[str, Any] = {"token": self.token}
        if self.features:
            auth["features"] = self.features
        await self.sio.connect(
            self.server.url, auth=auth, transports=["websocket"], wait_timeout=10
        )

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def emit(self, event: str, payload: Any) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(event, payload, timeout=10)
        return ack

    async def wait_for(
        self, event: str, where: Callable[[Any], bool] = lambda _: True, within: float = 10
    ) -> Any:
        """The first received ``event`` whose data satisfies ``where`` (already or later)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            for name, data in self.events:
                if name == event and where(data):
                    return data
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [n for n, _ in self.events]
                raise AssertionError(f"no {event} matching within {within}s; saw {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def received(self, event: str, where: Callable[[Any], bool] = lambda _: True) -> list[Any]:
        return [data for name, data in self.events if name == event and where(data)]
