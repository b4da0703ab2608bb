"""Is row-level security in place on this PostgreSQL database? (``raasel doctor``)

The migrations make it (storage/tenant_ddl.py); a restore, a hand-made database or a
role changed by someone else can lose part of it while everything still answers. This
reads the catalogs only and names what is missing: the reader role (exists, cannot log
in, is not a superuser and does not bypass row-level security, the serving role may
become it), its grants (the schema, every table, the search's match functions), a
policy on every tenant table (enabled, not forced on the owner), and the tenant keys.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage import tenant_ddl
from raasel.storage.tenancy import READER_ROLE

_ROLE = text(
    """SELECT rolsuper, rolbypassrls, rolcanlogin,
        pg_has_role(current_user, rolname, 'MEMBER') AS is_reachable,
        has_schema_privilege(rolname, 'public', 'USAGE') AS has_schema
    FROM pg_roles WHERE rolname = :role"""
)
_TABLES = text(
    """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
        has_table_privilege(:role, c.oid, 'SELECT') AS is_readable,
        EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                AND p.polname = 'tenant_read') AS has_policy
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'"""
)
_FUNCTIONS = text(
    """SELECT p.proname, has_function_privilege(:role, p.oid, 'EXECUTE') AS is_callable
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.proname IN
        ('raasel_message_matches', 'raasel_conversation_matches')"""
)
_KEYS = text(
    """SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"""
)


def _expected_keys() -> set[str]:
    return {
        *tenant_ddl.TENANT_UNIQUE_KEYS,
        *tenant_ddl.TENANT_KEYS,
        *tenant_ddl.CHANNEL_TENANT_KEYS,
        *tenant_ddl.TEAM_ROOM_UNIQUE_KEYS,
        *tenant_ddl.TEAM_ROOM_TENANT_KEYS,
        *tenant_ddl.TEAM_ROOM_FILE_KEYS,
        *(tenant_ddl.message_key_name(t) for t in tenant_ddl.MESSAGE_SPACE_TABLES),
        *(tenant_ddl.message_move_key_name(t) for t in tenant_ddl.MESSAGE_SPACE_TABLES),
        tenant_ddl.NOT_DIRECT_CHECK,
    }


def _listed(names: set[str]) -> str:
    shown = sorted(names)
    return ", ".join(shown[:5]) + (f" (+{len(shown) - 5} more)" if len(shown) > 5 else "")


async def row_level_security_problems(conn: AsyncConnection) -> list[str]:
    """What is missing, one sentence each; empty when the wall stands."""
    role = (await conn.execute(_ROLE, {"role": READER_ROLE})).first()
    if role is None:
        return [f"the reader role {READER_ROLE} does not exist (`raasel migrate` makes it)"]
    problems = []
    if role.rolsuper or role.rolbypassrls:
        problems.append(f"{READER_ROLE} is a superuser or bypasses row-level security")
    if role.rolcanlogin:
        problems.append(f"{READER_ROLE} can log in (it should be NOLOGIN)")
    if not role.is_reachable:
        problems.append(f"this database user is not a member of {READER_ROLE}: GRANT it")
    if not role.has_schema:
        problems.append(f"{READER_ROLE} has no USAGE on schema public")
    tables = {r.relname: r for r in await conn.execute(_TABLES, {"role": READER_ROLE})}
    unreadable = {name for name, t in tables.items() if not t.is_readable}
    if unreadable:
        problems.append(f"{READER_ROLE} may not SELECT from {_listed(unreadable)}")
    tenant_tables = set(tenant_ddl.TENANT_POLICIES) & set(tables)
    unwalled = {n for n in tenant_tables if not (tables[n].relrowsecurity and tables[n].has_policy)}
    if unwalled:
        problems.append(f"no row-level security policy on {_listed(unwalled)}")
    forced = {name for name, t in tables.items() if t.relforcerowsecurity}
    if forced:
        problems.append(f"row-level security is FORCEd on the owner for {_listed(forced)}")
    functions = {
        r.proname: r.is_callable for r in await conn.execute(_FUNCTIONS, {"role": READER_ROLE})
    }
    for name in ("raasel_message_matches", "raasel_conversation_matches"):
        if not functions.get(name):
            problems.append(f"the search function {name} is missing or not {READER_ROLE}'s")
    missing_keys = _expected_keys() - {r[0] for r in await conn.execute(_KEYS)}
    if missing_keys:
        problems.append(f"tenant keys missing: {_listed(missing_keys)}")
    return problems
