"""The benchmark world's accounts, made in-process against a node's database before it serves.

    python -m bench.world_accounts PLAN.json OUT.json     (RAASEL_VAR_DIR etc. from the env)

Sign-up over REST now mails a verification link and an admin's new member gets an
invitation (commit 09dc31c), so the organizations, their owners and the agents are made
the way the operator does it: ``raasel create-org`` / ``raasel create-agent``, i.e.
``raasel.actions.operator.create_org_cli`` / ``create_agent_cli``, called here in one
process instead of one process per account (1,000 agents). Every account has the same
password, so it is hashed once (argon2id, ~0.1 s) and that hash is reused: a bench world
only, never a deployment. The node is then started on this var dir and bench/world.py
logs the people in, opens the conversations and assigns them over the public API.

The PLAN is ``{"orgs": [{"slug", "name", "owner_email", "agents": [email, ...]}],
"password"}``; OUT gets ``{"orgs": {slug: {"org_id", "agents": {email: user_id}}}}``.
Runs with whichever Raasel ``PYTHONPATH`` selects (the working tree or a ``--raasel-commit``
snapshot): both have the operator actions with these positional arguments.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any


async def make(plan: dict[str, Any]) -> dict[str, Any]:
    from raasel.actions import operator
    from raasel.app import build_services
    from raasel.config import Settings
    from raasel.lib import passwords

    password = plan["password"]
    the_hash = await passwords.hash_password(password)

    async def hash_once(given: str, *args: Any, **kwargs: Any) -> str:
        assert given == password
        return the_hash

    passwords.hash_password = hash_once  # type: ignore[assignment]
    svc = build_services(Settings())
    made: dict[str, Any] = {}
    try:
        for org in plan["orgs"]:
            org_id = await operator.create_org_cli(
                svc, org["slug"], org["name"], org["owner_email"], password, "Owner"
            )
            agents = {}
            for n, email in enumerate(org["agents"]):
                agents[email] = await operator.create_agent_cli(
                    svc, org["slug"], email, f"Agent {n}", password, "agent", 5, []
                )
            await _out_of_groups(svc, list(agents.values()))
            made[org["slug"]] = {"org_id": org_id, "agents": agents}
    finally:
        await svc.messages.close()
        await svc.ephemeral.close()
        await svc.db.close()
    return {"orgs": made}


async def _out_of_groups(svc: Any, agent_ids: list[str]) -> None:
    """Rooms of two: since issue 12 an agent made without a group choice joins the default
    group, whose room then gets every conversation of the organization (50 consoles per
    message here). The bench's agents leave it; the conversations stay in the default
    group (the owner, who never connects here, stays its member) and are assigned to
    their pair's agent, so each message reaches exactly its pair's other side."""
    from raasel.storage.schema import group_members

    async def work(conn: Any) -> None:
        await conn.execute(group_members.delete().where(group_members.c.user_id.in_(agent_ids)))

    await svc.db.write(work)


def main() -> None:
    from raasel.config import Settings
    from raasel.storage.migrate import upgrade_all

    plan = json.loads(Path(sys.argv[1]).read_text())
    upgrade_all(Settings())
    out = asyncio.run(make(plan))
    Path(sys.argv[2]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
