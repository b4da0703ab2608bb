"""The inbox search's match step under row-level security (issue 15), PostgreSQL.

    .venv/bin/python -m bench.rls_search --rows 300000 --repeats 7

A migrated database (tests/support/databases.py) with ``--rows`` rows in
``message_search`` (nine in ten of one organization; every row holds the word
``common`` and one word of its own), vacuumed; then the newest-2,000-matches step of
storage/metadata/inbox_search.py for a rare and a common word: as the owner (as before
row-level security), as ``raasel_reader`` with the plain query (the policy keeps the
planner off the GIN index: ``@@`` is not leakproof), and as ``raasel_reader`` through
``raasel_message_matches`` (storage/tenant_ddl.py). Prints the median and the minimum
in ms; each run in its own transaction, scoped as a request is.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from tests.support import databases  # noqa: E402

from raasel.storage.tenancy import READER_ROLE  # noqa: E402

PLAIN = (
    "SELECT * FROM message_search WHERE org_id = 'x' AND document @@ to_tsquery('simple', :w)"
    " ORDER BY id DESC LIMIT 2000"
)
MATCHES = "SELECT * FROM raasel_message_matches(to_tsquery('simple', :w), 2000) WHERE org_id = 'x'"
CASES = {
    "owner, plain query (before row-level security)": (False, PLAIN),
    "reader, plain query under the policy": (True, PLAIN),
    "reader, raasel_message_matches": (True, MATCHES),
}
SCOPE = text("SELECT set_config('role', :role, true), set_config('raasel.org_id', 'x', true)")


async def run(rows: int, repeats: int) -> None:
    url = await asyncio.to_thread(databases.create_postgres_database)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "INSERT INTO message_search SELECT 'c' || (g % 1000), g,"
                    " CASE WHEN g % 10 = 0 THEN 'y' ELSE 'x' END, 'text', 'w' || g,"
                    " to_tsvector('simple', 'common w' || g), g FROM generate_series(1, :n) g"
                ),
                {"n": rows},
            )
            await conn.execute(text("VACUUM ANALYZE message_search"))
        for kind in ("rare", "common"):
            for name, (is_reader, sql) in CASES.items():
                times = []
                for i in range(repeats):
                    word = "common" if kind == "common" else f"w{777 + i * 10}"
                    async with engine.connect() as conn:
                        await conn.execute(text("BEGIN"))
                        if is_reader:
                            await conn.execute(SCOPE, {"role": READER_ROLE})
                        started = time.perf_counter()
                        found = len((await conn.execute(text(sql), {"w": word})).all())
                        times.append((time.perf_counter() - started) * 1000)
                        await conn.execute(text("COMMIT"))
                median = statistics.median(times)
                print(
                    f"{kind:6} | {name:48} | {found:5} rows | median {median:6.1f} ms"
                    f" | min {min(times):6.1f} ms"
                )
    finally:
        await engine.dispose()
        databases.drop_created()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.repeats))


if __name__ == "__main__":
    main()
