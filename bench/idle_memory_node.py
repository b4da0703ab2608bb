"""``raasel serve`` that writes a memory report on SIGUSR1 (bench/idle_memory.py drives it).

Each report (``$IDLE_MEMORY_DIR/reportN.*``): RSS, glibc's malloc totals, /proc smaps, a
census of the objects the cyclic GC tracks (what start-up made is frozen and left out),
and with ``IDLE_MEMORY_TRACE=<frames>`` a tracemalloc snapshot (tracing from the start).
"""

from __future__ import annotations

import collections
import ctypes
import gc
import os
import signal
import sys
import tracemalloc
import types
from pathlib import Path
from types import FrameType

FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks")


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (*FIELDS, "fordblks", "keepcost")]


def malloc_totals() -> str:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return f"malloc in use {info.uordblks + info.hblkhd} free {info.fordblks}"


def kind(thing: object) -> str:
    """The object's type; for coroutines and generators also the function they run."""
    name = f"{type(thing).__module__}.{type(thing).__qualname__}"
    if isinstance(thing, types.CoroutineType | types.GeneratorType):
        name += f" {thing.__qualname__}"
    return name


def report(directory: Path, number: int) -> None:
    stem = directory / f"report{number}"
    rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    census = collections.Counter(kind(o) for o in gc.get_objects())
    lines = [f"rss {rss}", malloc_totals(), *(f"{n} {k}" for k, n in census.most_common())]
    (stem.with_suffix(".census")).write_text("\n".join(lines) + "\n")
    (stem.with_suffix(".smaps")).write_text(Path("/proc/self/smaps").read_text())
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(stem.with_suffix(".tracemalloc")))
    (stem.with_suffix(".done")).touch()


def main() -> None:
    frames = int(os.environ.get("IDLE_MEMORY_TRACE", "0"))
    if frames:
        tracemalloc.start(frames)
    directory = Path(os.environ["IDLE_MEMORY_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    reports = [0]

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        reports[0] += 1
        report(directory, reports[0])

    signal.signal(signal.SIGUSR1, on_signal)
    from raasel.cli import app

    sys.argv = ["raasel", "serve"]
    app()


if __name__ == "__main__":
    main()
