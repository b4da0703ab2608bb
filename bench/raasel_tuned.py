"""Diagnostics only: ``raasel serve`` with the interpreter's GIL switch interval changed.

``python -m bench.raasel_tuned <seconds> serve`` (bench/run.py ``--switch-interval``).
The node's aiosqlite worker threads need the GIL back for every statement; while the
event loop thread is busy they wait up to the switch interval (5 ms by default), so this
shows how much of the write path's latency is that hand-off (docs/benchmarks.md).
"""

from __future__ import annotations

import sys


def main() -> None:
    sys.setswitchinterval(float(sys.argv.pop(1)))
    from raasel.cli import app

    app()


if __name__ == "__main__":
    main()
