"""The benchmark's people, and their cache.

For every customer/agent pair: a widget visitor of an organization opens a support
conversation, an agent account exists in that organization, and the owner assigns the
conversation to that agent. Agents belong to no dispatch group, so a message reaches
exactly its pair's other side (plus the owner's room, which nobody joins here; the
agents leave the default group they join since issue 12: bench/world_accounts.py); an
organization holds ``pairs_per_org`` pairs, so presence fan-out stays realistic.

Since sign-up mails a verification link and an admin's new member gets an invitation
(09dc31c), the organizations, owners and agents are made as the operator makes them
(``raasel create-org`` / ``create-agent``: bench/world_accounts.py, in-process against the
node's database before it serves). Everything else goes through the public API of the
running node: the owners and agents log in (one argon2id check each, ~0.1 s, in the
node's login pool), visitors start widget sessions, open their conversations, and the
owner assigns them. A world is built once; the node's stopped ``var`` dir and the tokens
are kept under ``bench/results/worlds/`` and copied for every run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import ssl
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
WORLDS = ROOT / "bench" / "results" / "worlds"
PASSWORD = "bench horse battery staple"
WORLD_VERSION = 3  # bump when what a world holds changes


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


def cache_key(pairs: int, visitors: int, pairs_per_org: int, versions: Path | None = None) -> str:
    """Worlds are rebuilt when the schema (``versions``: the migrations of the Raasel that
    runs, the working tree's by default) or ``WORLD_VERSION`` (what a world holds) changes."""
    digest = hashlib.sha256(f"world {WORLD_VERSION}".encode())
    versions = versions or ROOT / "src" / "raasel" / "storage" / "migrations" / "versions"
    for path in sorted(versions.glob("*.py")):
        digest.update(path.read_bytes())
    return f"p{pairs}-v{visitors}-o{pairs_per_org}-{digest.hexdigest()[:10]}"


@dataclass
class OrgPlan:
    """One organization of the world: its slug, owner, agents and idle visitors."""

    slug: str
    name: str
    owner_email: str
    agents: list[str]
    visitors: int


def plan_world(pairs: int, visitors: int, pairs_per_org: int) -> list[OrgPlan]:
    orgs = max(1, -(-pairs // pairs_per_org), -(-visitors // 1000))
    plans = []
    for i in range(orgs):
        nonce = uuid.uuid4().hex[:8]
        count = pairs // orgs + (i < pairs % orgs)
        plans.append(
            OrgPlan(
                slug=f"bench-{i}-{nonce}",
                name=f"Bench {i}",
                owner_email=f"founder-{nonce}@bench.example",
                agents=[f"agent-{n}-{nonce}@bench.example" for n in range(count)],
                visitors=visitors // orgs + (i < visitors % orgs),
            )
        )
    return plans


def make_accounts(
    plans: list[OrgPlan], env: dict[str, str], scratch: Path, timeout: float = 1800
) -> dict[str, Any]:
    """The organizations, owners and agents, made in the node's (stopped) database."""
    plan_file, out_file = scratch / "world-plan.json", scratch / "world-accounts.json"
    plan_file.write_text(json.dumps({"password": PASSWORD, "orgs": [asdict(p) for p in plans]}))
    with (scratch / "world-accounts.log").open("wb") as log:
        subprocess.run(
            [sys.executable, "-m", "bench.world_accounts", str(plan_file), str(out_file)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=timeout,
        )
    made: dict[str, Any] = json.loads(out_file.read_text())["orgs"]
    return made


class Rest:
    def __init__(self, base_url: str, ssl_context: ssl.SSLContext) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, verify=ssl_context, timeout=120)

    async def call(self, path: str, body: Any, token: str | None = None, expect: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(6):
            try:
                response = await self.http.post(path, json=body, headers=headers)
            except httpx.TransportError:  # a kept-alive connection the server just closed
                if attempt == 5:
                    raise
                await asyncio.sleep(0.5)
                continue
            if response.status_code == 503 and attempt < 5:  # busy (the argon2 pool): retry
                await asyncio.sleep(1.0)
                continue
            break
        if response.status_code != expect:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    async def login(self, email: str, slug: str) -> dict[str, Any]:
        body = {"email": email, "password": PASSWORD, "organization": slug}
        session: dict[str, Any] = await self.call("/api/v1/auth/login", body)
        return session


async def _build_org(
    rest: Rest, plan: OrgPlan, made: dict[str, Any], limit: asyncio.Semaphore
) -> World:
    org_id = made["org_id"]
    async with limit:
        owner_token = (await rest.login(plan.owner_email, plan.slug))["access_token"]

    async def visitor() -> dict[str, Any]:
        session: dict[str, Any] = await rest.call(
            "/api/v1/auth/visitor", {"organization": plan.slug}, expect=201
        )
        return session

    async def pair(n: int, email: str) -> Pair:
        async with limit:
            agent = await rest.login(email, plan.slug)
            customer = await visitor()
            conversation = await rest.call(
                "/api/v1/conversations",
                {"org_id": org_id, "text": "Hello, I need help", "client_id": f"open-{n}"},
                customer["access_token"],
                expect=201,
            )
            await rest.call(
                f"/api/v1/conversations/{conversation['conversation']['id']}/assign",
                {"agent_id": made["agents"][email]},
                owner_token,
            )
            return Pair(
                conversation["conversation"]["id"], customer["access_token"], agent["access_token"]
            )

    async def idle_visitor() -> str:
        async with limit:
            return str((await visitor())["access_token"])

    pairs = await asyncio.gather(*(pair(n, email) for n, email in enumerate(plan.agents)))
    idle = await asyncio.gather(*(idle_visitor() for _ in range(plan.visitors)))
    return World(list(pairs), list(idle))


async def build_world(
    base_url: str, ssl_context: ssl.SSLContext, plans: list[OrgPlan], accounts: dict[str, Any]
) -> World:
    """Through the running node's API: logins, visitors, conversations, assignments."""
    rest = Rest(base_url, ssl_context)
    limit = asyncio.Semaphore(16)
    try:
        parts = await asyncio.gather(
            *(_build_org(rest, plan, accounts[plan.slug], limit) for plan in plans)
        )
    finally:
        await rest.http.aclose()
    world = World()
    for part in parts:
        world.pairs += part.pairs
        world.visitors += part.visitors
    return world


def cached(key: str) -> Path | None:
    """This world, else the smallest cached one of the same schema with at least as many
    pairs and visitors (a run uses the first pairs of the world file)."""
    directory = WORLDS / key
    if (directory / "world.json").exists():
        return directory
    pairs, visitors, rest = key.split("-", 2)
    found = []
    for other in WORLDS.glob(f"p*-v*-{rest}"):
        p, v, _ = other.name.split("-", 2)
        big_enough = int(p[1:]) >= int(pairs[1:]) and int(v[1:]) >= int(visitors[1:])
        if big_enough and (other / "world.json").exists():
            found.append((int(p[1:]) + int(v[1:]), other))
    return min(found)[1] if found else None


def store(key: str, var_dir: Path, world: World) -> Path:
    """Keep a stopped node's var dir and the tokens that are valid in it."""
    directory = WORLDS / key
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    shutil.copytree(var_dir, directory / "var", ignore=shutil.ignore_patterns("server.log"))
    world.save(directory / "world.json")
    return directory
