"""Demo data for ``make run``: the Acme organization, its team, a customer, and a directory
of organizations (those of the routing evaluation data set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raasel.actions.context import Services
from raasel.actions.members import add_member, insert_person
from raasel.actions.orgs import create_org_with_owner
from raasel.domain import Plan, Role, RoutingPolicy
from raasel.lib import passwords
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import organizations
from raasel.storage.transaction import Tx

DEMO_PASSWORD = "raasel-demo-1"  # noqa: S105 - printed demo credentials, local data only

GROUPS = [
    (
        "billing",
        "Billing",
        "Invoices, payments, refunds, double charges, subscription plans and receipts.",
        RoutingPolicy.ROUND_ROBIN,
    ),
    (
        "technical-support",
        "Technical support",
        "Login problems, app errors, crashes, bugs, installation and configuration help.",
        RoutingPolicy.LEAST_BUSY,
    ),
    (
        "sales",
        "Sales",
        "Pricing questions, quotes, demos, new orders and upgrades for businesses.",
        RoutingPolicy.MANUAL,
    ),
]

DEMO_ACCOUNTS = {
    "owner": "owner@acme.example",
    "supervisor": "supervisor@acme.example",
    "agent1": "alice@acme.example",
    "agent2": "bob@acme.example",
    "individual": "customer@example.com",
}


async def seed_demo(svc: Services) -> bool:
    """Create the demo data if the database has no organization yet; True if it did."""

    # One hash for every demo account (they share the printed demo password), made before
    # the write: argon2 inside the transaction would hold up every other writer.
    password_hash = await passwords.hash_password(DEMO_PASSWORD)

    async def work(conn: Tx) -> bool:
        if await organizations.count_orgs(conn) > 0:
            return False
        now = utcnow()
        owner_id = await insert_person(
            conn,
            email=DEMO_ACCOUNTS["owner"],
            password_hash=password_hash,
            display_name="Olivia Owner",
            is_verified=True,
        )
        org_id = await create_org_with_owner(
            conn,
            owner_id,
            {
                "slug": "acme",
                "name": "Acme",
                "description": "Acme sells and supports the Acme cloud suite and its hardware.",
                "category": "software",
                "domains": ["acme.example"],
                "verified_domains": ["acme.example"],  # demo data: vouched for
                "tags": ["software", "hardware", "cloud"],
                "languages": ["en", "fr"],
                "settings": {
                    "welcome_text": "Hi! How can Acme help?",
                    "theme_color": "#3355ff",
                    # Demo data: any page served from this machine may show Acme's widget.
                    "embed_origins": ["http://127.0.0.1:*", "http://localhost:*"],
                },
            },
        )
        group_ids = {}
        for slug, name, description, policy in GROUPS:
            group_id = new_str_id()
            group_ids[slug] = group_id
            await organizations.insert_group(
                conn,
                {
                    "id": group_id,
                    "org_id": org_id,
                    "slug": slug,
                    "name": name,
                    "description": description,
                    "policy": policy,
                    "business_hours": None,
                    "is_default": False,
                    "created_at": now,
                },
            )
        general = await organizations.default_group(conn, org_id)
        assert general is not None
        # Everyone answers "Anyone at Acme" (the default group) and the teams.
        all_groups = [general.id, *group_ids.values()]
        for key, name, role in (
            ("supervisor", "Sam Supervisor", Role.SUPERVISOR),
            ("agent1", "Alice Agent", Role.AGENT),
            ("agent2", "Bob Agent", Role.AGENT),
        ):
            await add_member(
                conn,
                org_id,
                email=DEMO_ACCOUNTS[key],
                display_name=name,
                password_hash=password_hash,
                role=role,
                capacity=5,
                group_ids=all_groups,
            )
        await insert_person(
            conn,
            email=DEMO_ACCOUNTS["individual"],
            password_hash=password_hash,
            display_name="Chris Customer",
            is_verified=True,
        )
        await _seed_directory(conn, password_hash)
        return True

    return await svc.db.write(work)


# The routing evaluation's organizations give the demo a realistic directory.
DIRECTORY_FILE = (
    Path(__file__).resolve().parents[3] / "data" / "routing-eval" / "organizations.json"
)
DIRECTORY_OWNER = "directory@demo.example"
PROMOTED_DEMO = {"northwind-bank", "aeroverde-airlines"}  # to show the promoted boost


async def _seed_directory(conn: Tx, password_hash: str) -> None:
    """One owner account for all of them; some promoted. Skipped outside a source tree."""
    if not DIRECTORY_FILE.exists():
        return
    entries: list[dict[str, Any]] = json.loads(DIRECTORY_FILE.read_text(encoding="utf-8"))
    now = utcnow()
    owner_id = await insert_person(
        conn,
        email=DIRECTORY_OWNER,
        password_hash=password_hash,
        display_name="Directory Owner",
        is_verified=True,
    )
    for entry in entries:
        org_id = await create_org_with_owner(
            conn,
            owner_id,
            {
                "slug": entry["slug"],
                "name": entry["name"],
                "description": entry["description"],
                "category": entry["category"],
                "domains": [entry["domain"]],
                "verified_domains": [entry["domain"]],
                "tags": entry["tags"],
                "languages": entry["languages"],
            },
        )
        if entry["slug"] in PROMOTED_DEMO:
            await organizations.update_org(conn, org_id, {"plan": Plan.PROMOTED})
        for group in entry["groups"]:
            await organizations.insert_group(
                conn,
                {
                    "id": new_str_id(),
                    "org_id": org_id,
                    "slug": group["slug"],
                    "name": group["name"],
                    "description": group["description"],
                    "policy": RoutingPolicy.ROUND_ROBIN,
                    "business_hours": None,
                    "is_default": False,
                    "created_at": now,
                },
            )
