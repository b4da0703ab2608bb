"""The team inbox's derived objects: the full-text indexes and the reporting triggers.

They are kept by the database itself, in the transaction of the unit that writes: a
trigger on ``messages`` (SQL message store) and one on ``message_outbox`` (Cassandra
message store: every message passes through the outbox in its unit's commit) index each
text message and internal note; triggers on ``conversations`` and ``users`` keep the
conversation index (subject, labels, customer name and address); triggers on
``conversations`` and on the messages write the raw reporting events. The engine's
flush is plain multi-row INSERTs and executemany UPDATEs (storage/sqlite_bulk.py on
SQLite), which fire these triggers row by row: no engine change, and nothing to keep in
step after the commit (docs/decisions.md, "Inbox search").

SQLite: FTS5 (``unicode61``, diacritics removed, no stemming: the product is not one
language). PostgreSQL: ``tsvector`` columns with GIN indexes, the ``simple`` configuration
for the same reason. The search tables are not in ``schema.py`` (SQLAlchemy cannot
declare a virtual table); ``DERIVED_TABLES`` names them for the schema comparison.
Messages are never deleted, so the message index has no delete trigger.
"""

# ruff: noqa: S608  (DDL assembled from this module's constants only, never from input)
from __future__ import annotations

# Tables (and FTS5 shadow tables) made here, outside ``schema.metadata``.
DERIVED_TABLES = frozenset(
    {
        "message_search",
        "conversation_search",
        "conversation_search_rows",
        *(
            f"{t}_{s}"
            for t in ("message_search", "conversation_search")
            for s in ("data", "idx", "content", "docsize", "config")
        ),
    }
)

_REPORT_COLUMNS = "org_id, conversation_id, kind, group_id, agent_id, started_at, at"

_SQLITE_CUSTOMER = (
    "COALESCE((SELECT u.display_name || ' ' || COALESCE(u.email, '') FROM users u"
    " WHERE u.id = new.customer_id), '')"
)


def _sqlite_message_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_search AFTER INSERT ON {table}
        WHEN new.kind IN ('text', 'note') AND new.body != ''
        BEGIN
            INSERT INTO message_search (body, org_id, conversation_id, position, kind)
            VALUES (new.body, new.org_id, new.conversation_id, new.position, new.kind);
        END""",
        f"""CREATE TRIGGER {table}_first_response AFTER INSERT ON {table}
        WHEN new.sender_side = 'org' AND new.kind = 'text' AND NOT EXISTS (
            SELECT 1 FROM report_events r
            WHERE r.conversation_id = new.conversation_id AND r.kind = 'first_response')
        BEGIN
            INSERT INTO report_events ({_REPORT_COLUMNS})
            SELECT c.org_id, c.id, 'first_response', c.group_id, new.sender_id,
                   c.created_at, new.created_at
            FROM conversations c WHERE c.id = new.conversation_id;
        END""",
    ]


SQLITE_UP = [
    """CREATE VIRTUAL TABLE message_search USING fts5(
        body, org_id UNINDEXED, conversation_id UNINDEXED, position UNINDEXED,
        kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')""",
    *_sqlite_message_triggers("messages"),
    *_sqlite_message_triggers("message_outbox"),
    # External content with an INTEGER PRIMARY KEY: rowids that VACUUM keeps.
    """CREATE TABLE conversation_search_rows (
        id INTEGER PRIMARY KEY,
        conversation_id VARCHAR(24) NOT NULL UNIQUE,
        org_id VARCHAR(24) NOT NULL,
        subject TEXT NOT NULL,
        labels TEXT NOT NULL,
        customer TEXT NOT NULL)""",
    """CREATE VIRTUAL TABLE conversation_search USING fts5(
        subject, labels, customer, content = 'conversation_search_rows',
        content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER conversation_search_rows_ai AFTER INSERT ON conversation_search_rows
    BEGIN
        INSERT INTO conversation_search (rowid, subject, labels, customer)
        VALUES (new.id, new.subject, new.labels, new.customer);
    END""",
    """CREATE TRIGGER conversation_search_rows_au AFTER UPDATE ON conversation_search_rows
    BEGIN
        INSERT INTO conversation_search (conversation_search, rowid, subject, labels, customer)
        VALUES ('delete', old.id, old.subject, old.labels, old.customer);
        INSERT INTO conversation_search (rowid, subject, labels, customer)
        VALUES (new.id, new.subject, new.labels, new.customer);
    END""",
    f"""CREATE TRIGGER conversations_search AFTER INSERT ON conversations
    BEGIN
        INSERT INTO conversation_search_rows (conversation_id, org_id, subject, labels, customer)
        VALUES (new.id, new.org_id, new.subject, new.tags, {_SQLITE_CUSTOMER});
    END""",
    f"""CREATE TRIGGER conversations_search_update
    AFTER UPDATE OF subject, tags, customer_id ON conversations
    BEGIN
        UPDATE conversation_search_rows
        SET subject = new.subject, labels = new.tags, customer = {_SQLITE_CUSTOMER}
        WHERE conversation_id = new.id;
    END""",
    """CREATE TRIGGER users_search AFTER UPDATE OF display_name, email ON users
    BEGIN
        UPDATE conversation_search_rows
        SET customer = new.display_name || ' ' || COALESCE(new.email, '')
        WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_id = new.id);
    END""",
    f"""CREATE TRIGGER conversations_report_opened AFTER INSERT ON conversations
    BEGIN
        INSERT INTO report_events ({_REPORT_COLUMNS})
        VALUES (new.org_id, new.id, 'opened', new.group_id, NULL, NULL, new.created_at);
    END""",
    f"""CREATE TRIGGER conversations_report_status AFTER UPDATE OF status ON conversations
    WHEN (old.status = 'queued' AND new.status = 'active')
      OR (new.status = 'resolved' AND old.status != 'resolved')
    BEGIN
        INSERT INTO report_events ({_REPORT_COLUMNS})
        SELECT new.org_id, new.id,
               CASE WHEN new.status = 'active' THEN 'assigned' ELSE 'resolved' END,
               new.group_id, new.assignee_id,
               CASE WHEN new.status = 'active' THEN new.queued_at ELSE new.created_at END,
               CASE WHEN new.status = 'active' THEN COALESCE(new.assigned_at, new.updated_at)
                    ELSE COALESCE(new.resolved_at, new.updated_at) END;
    END""",
    # What existed before this migration.
    """INSERT INTO message_search (body, org_id, conversation_id, position, kind)
    SELECT body, org_id, conversation_id, position, kind FROM messages
    WHERE kind IN ('text', 'note') AND body != ''""",
    """INSERT INTO message_search (body, org_id, conversation_id, position, kind)
    SELECT body, org_id, conversation_id, position, kind FROM message_outbox
    WHERE kind IN ('text', 'note') AND body != ''""",
    """INSERT INTO conversation_search_rows (conversation_id, org_id, subject, labels, customer)
    SELECT c.id, c.org_id, c.subject, c.tags,
           COALESCE(u.display_name || ' ' || COALESCE(u.email, ''), '')
    FROM conversations c LEFT JOIN users u ON u.id = c.customer_id""",
]

SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "messages_search",
            "messages_first_response",
            "message_outbox_search",
            "message_outbox_first_response",
            "conversation_search_rows_ai",
            "conversation_search_rows_au",
            "conversations_search",
            "conversations_search_update",
            "users_search",
            "conversations_report_opened",
            "conversations_report_status",
        )
    ),
    "DROP TABLE IF EXISTS conversation_search",
    "DROP TABLE IF EXISTS conversation_search_rows",
    "DROP TABLE IF EXISTS message_search",
]

_PG_DOCUMENT = """
    setweight(to_tsvector('simple', coalesce(c.subject, '')), 'A')
    || setweight(to_tsvector('simple', coalesce(c.tags::text, '')), 'B')
    || setweight(to_tsvector('simple', coalesce(u.display_name, '') || ' '
        || coalesce(u.email, '') || ' '
        || regexp_replace(coalesce(u.email, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
"""

POSTGRESQL_UP = [
    """CREATE TABLE message_search (
        conversation_id VARCHAR(24) NOT NULL,
        position BIGINT NOT NULL,
        org_id VARCHAR(24) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        body TEXT NOT NULL,
        document TSVECTOR NOT NULL,
        id BIGINT NOT NULL,
        PRIMARY KEY (conversation_id, position))""",
    "CREATE INDEX ix_message_search_document ON message_search USING gin (document)",
    # The newest matches first (the ranked window, storage/metadata/inbox_search.py).
    "CREATE INDEX ix_message_search_recent ON message_search (org_id, id)",
    """CREATE TABLE conversation_search (
        conversation_id VARCHAR(24) PRIMARY KEY,
        org_id VARCHAR(24) NOT NULL,
        document TSVECTOR NOT NULL)""",
    "CREATE INDEX ix_conversation_search_document ON conversation_search USING gin (document)",
    f"""CREATE FUNCTION raasel_conversation_document(cid VARCHAR) RETURNS TSVECTOR
    LANGUAGE sql STABLE AS $$
        SELECT {_PG_DOCUMENT}
        FROM conversations c LEFT JOIN users u ON u.id = c.customer_id WHERE c.id = cid
    $$""",
    """CREATE FUNCTION raasel_index_message() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.kind IN ('text', 'note') AND NEW.body <> '' THEN
            INSERT INTO message_search
            VALUES (NEW.conversation_id, NEW.position, NEW.org_id, NEW.kind, NEW.body,
                    to_tsvector('simple', NEW.body), NEW.id)
            ON CONFLICT DO NOTHING;
        END IF;
        IF NEW.sender_side = 'org' AND NEW.kind = 'text' AND NOT EXISTS (
            SELECT 1 FROM report_events r
            WHERE r.conversation_id = NEW.conversation_id AND r.kind = 'first_response')
        THEN
            INSERT INTO report_events (org_id, conversation_id, kind, group_id, agent_id,
                                       started_at, at)
            SELECT c.org_id, c.id, 'first_response', c.group_id, NEW.sender_id,
                   c.created_at, NEW.created_at
            FROM conversations c WHERE c.id = NEW.conversation_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER messages_search AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION raasel_index_message()""",
    """CREATE TRIGGER message_outbox_search AFTER INSERT ON message_outbox
    FOR EACH ROW EXECUTE FUNCTION raasel_index_message()""",
    """CREATE FUNCTION raasel_index_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO conversation_search
        VALUES (NEW.id, NEW.org_id, raasel_conversation_document(NEW.id))
        ON CONFLICT (conversation_id) DO UPDATE SET document = EXCLUDED.document;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER conversations_search
    AFTER INSERT OR UPDATE OF subject, tags, customer_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION raasel_index_conversation()""",
    """CREATE FUNCTION raasel_index_customer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE conversation_search s SET document = raasel_conversation_document(s.conversation_id)
        WHERE s.conversation_id IN (SELECT id FROM conversations WHERE customer_id = NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER users_search AFTER UPDATE OF display_name, email ON users
    FOR EACH ROW EXECUTE FUNCTION raasel_index_customer()""",
    """CREATE FUNCTION raasel_report_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO report_events (org_id, conversation_id, kind, group_id, agent_id,
                                       started_at, at)
            VALUES (NEW.org_id, NEW.id, 'opened', NEW.group_id, NULL, NULL, NEW.created_at);
        ELSIF OLD.status = 'queued' AND NEW.status = 'active' THEN
            INSERT INTO report_events (org_id, conversation_id, kind, group_id, agent_id,
                                       started_at, at)
            VALUES (NEW.org_id, NEW.id, 'assigned', NEW.group_id, NEW.assignee_id,
                    NEW.queued_at, COALESCE(NEW.assigned_at, NEW.updated_at));
        ELSIF NEW.status = 'resolved' AND OLD.status <> 'resolved' THEN
            INSERT INTO report_events (org_id, conversation_id, kind, group_id, agent_id,
                                       started_at, at)
            VALUES (NEW.org_id, NEW.id, 'resolved', NEW.group_id, NEW.assignee_id,
                    NEW.created_at, COALESCE(NEW.resolved_at, NEW.updated_at));
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER conversations_report AFTER INSERT OR UPDATE OF status ON conversations
    FOR EACH ROW EXECUTE FUNCTION raasel_report_conversation()""",
    """INSERT INTO message_search
    SELECT conversation_id, position, org_id, kind, body, to_tsvector('simple', body), id
    FROM messages WHERE kind IN ('text', 'note') AND body <> ''""",
    """INSERT INTO message_search
    SELECT conversation_id, position, org_id, kind, body, to_tsvector('simple', body), id
    FROM message_outbox WHERE kind IN ('text', 'note') AND body <> ''
    ON CONFLICT DO NOTHING""",
    """INSERT INTO conversation_search
    SELECT id, org_id, raasel_conversation_document(id) FROM conversations""",
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS conversations_report ON conversations",
    "DROP TRIGGER IF EXISTS users_search ON users",
    "DROP TRIGGER IF EXISTS conversations_search ON conversations",
    "DROP TRIGGER IF EXISTS message_outbox_search ON message_outbox",
    "DROP TRIGGER IF EXISTS messages_search ON messages",
    "DROP FUNCTION IF EXISTS raasel_report_conversation()",
    "DROP FUNCTION IF EXISTS raasel_index_customer()",
    "DROP FUNCTION IF EXISTS raasel_index_conversation()",
    "DROP FUNCTION IF EXISTS raasel_index_message()",
    "DROP FUNCTION IF EXISTS raasel_conversation_document(VARCHAR)",
    "DROP TABLE IF EXISTS conversation_search",
    "DROP TABLE IF EXISTS message_search",
]


def statements(dialect: str, *, up: bool) -> list[str]:
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    return POSTGRESQL_UP if up else POSTGRESQL_DOWN


# ----- schema 0006: conversation activity (transfers, closes, reopens) -----------------

_SQLITE_ACTIVITY_UP = [
    f"""CREATE TRIGGER conversations_report_activity
    AFTER UPDATE OF status, assignee_id ON conversations
    WHEN (old.status = 'active' AND new.status = 'active'
          AND old.assignee_id IS NOT NULL AND new.assignee_id IS NOT NULL
          AND old.assignee_id != new.assignee_id)
      OR (new.status = 'closed' AND old.status != 'closed')
      OR (new.status = 'queued' AND old.status IN ('resolved', 'closed'))
    BEGIN
        INSERT INTO report_events ({_REPORT_COLUMNS})
        SELECT new.org_id, new.id,
               CASE WHEN new.status = 'closed' THEN 'closed'
                    WHEN new.status = 'queued' THEN 'reopened'
                    ELSE 'transferred' END,
               new.group_id,
               CASE WHEN new.status = 'active' THEN new.assignee_id ELSE old.assignee_id END,
               NULL, new.updated_at;
    END""",
]

_SQLITE_ACTIVITY_DOWN = ["DROP TRIGGER IF EXISTS conversations_report_activity"]

_PG_ACTIVITY_UP = [
    """CREATE FUNCTION raasel_report_activity() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        what VARCHAR(16);
    BEGIN
        IF OLD.status = 'active' AND NEW.status = 'active' AND OLD.assignee_id IS NOT NULL
           AND NEW.assignee_id IS NOT NULL AND OLD.assignee_id <> NEW.assignee_id THEN
            what := 'transferred';
        ELSIF NEW.status = 'closed' AND OLD.status <> 'closed' THEN
            what := 'closed';
        ELSIF NEW.status = 'queued' AND OLD.status IN ('resolved', 'closed') THEN
            what := 'reopened';
        ELSE
            RETURN NULL;
        END IF;
        INSERT INTO report_events (org_id, conversation_id, kind, group_id, agent_id,
                                   started_at, at)
        VALUES (NEW.org_id, NEW.id, what, NEW.group_id,
                CASE WHEN what = 'transferred' THEN NEW.assignee_id ELSE OLD.assignee_id END,
                NULL, NEW.updated_at);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER conversations_report_activity
    AFTER UPDATE OF status, assignee_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION raasel_report_activity()""",
]

_PG_ACTIVITY_DOWN = [
    "DROP TRIGGER IF EXISTS conversations_report_activity ON conversations",
    "DROP FUNCTION IF EXISTS raasel_report_activity()",
]


def activity_statements(dialect: str, *, up: bool) -> list[str]:
    if dialect == "sqlite":
        return _SQLITE_ACTIVITY_UP if up else _SQLITE_ACTIVITY_DOWN
    return _PG_ACTIVITY_UP if up else _PG_ACTIVITY_DOWN


# Migration 0024 (PostgreSQL): messages indexed once per statement over its new rows. A
# batch's messages are one multi-row insert, and the row trigger's plpgsql call cost
# 60 µs a message (docs/benchmarks.md). The first response is the earliest org text of a
# conversation that has none yet, as when rows were indexed one at a time in order.
_PG_INDEX_MESSAGES = """CREATE OR REPLACE FUNCTION raasel_index_messages() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO message_search
        SELECT conversation_id, position, org_id, kind, body, to_tsvector('simple', body), id
        FROM new_rows WHERE kind IN ('text', 'note') AND body <> ''
        ON CONFLICT DO NOTHING;
        INSERT INTO report_events (org_id, conversation_id, kind, group_id, agent_id,
                                   started_at, at)
        SELECT DISTINCT ON (n.conversation_id) c.org_id, c.id, 'first_response', c.group_id,
               n.sender_id, c.created_at, n.created_at
        FROM new_rows n JOIN conversations c ON c.id = n.conversation_id
        WHERE n.sender_side = 'org' AND n.kind = 'text' AND NOT EXISTS (
            SELECT 1 FROM report_events r
            WHERE r.conversation_id = n.conversation_id AND r.kind = 'first_response')
        ORDER BY n.conversation_id, n.position;
        RETURN NULL;
    END $$"""
_MESSAGE_SEARCH_TRIGGERS = {
    "messages": "messages_search",
    "message_outbox": "message_outbox_search",
}


def statement_search_statements(*, up: bool) -> list[str]:
    """Migration 0024 on PostgreSQL: the search triggers per statement (up) or per row."""
    statements = [_PG_INDEX_MESSAGES] if up else []
    for table, name in _MESSAGE_SEARCH_TRIGGERS.items():
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        if up:
            statements.append(
                f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS"
                " new_rows FOR EACH STATEMENT EXECUTE FUNCTION raasel_index_messages()"
            )
        else:
            statements.append(
                f"CREATE TRIGGER {name} AFTER INSERT ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION raasel_index_message()"
            )
    return statements if up else [*statements, "DROP FUNCTION IF EXISTS raasel_index_messages()"]
