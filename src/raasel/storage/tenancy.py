"""Whose rows a read may see: the second wall behind the tenant scope in every query.

Every query names its tenant in the WHERE clause (actions/access.py). On PostgreSQL a
request-serving read also runs as the role ``raasel_reader``, which row-level security
policies hold to the caller's rows (storage/tenant_ddl.py): the caller's organization
when a member acts for it, the caller's own conversations otherwise. ``Database.read``
makes both settings and the role in one statement at the start of its transaction, so a
query that forgot its scope still sees nothing of another tenant.

Reads that legitimately span tenants (sign-in lookups, the public directory, webhooks,
background sweeps) say so with ``CrossTenant(reason)`` and run as the owner; SQLite has
no row-level security and ignores both (docs/security.md, "Row-level security").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

READER_ROLE = "raasel_reader"
ORG_SETTING = "raasel.org_id"
USER_SETTING = "raasel.user_id"
OPERATOR_SETTING = "raasel.operator_id"


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The rows a request-serving read may see.

    ``org_id``: the organization a member acts for (all of its rows); ``user_id``: the
    caller (the conversations they are the customer of, and those conversations' rows).
    """

    org_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class CrossTenant:
    """A read that spans tenants by design; ``reason`` says which path and why."""

    reason: str


@dataclass(frozen=True, slots=True)
class OperatorScope:
    """A platform operator's reads: only the conversations opened or escalated to the
    platform, of any organization, and their rows (storage/platform_ddl.py's policies);
    no organization's other rows. Narrow by design, never a ``CrossTenant``."""

    user_id: str


ReadScope = TenantScope | CrossTenant | OperatorScope

_ENTER = text(
    "SELECT set_config('role', :role, true),"
    f" set_config('{ORG_SETTING}', :org_id, true),"
    f" set_config('{USER_SETTING}', :user_id, true)"
)

_ENTER_OPERATOR = text(
    "SELECT set_config('role', :role, true),"
    f" set_config('{ORG_SETTING}', '', true),"
    f" set_config('{USER_SETTING}', '', true),"
    f" set_config('{OPERATOR_SETTING}', :operator_id, true)"
)


async def enter(conn: AsyncConnection, scope: ReadScope) -> None:
    """Hold the open PostgreSQL transaction to ``scope`` until it ends (``SET LOCAL``).

    One statement: the role and both settings, local to the transaction, so a pooled
    connection comes back as the owner with nothing set."""
    if isinstance(scope, CrossTenant):
        return
    if isinstance(scope, OperatorScope):
        await conn.execute(_ENTER_OPERATOR, {"role": READER_ROLE, "operator_id": scope.user_id})
        return
    await conn.execute(
        _ENTER,
        {"role": READER_ROLE, "org_id": scope.org_id or "", "user_id": scope.user_id or ""},
    )
