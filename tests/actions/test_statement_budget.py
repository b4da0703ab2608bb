"""The engine's statement and commit budget per command (Zulip's query-count style).

These numbers are the budget: a change that adds a statement to a hot path fails here
and must say why in docs/benchmarks.md. Counted on every engine of the database,
BEGIN included (COMMIT is not a cursor statement).
"""

from __future__ import annotations

import asyncio

from raasel.actions import lifecycle, messages, receipts
from raasel.actions.context import Services
from tests.actions.conftest import Cast, StatementCounter
from tests.actions.test_races import _open

# (SQLite, PostgreSQL): SQLite counts its explicit BEGIN IMMEDIATE. On PostgreSQL each
# read transaction before or after the unit starts with its row-level security scope
# (one set_config statement, storage/tenancy.py): +1 on resolve and on a send that
# reopens (the agents reachable), +2 on open (those, and the opened view); the hot send
# and receipt paths read nothing outside their unit. A PostgreSQL batch runs three of its
# own: the conversations locked, then their sides with the client ids' earlier messages,
# then every write as one statement (storage/pg_bulk.py).
BUDGET = {
    "send": (8, 3),
    "send, conversation cached": (6, 3),
    "read": (3, 3),
    "read that moves nothing": (2, 2),
    # +1: is a label required before resolving? (read only for unlabelled conversations)
    # +1: the audit log's entry (who resolved it), written in the unit
    "resolve": (15, 14),
    "send that reopens": (23, 16),
    "open": (31, 26),
}
# Hot batches on SQLite begin and commit on sqlite3 (storage/database.py); a batch whose
# conversation is not cached loads it through SQLAlchemy, which then commits it ("send").
HOT = {"send, conversation cached", "read", "read that moves nothing"}
# Committed batches per command; a send that reopens first tries the hot path.
COMMITS = {"send": 1, "read": 1, "resolve": 1, "send that reopens": 2, "open": 1}


async def test_each_command_costs_its_budget(services: Services, cast: Cast) -> None:
    cid = await _open(services, cast, "budget")
    is_sqlite = services.db.is_sqlite
    counts: dict[str, int] = {}

    async def measure(name: str, command: object) -> None:
        batches, raw = services.db.batches, services.db.raw_commits
        with StatementCounter(services) as counter:
            await command  # type: ignore[misc]
        counts[name] = counter.count
        if name in COMMITS:
            assert services.db.batches - batches == COMMITS[name], name
        if is_sqlite and name in HOT:  # begun and committed on sqlite3, not SQLAlchemy
            assert services.db.raw_commits - raw == 1, name

    await measure(
        "send", messages.do_send_message(services, cast.customer, cid, client_id="1", text="a")
    )
    await measure(
        "send, conversation cached",
        messages.do_send_message(services, cast.customer, cid, client_id="1b", text="b"),
    )
    await measure(
        "read", receipts.do_mark(services, cast.agent, cid, field="read", up_to_position=99)
    )
    await measure(
        "read that moves nothing",
        receipts.do_mark(services, cast.agent, cid, field="read", up_to_position=99),
    )
    await measure("resolve", lifecycle.do_resolve(services, cast.agent, cid))
    await measure(
        "send that reopens",
        messages.do_send_message(services, cast.customer, cid, client_id="2", text="again"),
    )
    await measure(
        "open",
        lifecycle.do_open_conversation(
            services,
            cast.customer,
            org_id=cast.org_id,
            group_id=None,
            text="new",
            client_id="o2",
            subject="",
            client_ip="127.0.0.1",
        ),
    )
    assert counts == {name: cost[0 if is_sqlite else 1] for name, cost in BUDGET.items()}


async def test_concurrent_sends_share_batches_and_statements(
    services: Services, cast: Cast
) -> None:
    """Sends into many conversations at once: one load, one insert, one update per batch."""
    cids = [await _open(services, cast, f"b{i}") for i in range(4)]
    statements, batches = services.db.statements, services.db.batches
    await asyncio.gather(
        *(
            messages.do_send_message(
                services, cast.customer, cids[i % 4], client_id=f"s{i}", text="x"
            )
            for i in range(40)
        )
    )
    used = services.db.batches - batches
    assert used < 10, f"40 sends took {used} commits"
    per_batch = 7 if services.db.is_sqlite else 3
    assert services.db.statements - statements <= per_batch * used
