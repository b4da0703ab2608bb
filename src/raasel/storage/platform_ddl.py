"""Row-level security for the platform's operators (docs/security.md, "Row-level security").

A second permissive policy, ``platform_read``, beside each table's ``tenant_read``
(storage/tenant_ddl.py): PostgreSQL ORs them. It lets the reader role see a row only
when the transaction's operator setting (``OperatorScope``, storage/tenancy.py) names
a registered operator and the row belongs to a conversation opened or escalated to the
platform. Tables whose policy already follows the conversations' visibility
(``conversation_sides``, ``message_client_ids``...) need nothing more.
"""

from __future__ import annotations

# ruff: noqa: S608  (DDL from constant fragments, no input)
from raasel.storage.tenancy import OPERATOR_SETTING, READER_ROLE

S_OPERATOR = f"current_setting('{OPERATOR_SETTING}', true)"
_IS_OPERATOR = f"{S_OPERATOR} IN (SELECT user_id FROM platform_operators)"
_OF_PLATFORM_CONVERSATION = (
    f"{_IS_OPERATOR} AND conversation_id IN"
    " (SELECT id FROM conversations WHERE platform_at IS NOT NULL)"
)

PLATFORM_POLICIES: dict[str, str] = {
    "conversations": f"platform_at IS NOT NULL AND {_IS_OPERATOR}",
    "messages": _OF_PLATFORM_CONVERSATION,
    "message_outbox": _OF_PLATFORM_CONVERSATION,
}


def policy_statements(table: str, using: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS platform_read ON {table}",
        f"CREATE POLICY platform_read ON {table} FOR SELECT TO {READER_ROLE} USING ({using})",
    ]


def drop_policy_statements(table: str) -> list[str]:
    return [f"DROP POLICY IF EXISTS platform_read ON {table}"]
