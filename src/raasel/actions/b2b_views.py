"""How each organization of a ``b2b`` conversation sees it (docs/protocol.md,
"Organization to organization").

The opener (``org``) sees its own side (its group, assignee, status, notes); the other
organization (``peer``) sees its side in the same fields, so its console shows it like
any conversation of its inbox. Both see the ticket fields (subject, category,
priority), the two organizations' names and both sides' states in ``b2b``.
"""

from __future__ import annotations

from typing import Any

from raasel.actions.views import conversation_view
from raasel.domain import Side
from raasel.storage.metadata import organizations, people
from raasel.storage.records import Conversation, ConversationSide, Organization, User
from raasel.storage.transaction import Tx


def _org_ref(org: Organization | None) -> dict[str, Any] | None:
    return {"id": org.id, "slug": org.slug, "name": org.name} if org else None


def people_ids(conversation: Conversation) -> list[str]:
    ids = (conversation.customer_id, conversation.assignee_id, conversation.peer_assignee_id)
    return [i for i in ids if i]


async def b2b_orgs(conn: Tx, conversation: Conversation) -> dict[str, Organization]:
    found = {}
    for org_id in (conversation.org_id, conversation.peer_org_id):
        if org_id:
            org = await organizations.get_org(conn, org_id)
            if org is not None:
                found[org_id] = org
    return found


def b2b_view(
    conversation: Conversation,
    *,
    viewer_side: str,
    people_by_id: dict[str, User],
    sides: dict[str, ConversationSide],
    orgs: dict[str, Organization],
) -> dict[str, Any]:
    """The conversation as one organization of it sees it (``viewer_side``: org, peer)."""
    if viewer_side == Side.PEER:
        mirror = conversation.but(
            group_id=conversation.peer_group_id,
            assignee_id=conversation.peer_assignee_id,
            status=conversation.peer_status or "requested",
        )
        view = conversation_view(mirror, viewer_side=Side.PEER, people=people_by_id, sides=sides)
        view["priority"] = conversation.priority
        view["category"] = conversation.category
    else:
        view = conversation_view(
            conversation, viewer_side=Side.ORG, people=people_by_id, sides=sides
        )
    opener = _org_ref(orgs.get(conversation.org_id))
    peer = _org_ref(orgs.get(conversation.peer_org_id or ""))
    view["b2b"] = {
        "side": viewer_side,
        "org": opener,
        "peer": peer,
        "other_org": peer if viewer_side == Side.ORG else opener,
        "org_status": conversation.status,
        "peer_status": conversation.peer_status,
        "other_status": conversation.peer_status
        if viewer_side == Side.ORG
        else conversation.status,
        "accepted_at": conversation.peer_accepted_at.isoformat()
        if conversation.peer_accepted_at
        else None,
    }
    return view


async def read_b2b_view(
    conn: Tx,
    conversation: Conversation,
    viewer_side: str,
    sides: dict[str, ConversationSide],
) -> dict[str, Any]:
    return b2b_view(
        conversation,
        viewer_side=viewer_side,
        people_by_id=await people.get_users(conn, people_ids(conversation)),
        sides=sides,
        orgs=await b2b_orgs(conn, conversation),
    )
