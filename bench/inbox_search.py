"""Inbox search latency over a million messages (issue 13): p50/p95 per kind of query.

    .venv/bin/python -m bench.inbox_search --dialects sqlite,postgresql --messages 1000000

Builds a migrated database (tests/support/databases.py), one organization holding
``--messages`` messages in ``--conversations`` conversations plus a second organization
with the same words (the tenant filter must skip it), inserted with plain multi-row
INSERTs (SQLite) or COPY (PostgreSQL) so the search triggers index every row as the
engine's flush would. Texts are drawn from a Zipf vocabulary (rank 1 is in most
messages, the tail in a handful), then ``actions.inbox_search.search`` runs as a
supervisor (the widest scope, no group filter) for rare, medium, common, two-word and
prefix queries. Reports p50/p95 in ms of the first page (20 hits, ranked) and writes
bench/results/inbox_search-<dialect>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import databases  # noqa: E402

from raasel.actions import inbox_search  # noqa: E402
from raasel.actions.context import Actor, Services  # noqa: E402
from raasel.app import build_services  # noqa: E402
from raasel.config import Settings  # noqa: E402
from raasel.domain import Role, UserKind  # noqa: E402
from raasel.lib.clock import utcnow  # noqa: E402
from raasel.lib.ids import new_str_id  # noqa: E402
from raasel.storage import schema  # noqa: E402
from raasel.storage.transaction import Tx  # noqa: E402

VOCABULARY = 20_000
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "pa", "qu", "do", "fe", "gi"]
BATCH = 20_000


def words(n: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(out, key=lambda w: (len(w), w))


def texts(vocab: list[str], count: int, rng: random.Random) -> list[str]:
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocab))))
    return [
        " ".join(rng.choices(vocab, cum_weights=cumulative, k=rng.randint(4, 18)))
        for _ in range(count)
    ]


async def seed_org(svc: Services, name: str, conversations: int) -> tuple[str, list[str], str]:
    """An organization, its default group, a supervisor, and ``conversations`` rows."""
    from raasel.actions.orgs import create_org_with_owner
    from raasel.storage.metadata import organizations

    async def work(conn: Tx) -> tuple[str, list[str], str]:
        now = utcnow()
        owner = new_str_id()
        await conn.execute(
            schema.users.insert().values(
                id=owner,
                email=f"{owner}@bench.example",
                password_hash=None,
                display_name=f"{name} owner",
                kind=UserKind.PERSON,
                plan="free",
                created_at=now,
            )
        )
        org_id = await create_org_with_owner(conn, owner, {"slug": f"b{owner}", "name": name})
        group = await organizations.default_group(conn, org_id)
        assert group is not None
        ids = [new_str_id() for _ in range(conversations)]
        rows = [
            {
                "id": cid,
                "org_id": org_id,
                "kind": "support",
                "group_id": group.id,
                "customer_id": owner,
                "assignee_id": None,
                "status": "resolved" if i % 3 else "active",
                "priority": "normal",
                "subject": f"conversation {i}",
                "tags": [],
                "is_escalated": False,
                "created_at": now,
                "updated_at": now,
                "queued_at": now,
                "first_message_id": 0,
                "last_position": 0,
                "last_public_position": 0,
                "last_position_id": 0,
            }
            for i, cid in enumerate(ids)
        ]
        for start in range(0, len(rows), 5000):
            await conn.execute(schema.conversations.insert(), rows[start : start + 5000])
        return org_id, ids, owner

    return await svc.db.write(work)


def message_rows(
    org_id: str, conversation_ids: list[str], bodies: list[str], sender: str, first_id: int
) -> list[tuple[Any, ...]]:
    per = max(len(bodies) // len(conversation_ids), 1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i, body in enumerate(bodies):
        cid = conversation_ids[min(i // per, len(conversation_ids) - 1)]
        position = i % per + 1
        rows.append(
            (
                org_id,
                cid,
                position // 1024,
                position,
                first_id + i,
                sender,
                "customer" if i % 2 else "org",
                f"b{first_id + i}",
                "text",
                body,
                None,
                start + timedelta(seconds=i),
            )
        )
    return rows


async def insert_messages(svc: Services, dialect: str, rows: list[tuple[Any, ...]]) -> None:
    if dialect == "sqlite":
        import sqlite3

        path = svc.db.url.split("///", 1)[-1]
        conn = sqlite3.connect(path)
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        try:
            for start in range(0, len(rows), BATCH):
                chunk = [(*r[:-1], r[-1].strftime(fmt)) for r in rows[start : start + BATCH]]
                conn.executemany(
                    "INSERT INTO messages (org_id, conversation_id, bucket, position, id,"
                    " sender_id, sender_side, client_id, kind, body, attachment_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    chunk,
                )
                conn.commit()
        finally:
            conn.close()
        return
    import asyncpg

    url = svc.db.url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        columns = [
            "org_id",
            "conversation_id",
            "bucket",
            "position",
            "id",
            "sender_id",
            "sender_side",
            "client_id",
            "kind",
            "body",
            "attachment_id",
            "created_at",
        ]
        for start in range(0, len(rows), BATCH):
            await conn.copy_records_to_table(
                "messages", records=rows[start : start + BATCH], columns=columns
            )
        await conn.execute("ANALYZE message_search; ANALYZE conversations")
    finally:
        await conn.close()


async def run(dialect: str, messages: int, conversations: int, repeats: int) -> dict[str, Any]:
    rng = random.Random(13)
    tmp = Path(tempfile.mkdtemp(prefix="inbox-search-"))
    db = await databases.migrated_database(dialect, tmp)
    await db.close()
    svc = build_services(Settings(var_dir=tmp, database_url=db.url, secret_key="x" * 40, node_id=7))
    try:
        vocab = words(VOCABULARY, rng)
        org_id, ids, owner = await seed_org(svc, "Big", conversations)
        other_id, other_ids, other_owner = await seed_org(svc, "Other", 50)
        began = time.perf_counter()
        bodies = texts(vocab, messages, rng)
        await insert_messages(svc, dialect, message_rows(org_id, ids, bodies, owner, 10**12))
        await insert_messages(
            svc, dialect, message_rows(other_id, other_ids, bodies[:5000], other_owner, 2 * 10**12)
        )
        seeded = time.perf_counter() - began
        lead = Actor(owner, UserKind.PERSON, "Lead", "bench", org_id=org_id, role=Role.OWNER)
        queries = {
            "rare word": [vocab[-1 - i * 37] for i in range(repeats)],
            "medium word": [vocab[200 + i * 7] for i in range(repeats)],
            "common word": [vocab[i % 10] for i in range(repeats)],
            "two words": [f"{vocab[20 + i]} {vocab[500 + i * 3]}" for i in range(repeats)],
            "prefix": [vocab[300 + i * 11][:3] + "*" for i in range(repeats)],
        }
        results: dict[str, Any] = {}
        every: list[float] = []
        for kind, qs in queries.items():
            await inbox_search.search(svc, lead, qs[0])  # warm the caches
            times = []
            hits = 0
            for q in qs:
                start = time.perf_counter()
                answer = await inbox_search.search(svc, lead, q, limit=20)
                times.append((time.perf_counter() - start) * 1000)
                hits += len(answer["messages"])
            every += times
            times.sort()
            results[kind] = {
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[max(int(len(times) * 0.95) - 1, 0)], 2),
                "hits_per_page": round(hits / len(qs), 1),
            }
        every.sort()
        return {
            "dialect": dialect,
            "messages": messages,
            "conversations": conversations,
            "seed_seconds": round(seeded, 1),
            "queries": results,
            "all": {
                "p50_ms": round(statistics.median(every), 2),
                "p95_ms": round(every[max(int(len(every) * 0.95) - 1, 0)], 2),
            },
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            # The machine is shared: its load says how much to trust the numbers.
            "load_average": [round(x, 1) for x in os.getloadavg()],
        }
    finally:
        await svc.db.close()
        databases.drop_created()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default="sqlite")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    for dialect in args.dialects.split(","):
        result = asyncio.run(run(dialect, args.messages, args.conversations, args.repeats))
        (out / f"inbox_search-{dialect}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
