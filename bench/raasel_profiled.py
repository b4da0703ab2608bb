"""Diagnostics only: ``raasel serve`` with cProfile switched on and off by signals.

``python -m bench.raasel_profiled OUT serve`` (bench/node_instructions.py ``--profile``):
SIGUSR1 starts a profile of the event loop's thread, SIGUSR2 stops it and writes the
stats to OUT (``python -m pstats OUT``). Call counts per window are exact; times carry
cProfile's overhead, so read them as shares, not as the node's cost.
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType


def main() -> None:
    out = sys.argv.pop(1)
    profile = cProfile.Profile()

    def start(_signum: int, _frame: FrameType | None) -> None:
        profile.clear()
        profile.enable()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        profile.disable()
        profile.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from raasel.cli import app

    app()


if __name__ == "__main__":
    main()
