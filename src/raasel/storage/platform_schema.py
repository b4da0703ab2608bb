"""The platform's own tables and columns: the node's operators and what an organization
opened or escalated to them (docs/protocol.md, "Platform support").

``platform_operators`` has no organization column: operators stand above the tenants.
A conversation is the platform's to read from ``platform_at`` on (opened to it, or
escalated by a supervisor), and only then; ``platform_operator_ids`` are the operators
who joined it (each join audited in the organization's log).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, String, Table

from raasel.storage.schema import ID, TS, conversations, metadata

platform_operators = Table(
    "platform_operators",
    metadata,
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("created_at", TS, nullable=False),
)

conversations.append_column(Column("platform_at", TS, nullable=True))
conversations.append_column(Column("platform_category", String(20), nullable=True))
conversations.append_column(Column("platform_operator_ids", JSON, nullable=True))
# Why it was opened or escalated: for the organization's side and the operators, never
# the customer.
conversations.append_column(Column("platform_reason", String(500), nullable=True))
