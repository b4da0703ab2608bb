"""A support team for the inbox tests: an organization with two groups, an agent in the
first, a supervisor in none, and customers; conversations opened while nobody is online
(so they wait in the queue)."""

from __future__ import annotations

from dataclasses import dataclass, field

from raasel.actions import lifecycle
from raasel.actions.context import Actor, Services
from raasel.actions.members import add_member
from raasel.actions.orgs import create_org_with_owner
from raasel.domain import Role, RoutingPolicy, UserKind
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import organizations, people
from raasel.storage.transaction import Tx


@dataclass
class Team:
    org_id: str
    group_id: str
    other_group_id: str
    agent: Actor
    supervisor: Actor
    customers: list[Actor] = field(default_factory=list)


async def make_team(svc: Services, name: str = "Acme", customers: int = 3) -> Team:
    async def work(conn: Tx) -> Team:
        now = utcnow()
        owner = new_str_id()
        await people.insert_user(
            conn,
            {
                "id": owner,
                "email": f"{owner}@example.com",
                "password_hash": None,
                "display_name": f"{name} owner",
                "kind": UserKind.PERSON,
                "plan": "free",
                "created_at": now,
            },
        )
        org_id = await create_org_with_owner(conn, owner, {"slug": f"o{owner}", "name": name})
        group = await organizations.default_group(conn, org_id)
        assert group is not None
        other = new_str_id()
        await organizations.insert_group(
            conn,
            {
                "id": other,
                "org_id": org_id,
                "slug": "billing",
                "name": "Billing",
                "description": "",
                "policy": RoutingPolicy.MANUAL,
                "business_hours": None,
                "is_default": False,
                "created_at": now,
            },
        )
        # Routing skips a group nobody is in (issue 12): the owner staffs Billing too.
        await people.set_member_groups(conn, org_id, owner, [group.id, other])
        ids = {}
        for role, groups in ((Role.AGENT, [group.id]), (Role.SUPERVISOR, [])):
            ids[role] = await add_member(
                conn,
                org_id,
                email=f"{role}{owner}@example.com",
                display_name=f"{name} {role}",
                password_hash="unused-in-these-tests",
                role=role,
                capacity=5,
                group_ids=groups,
            )
        team = Team(
            org_id,
            group.id,
            other,
            Actor(
                ids[Role.AGENT],
                UserKind.PERSON,
                f"{name} agent",
                "s-a",
                org_id=org_id,
                role=Role.AGENT,
                group_ids=(group.id,),
            ),
            Actor(
                ids[Role.SUPERVISOR],
                UserKind.PERSON,
                f"{name} supervisor",
                "s-s",
                org_id=org_id,
                role=Role.SUPERVISOR,
            ),
        )
        for i in range(customers):
            uid = new_str_id()
            display = f"{name} customer {i}"
            await people.insert_user(
                conn,
                {
                    "id": uid,
                    "email": f"c{i}-{uid}@example.com",
                    "password_hash": None,
                    "display_name": display,
                    "kind": UserKind.PERSON,
                    "plan": "free",
                    "created_at": now,
                },
            )
            team.customers.append(Actor(uid, UserKind.PERSON, display, f"s-c{i}"))
        return team

    return await svc.db.write(work)


async def open_conversation(
    svc: Services,
    team: Team,
    customer: int,
    text: str,
    *,
    group: str | None = None,
    subject: str = "",
) -> str:
    opened = await lifecycle.do_open_conversation(
        svc,
        team.customers[customer],
        org_id=team.org_id,
        group_id=group or team.group_id,
        text=text,
        client_id=new_str_id(),
        subject=subject,
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    return cid
