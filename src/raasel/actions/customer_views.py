"""What a customer's conversation views add: which organization and which team has it.

Customers are told where they stand on every device (issue 12, item 5): the views carry
``org: {id, name}`` and ``group: {id, name} | null`` ("Unassigned" when null), read in
two statements for a whole list, instead of names a device remembered from its own
directory searches.
"""

from __future__ import annotations

from typing import Any

from raasel.storage.metadata import organizations
from raasel.storage.transaction import Tx


async def name_places(conn: Tx, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    org_ids = sorted({v["org_id"] for v in views if v.get("org_id")})
    if not org_ids:
        return views
    orgs = {o.id: o.name for o in await organizations.get_orgs(conn, org_ids)}
    groups = {g.id: g.name for g in await organizations.list_groups(conn, org_ids)}
    for view in views:
        view["org"] = {"id": view["org_id"], "name": orgs.get(view["org_id"])}
        group_id = view.get("group_id")
        view["group"] = {"id": group_id, "name": groups[group_id]} if group_id in groups else None
    return views
