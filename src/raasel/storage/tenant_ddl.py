"""PostgreSQL's row-level security and tenant keys (docs/security.md, "Row-level security").

``TENANT_POLICIES`` names every tenant table with the rows the request-serving role
``raasel_reader`` may read of it (storage/tenancy.py sets the caller's organization and
user per transaction); ``SHARED_TABLES`` names every other table and why it is shared.
A test (tests/storage/test_row_level_security.py) fails when the database has a table
in neither, or a table with an ``org_id`` or ``conversation_id`` column that has no
policy: a migration that adds a tenant table calls ``policy_statements`` for it.

``TENANT_KEYS``: composite keys ``(org_id, id)`` and the foreign keys that use them, so
that no write (the committer runs as the owner, outside the policies) can attach a row
of one organization to another's conversation, group or member.

SQLite has neither; the migrations skip these there.
"""

from __future__ import annotations

# ruff: noqa: S608  (DDL from constant fragments: table names and setting names, no input)
from raasel.storage.tenancy import ORG_SETTING, READER_ROLE, USER_SETTING

S_ORG = f"current_setting('{ORG_SETTING}', true)"
S_USER = f"current_setting('{USER_SETTING}', true)"

OF_ORG = f"org_id = {S_ORG}"
# The conversations the caller is the customer of (itself under the conversations policy).
MY_CONVERSATIONS = f"conversation_id IN (SELECT id FROM conversations WHERE customer_id = {S_USER})"
# Rows of a conversation the caller may see (the conversations policy decides).
_OF_VISIBLE_CONVERSATION = "conversation_id IN (SELECT id FROM conversations)"

#: The message tables hold two spaces: an organization's (``org_id`` its id) and the
#: direct chats' (``org_id = 'direct'``, conversations in ``direct_conversations``). Each
#: has its own rule; no organization's setting reaches the direct space.
DIRECT_SPACE = "direct"
_MESSAGE_ROWS = (
    f"CASE WHEN org_id = '{DIRECT_SPACE}' THEN conversation_id IN"
    f" (SELECT conversation_id FROM direct_members WHERE user_id = {S_USER})"
    f" ELSE {OF_ORG} OR {MY_CONVERSATIONS} END"
)

TENANT_POLICIES: dict[str, str] = {
    # Groups are a public listing for listed organizations (the directory); otherwise
    # the organization's own, and those of organizations the caller talks to.
    "dispatch_groups": (
        f"{OF_ORG} OR org_id IN (SELECT id FROM organizations WHERE is_listed)"
        f" OR org_id IN (SELECT org_id FROM conversations WHERE customer_id = {S_USER})"
    ),
    "memberships": f"{OF_ORG} OR user_id = {S_USER}",
    "group_members": OF_ORG,
    "refresh_tokens": f"user_id = {S_USER}",
    "conversations": f"{OF_ORG} OR customer_id = {S_USER}",
    "conversation_sides": _OF_VISIBLE_CONVERSATION,
    "messages": _MESSAGE_ROWS,
    "message_outbox": _MESSAGE_ROWS,
    "message_client_ids": _OF_VISIBLE_CONVERSATION,
    "attachments": f"{OF_ORG} OR uploader_id = {S_USER} OR {MY_CONVERSATIONS}",
    "csat_ratings": f"{OF_ORG} OR customer_id = {S_USER}",
    "audit_log": OF_ORG,
    "invitations": OF_ORG,
    "domain_claims": OF_ORG,
    "labels": OF_ORG,
    "canned_responses": OF_ORG,
    "report_events": OF_ORG,
    "message_search": OF_ORG,
    "conversation_search": OF_ORG,
    # Outreach standing (muted, blocked): the organization's and the individual's own.
    "org_contacts": f"{OF_ORG} OR user_id = {S_USER}",
    # Social channels (their webhooks, queues and workers read across tenants, as the
    # owner; the admin's and the inbox's reads are the organization's).
    "channels": OF_ORG,
    "channel_contacts": OF_ORG,
    "channel_conversations": f"{OF_ORG} OR {MY_CONVERSATIONS}",
    "channel_inbound": _OF_VISIBLE_CONVERSATION,
    "channel_outbound": _OF_VISIBLE_CONVERSATION,
    "org_data_keys": OF_ORG,
    # Follow-up mail of unseen replies (written and read by the node's sweep).
    "mail_followups": _OF_VISIBLE_CONVERSATION,
    # Direct chats are read as the owner behind their participant check (below); this
    # keeps the reader to the caller's own membership rows.
    "direct_members": f"user_id = {S_USER}",
    # Community channels (docs/protocol.md): the organization's; an individual's reads
    # run as the owner behind the membership check, these keep the reader to their own.
    "community_channels": f"{OF_ORG} OR id IN (SELECT channel_id FROM community_members"
    f" WHERE user_id = {S_USER})",
    "community_members": f"{OF_ORG} OR user_id = {S_USER}",
    "community_removals": OF_ORG,
    # Team rooms (docs/protocol.md): the organization's members only, never a customer's
    # (no user clause); who of the members may read a room is the room's member check.
    "team_rooms": OF_ORG,
    "team_room_members": OF_ORG,
    "team_room_files": OF_ORG,
}

_DIRECT = (
    "direct chats: the individuals' own space, no organization; read as the owner behind"
    " the participant check (docs/e2e.md), no row policy of their own yet"
)

SHARED_TABLES: dict[str, str] = {
    "organizations": "the tenants themselves: their profiles are the public directory",
    "users": "accounts: one person talks to many organizations and signs in by address",
    "billing_events": "the payment provider's webhook ledger, for every tenant",
    "email_tokens": "sign-up and password-reset links, looked up before anyone signs in",
    "mail_outbox": "mail waiting for delivery, sent by one loop for every tenant",
    "alembic_version": "the schema's version",
    "platform_operators": "the node's operators, above every organization (storage/platform_ddl.py"
    " walls what they read)",
    "channel_webhooks": "social platforms' webhooks, queued before their organization is known",
    "direct_conversations": _DIRECT,
    "direct_blocks": _DIRECT,
    "direct_devices": _DIRECT,
    "direct_handles": _DIRECT,
    "direct_one_time_prekeys": _DIRECT,
}

#: Composite keys (``tenant_*``: the schema comparison leaves them to this module).
TENANT_UNIQUE_KEYS: dict[str, tuple[str, str]] = {
    "tenant_conversations_key": ("conversations", "org_id, id"),
    "tenant_dispatch_groups_key": ("dispatch_groups", "org_id, id"),
}

#: name -> (table, columns, referenced table and columns). Nullable columns (a group,
#: an assignee) are checked only when set (MATCH SIMPLE).
#: The messages and the outbox have a check of their own (``message_key_statements``):
#: they also hold the direct chats' space, whose conversations are in another table.
TENANT_KEYS: dict[str, tuple[str, str, str]] = {
    "tenant_attachments_conversation": (
        "attachments",
        "org_id, conversation_id",
        "conversations (org_id, id)",
    ),
    "tenant_csat_conversation": (
        "csat_ratings",
        "org_id, conversation_id",
        "conversations (org_id, id)",
    ),
    "tenant_conversations_group": (
        "conversations",
        "org_id, group_id",
        "dispatch_groups (org_id, id)",
    ),
    "tenant_conversations_assignee": (
        "conversations",
        "org_id, assignee_id",
        "memberships (org_id, user_id)",
    ),
    "tenant_group_members_group": (
        "group_members",
        "org_id, group_id",
        "dispatch_groups (org_id, id)",
    ),
    "tenant_group_members_member": (
        "group_members",
        "org_id, user_id",
        "memberships (org_id, user_id)",
    ),
}


#: Added by migration 0018 (0013 made ``TENANT_KEYS``).
CHANNEL_TENANT_KEYS: dict[str, tuple[str, str, str]] = {
    "tenant_channel_conversations_conversation": (
        "channel_conversations",
        "org_id, conversation_id",
        "conversations (org_id, id)",
    ),
    "tenant_channels_group": (
        "channels",
        "org_id, group_id",
        "dispatch_groups (org_id, id)",
    ),
}

#: Added by migration 0019: a room's members are members of the room's organization.
TEAM_ROOM_UNIQUE_KEYS: dict[str, tuple[str, str]] = {
    "tenant_team_rooms_key": ("team_rooms", "org_id, id"),
}
TEAM_ROOM_TENANT_KEYS: dict[str, tuple[str, str, str]] = {
    "tenant_team_room_members_room": (
        "team_room_members",
        "org_id, room_id",
        "team_rooms (org_id, id)",
    ),
    "tenant_team_room_members_member": (
        "team_room_members",
        "org_id, user_id",
        "memberships (org_id, user_id)",
    ),
}

#: Added by migration 0023: a room's file is a file of the room's organization.
TEAM_ROOM_FILE_KEYS: dict[str, tuple[str, str, str]] = {
    "tenant_team_room_files_room": (
        "team_room_files",
        "org_id, room_id",
        "team_rooms (org_id, id)",
    ),
}

#: The tables whose rows name their space in ``org_id``: an organization, or the direct
#: chats'. A foreign key cannot point at one of two tables by a column's value, so a
#: constraint trigger does what the composite key does elsewhere (the same lookup, the
#: same ``FOR KEY SHARE`` lock on the conversation, at the same moment).
MESSAGE_SPACE_TABLES = ("messages", "message_outbox")
MESSAGE_KEY_FUNCTION = "raasel_message_in_its_space"
NOT_DIRECT_CHECK = "tenant_organizations_not_direct"


def message_key_name(table: str) -> str:
    return f"tenant_{table}_conversation"


def message_key_statements() -> list[str]:
    """No organization may be called ``direct``; a message row's conversation is in its
    own space: the organization's conversation (``org_id, id``) or a direct chat. Rows
    already stored are checked first: one that is not fails the migration by name."""
    check = (
        f"CASE WHEN m.org_id = '{DIRECT_SPACE}'"
        " THEN EXISTS (SELECT 1 FROM direct_conversations d WHERE d.id = m.conversation_id)"
        " ELSE EXISTS (SELECT 1 FROM conversations c"
        " WHERE c.org_id = m.org_id AND c.id = m.conversation_id) END"
    )
    statements = [
        f"ALTER TABLE organizations ADD CONSTRAINT {NOT_DIRECT_CHECK}"
        f" CHECK (id <> '{DIRECT_SPACE}')",
        message_key_function(("conversations",)),
    ]
    for table in MESSAGE_SPACE_TABLES:
        name = message_key_name(table)
        statements += [
            f"""DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM {table} m WHERE NOT ({check})) THEN
                    RAISE EXCEPTION '{name}: {table} has rows outside their space';
                END IF;
            END $$""",
            f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE OF org_id,"
            f" conversation_id ON {table} FOR EACH ROW EXECUTE FUNCTION"
            f" {MESSAGE_KEY_FUNCTION}()",
        ]
    return statements


#: The tables of an organization's space whose rows may hold messages (migration 0019
#: added the group conversations: community channels and team rooms).
ORG_MESSAGE_HOLDERS = ("conversations", "community_channels", "team_rooms")


def _refusal(conversation: str, space: str) -> str:
    """The message-key triggers' error: a foreign-key violation named by the trigger."""
    return f"""RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                    CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME,
                    MESSAGE = format('%s: conversation %s is not in the space %s',
                                     TG_NAME, {conversation}, {space});"""


def message_key_function(holders: tuple[str, ...] = ORG_MESSAGE_HOLDERS) -> str:
    """The trigger function of ``message_key_statements``: a message of an organization
    belongs to a row ``(org_id, id)`` of one of ``holders``, locked ``FOR KEY SHARE``."""
    lookups = "".join(
        f"""
                IF NOT FOUND THEN
                    PERFORM 1 FROM {table}
                    WHERE org_id = NEW.org_id AND id = NEW.conversation_id FOR KEY SHARE;
                END IF;"""
        for table in holders[1:]
    )
    return f"""CREATE OR REPLACE FUNCTION {MESSAGE_KEY_FUNCTION}() RETURNS trigger
        LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
        BEGIN
            IF NEW.org_id = '{DIRECT_SPACE}' THEN
                PERFORM 1 FROM direct_conversations
                WHERE id = NEW.conversation_id FOR KEY SHARE;
            ELSE
                PERFORM 1 FROM {holders[0]}
                WHERE org_id = NEW.org_id AND id = NEW.conversation_id FOR KEY SHARE;{lookups}
            END IF;
            IF NOT FOUND THEN
                {_refusal("NEW.conversation_id", "NEW.org_id")}
            END IF;
            RETURN NULL;
        END $fn$"""


def drop_message_key_statements() -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {message_key_name(t)} ON {t}" for t in MESSAGE_SPACE_TABLES),
        f"DROP FUNCTION IF EXISTS {MESSAGE_KEY_FUNCTION}()",
        f"ALTER TABLE organizations DROP CONSTRAINT IF EXISTS {NOT_DIRECT_CHECK}",
    ]


def role_statements() -> list[str]:
    """The reader role (cluster-wide, made once), what it may read, and who may become it.

    Made by whoever runs the migrations (a superuser, or a role with CREATEROLE); the
    role that serves requests must be a member to ``SET ROLE`` to it."""
    return [
        f"""DO $$ BEGIN
            CREATE ROLE {READER_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$""",
        f"""DO $$ BEGIN
            IF NOT pg_has_role(current_user, '{READER_ROLE}', 'MEMBER') THEN
                EXECUTE format('GRANT {READER_ROLE} TO %I', current_user);
            END IF;
        END $$""",
        f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE}",
        # Tables made later by the same owner are readable by the role too; their policy
        # (or its absence, which the test catches) decides what it sees.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READER_ROLE}",
    ]


def policy_statements(table: str, using: str) -> list[str]:
    """Row-level security on ``table``: the reader sees the rows ``using`` allows.

    Not FORCEd: the owner (the committer, migrations, the cross-tenant paths) is not
    subject to it; every other role sees nothing without a policy of its own."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS tenant_read ON {table}",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT TO {READER_ROLE} USING ({using})",
    ]


def drop_policy_statements(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_read ON {table}",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def _matches_function(name: str, table: str, args: str, query: str) -> list[str]:
    """A full-text match step that PostgreSQL can run on its GIN index.

    Under row-level security the planner will not use an index for an operator that is
    not leakproof (``@@`` is not): the search would read the whole table. This function
    runs as the owner, on the index, and is held to the organization of the caller's
    transaction setting (never a parameter), so it is walled like the policy it stands
    in for; without the setting it finds nothing. ``EXECUTE`` plans each call with its
    values (a rare word takes the GIN index, a common one the newest-first index)."""
    names = ", ".join(arg.split()[0] for arg in args.split(", "))
    return [
        f"""CREATE OR REPLACE FUNCTION {name}({args}) RETURNS SETOF {table}
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
        BEGIN
            RETURN QUERY EXECUTE '{query}' USING {S_ORG}, {names};
        END $fn$""",
        f"REVOKE ALL ON FUNCTION {name}({args}) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {name}({args}) TO {READER_ROLE}",
    ]


def search_statements() -> list[str]:
    """The inbox search's match steps (storage/metadata/inbox_search.py)."""
    return _matches_function(
        "raasel_message_matches",
        "message_search",
        "q tsquery, win integer",
        "SELECT * FROM message_search WHERE org_id = $1 AND document @@ $2"
        " ORDER BY id DESC LIMIT $3",
    ) + _matches_function(
        "raasel_conversation_matches",
        "conversation_search",
        "q tsquery",
        "SELECT * FROM conversation_search WHERE org_id = $1 AND document @@ $2",
    )


def drop_search_statements() -> list[str]:
    return [
        "DROP FUNCTION IF EXISTS raasel_message_matches(tsquery, integer)",
        "DROP FUNCTION IF EXISTS raasel_conversation_matches(tsquery)",
    ]


def key_statements(keys: dict[str, tuple[str, str, str]] = TENANT_KEYS) -> list[str]:
    """The composite keys, then each foreign key added unchecked and validated after
    (validation reads the table once; rows already attached across tenants fail it)."""
    statements = [
        f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({columns})"
        for name, (table, columns) in TENANT_UNIQUE_KEYS.items()
    ]
    for name, (table, columns, target) in keys.items():
        statements.append(
            f"ALTER TABLE {table} ADD CONSTRAINT {name}"
            f" FOREIGN KEY ({columns}) REFERENCES {target} NOT VALID"
        )
    statements += [
        f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}" for name, (table, _, _) in keys.items()
    ]
    return statements


def drop_key_statements(
    keys: dict[str, tuple[str, str, str]] = TENANT_KEYS, *, with_unique_keys: bool = True
) -> list[str]:
    statements = [
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"
        for name, (table, _, _) in keys.items()
    ]
    if not with_unique_keys:
        return statements
    return statements + [f"DROP INDEX IF EXISTS {name}" for name in TENANT_UNIQUE_KEYS]


#: Migration 0024: the insert check once per statement over its new rows (a batch's
#: messages are one multi-row insert: the row trigger's plpgsql call per row cost 66 µs
#: each, docs/benchmarks.md); a row trigger under its own name still checks updates
#: that move a message to another conversation or space.
MESSAGE_KEYS_FUNCTION = "raasel_messages_in_their_space"


def message_move_key_name(table: str) -> str:
    return f"tenant_{table}_conversation_moved"


def message_keys_function(holders: tuple[str, ...] = ORG_MESSAGE_HOLDERS) -> str:
    """The statement trigger of ``message_statement_key_statements``: the spaces of the
    statement's new rows locked ``FOR KEY SHARE`` (as the row trigger did, one lookup per
    holder table for all rows), then the first row in none of them refused by name."""
    org_rows = f"SELECT org_id, conversation_id FROM new_rows WHERE org_id <> '{DIRECT_SPACE}'"
    locks = "".join(
        f"""
            PERFORM 1 FROM {table} WHERE (org_id, id) IN ({org_rows}) FOR KEY SHARE;"""
        for table in holders
    )
    found = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} h WHERE h.org_id = n.org_id AND h.id = n.conversation_id)"
        for table in holders
    )
    return f"""CREATE OR REPLACE FUNCTION {MESSAGE_KEYS_FUNCTION}() RETURNS trigger
        LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
        DECLARE
            stray record;
        BEGIN
            PERFORM 1 FROM direct_conversations WHERE id IN
                (SELECT conversation_id FROM new_rows WHERE org_id = '{DIRECT_SPACE}')
                FOR KEY SHARE;{locks}
            SELECT n.org_id, n.conversation_id INTO stray FROM new_rows n
            WHERE NOT CASE WHEN n.org_id = '{DIRECT_SPACE}'
                THEN EXISTS (SELECT 1 FROM direct_conversations d WHERE d.id = n.conversation_id)
                ELSE {found} END
            LIMIT 1;
            IF FOUND THEN
                {_refusal("stray.conversation_id", "stray.org_id")}
            END IF;
            RETURN NULL;
        END $fn$"""


def message_statement_key_statements() -> list[str]:
    """Migration 0024 up: the insert check per statement, the update check per row."""
    statements = [message_keys_function()]
    for table in MESSAGE_SPACE_TABLES:
        name = message_key_name(table)
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {MESSAGE_KEYS_FUNCTION}()",
            f"CREATE CONSTRAINT TRIGGER {message_move_key_name(table)} AFTER UPDATE OF org_id,"
            f" conversation_id ON {table} FOR EACH ROW EXECUTE FUNCTION"
            f" {MESSAGE_KEY_FUNCTION}()",
        ]
    return statements


def message_row_key_statements() -> list[str]:
    """Migration 0024 down: the row trigger for inserts and updates, as before."""
    statements = []
    for table in MESSAGE_SPACE_TABLES:
        name = message_key_name(table)
        statements += [
            f"DROP TRIGGER IF EXISTS {message_move_key_name(table)} ON {table}",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE OF org_id,"
            f" conversation_id ON {table} FOR EACH ROW EXECUTE FUNCTION"
            f" {MESSAGE_KEY_FUNCTION}()",
        ]
    return [*statements, f"DROP FUNCTION IF EXISTS {MESSAGE_KEYS_FUNCTION}()"]
