"""The benchmark's people, made through Raasel's public REST API, and cached.

For every customer/agent pair: a widget visitor of an organization opens a support
conversation, an agent account is created in that organization, and the owner assigns
the conversation to that agent. Agents belong to no dispatch group, so a message reaches
exactly its pair's other side (plus the owner's room, which nobody joins here); an
organization holds ``pairs_per_org`` pairs, so presence fan-out stays realistic.

Agent accounts cost two argon2id hashes each (create + login, about 0.12 s apiece on the
server's event loop), so a world is built once, then the node's stopped ``var`` dir and
the tokens are kept under ``bench/results/worlds/`` and copied for every run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import ssl
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORLDS = ROOT / "bench" / "results" / "worlds"
PASSWORD = "bench horse battery staple"
WORLD_VERSION = 1


@dataclass
class Pair:
    conversation_id: str
    customer_token: str
    agent_token: str


@dataclass
class World:
    pairs: list[Pair] = field(default_factory=list)
    visitors: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"version": WORLD_VERSION, **asdict(self)}))

    @classmethod
    def load(cls, path: Path) -> World:
        data = json.loads(path.read_text())
        if data.get("version") != WORLD_VERSION:
            raise ValueError("stale world file")
        return cls([Pair(**p) for p in data["pairs"]], list(data["visitors"]))


def cache_key(pairs: int, visitors: int, pairs_per_org: int) -> str:
    """Worlds are rebuilt when the schema or this module changes."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    versions = ROOT / "src" / "raasel" / "storage" / "migrations" / "versions"
    for path in sorted(versions.glob("*.py")):
        digest.update(path.read_bytes())
    return f"p{pairs}-v{visitors}-o{pairs_per_org}-{digest.hexdigest()[:10]}"


class Rest:
    def __init__(self, base_url: str, ssl_context: ssl.SSLContext) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, verify=ssl_context, timeout=120)

    async def call(self, path: str, body: Any, token: str | None = None, expect: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(3):
            try:
                response = await self.http.post(path, json=body, headers=headers)
                break
            except httpx.TransportError:  # a kept-alive connection the server just closed
                if attempt == 2:
                    raise
                await asyncio.sleep(0.5)
        if response.status_code != expect:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()


async def _build_org(
    rest: Rest, index: int, pairs: int, visitors: int, limit: asyncio.Semaphore
) -> World:
    nonce = uuid.uuid4().hex[:8]
    slug = f"bench-{index}-{nonce}"
    email = f"founder-{nonce}@bench.example"
    async with limit:
        founder = await rest.call(
            "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "display_name": "Founder"},
            expect=201,
        )
        org = await rest.call(
            "/api/v1/orgs",
            {"slug": slug, "name": f"Bench {index}", "description": "benchmark"},
            founder["access_token"],
            expect=201,
        )
        owner = await rest.call(
            "/api/v1/auth/login", {"email": email, "password": PASSWORD, "organization": slug}
        )
    owner_token = owner["access_token"]

    async def visitor() -> dict[str, Any]:
        session: dict[str, Any] = await rest.call(
            "/api/v1/auth/visitor", {"organization": slug}, expect=201
        )
        return session

    async def pair(n: int) -> Pair:
        async with limit:
            agent_email = f"agent-{n}-{nonce}@bench.example"
            await rest.call(
                f"/api/v1/orgs/{org['id']}/members",
                {
                    "email": agent_email,
                    "display_name": f"Agent {n}",
                    "password": PASSWORD,
                    "role": "agent",
                    "capacity": 5,
                    "group_ids": [],
                },
                owner_token,
                expect=201,
            )
            agent = await rest.call(
                "/api/v1/auth/login",
                {"email": agent_email, "password": PASSWORD, "organization": slug},
            )
            customer = await visitor()
            conversation = await rest.call(
                "/api/v1/conversations",
                {"org_id": org["id"], "text": "Hello, I need help", "client_id": f"open-{n}"},
                customer["access_token"],
                expect=201,
            )
            await rest.call(
                f"/api/v1/conversations/{conversation['conversation']['id']}/assign",
                {"agent_id": agent["user"]["id"]},
                owner_token,
            )
            return Pair(
                conversation["conversation"]["id"], customer["access_token"], agent["access_token"]
            )

    async def idle_visitor() -> str:
        async with limit:
            return str((await visitor())["access_token"])

    made = await asyncio.gather(*(pair(n) for n in range(pairs)))
    idle = await asyncio.gather(*(idle_visitor() for _ in range(visitors)))
    return World(list(made), list(idle))


async def build_world(
    base_url: str, ssl_context: ssl.SSLContext, pairs: int, visitors: int, pairs_per_org: int
) -> World:
    orgs = max(1, -(-pairs // pairs_per_org), -(-visitors // 1000))
    rest = Rest(base_url, ssl_context)
    limit = asyncio.Semaphore(16)
    try:
        parts = await asyncio.gather(
            *(
                _build_org(
                    rest,
                    i,
                    pairs // orgs + (i < pairs % orgs),
                    visitors // orgs + (i < visitors % orgs),
                    limit,
                )
                for i in range(orgs)
            )
        )
    finally:
        await rest.http.aclose()
    world = World()
    for part in parts:
        world.pairs += part.pairs
        world.visitors += part.visitors
    return world


def cached(key: str) -> Path | None:
    directory = WORLDS / key
    return directory if (directory / "world.json").exists() else None


def store(key: str, var_dir: Path, world: World) -> Path:
    """Keep a stopped node's var dir and the tokens that are valid in it."""
    directory = WORLDS / key
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    shutil.copytree(var_dir, directory / "var", ignore=shutil.ignore_patterns("server.log"))
    world.save(directory / "world.json")
    return directory
