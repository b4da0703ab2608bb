"""Row-level security for the second organization of a ``b2b`` conversation
(docs/security.md, "Row-level security").

A ``b2b`` conversation and its messages are rows of the organization that opened it.
A second permissive policy, ``peer_read``, beside each table's ``tenant_read``
(storage/tenant_ddl.py; PostgreSQL ORs them) lets the reader role see them when the
transaction's organization setting is the conversation's ``peer_org_id``: the other
side, and no third organization. Tables whose policy follows the conversations'
visibility (``conversation_sides``, ``message_client_ids``) need nothing more.

Composite keys hold the peer's group and assignee to the peer organization, as
``tenant_conversations_group`` does for the opener's.
"""

from __future__ import annotations

# ruff: noqa: S608  (DDL from constant fragments, no input)
from raasel.storage.tenancy import READER_ROLE
from raasel.storage.tenant_ddl import DIRECT_SPACE, S_ORG

_OF_PEER_CONVERSATION = (
    f"org_id <> '{DIRECT_SPACE}' AND conversation_id IN"
    f" (SELECT id FROM conversations WHERE peer_org_id = {S_ORG})"
)

PEER_POLICIES: dict[str, str] = {
    "conversations": f"peer_org_id = {S_ORG}",
    "messages": _OF_PEER_CONVERSATION,
    "message_outbox": _OF_PEER_CONVERSATION,
}

#: Files of the b2b conversations the organization is the peer of (migration 0021):
#: what either side may download is then decided by actions/attachments.py (notes).
PEER_FILE_POLICIES: dict[str, str] = {
    "attachments": f"conversation_id IN (SELECT id FROM conversations WHERE peer_org_id = {S_ORG})",
}

PEER_KEYS: dict[str, tuple[str, str, str]] = {
    "tenant_conversations_peer_org": ("conversations", "peer_org_id", "organizations (id)"),
    "tenant_conversations_peer_group": (
        "conversations",
        "peer_org_id, peer_group_id",
        "dispatch_groups (org_id, id)",
    ),
    "tenant_conversations_peer_assignee": (
        "conversations",
        "peer_org_id, peer_assignee_id",
        "memberships (org_id, user_id)",
    ),
}


def policy_statements(table: str, using: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS peer_read ON {table}",
        f"CREATE POLICY peer_read ON {table} FOR SELECT TO {READER_ROLE} USING ({using})",
    ]


def drop_policy_statements(table: str) -> list[str]:
    return [f"DROP POLICY IF EXISTS peer_read ON {table}"]
