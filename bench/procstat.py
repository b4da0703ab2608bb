"""CPU and memory of processes and of the machine, read from /proc (Linux only)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, summed over all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / _TICKS, total / _TICKS


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


@dataclass
class Window:
    """CPU used by some processes and by the machine over one measured interval."""

    pids: dict[str, int]
    started: float = field(default_factory=time.monotonic)
    cpu_at_start: dict[str, float] = field(default_factory=dict)
    machine_at_start: tuple[float, float] = (0.0, 0.0)
    rss_max: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cpu_at_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine_at_start = machine_busy_seconds()

    def sample_rss(self) -> None:
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError):
                self.rss_max[name] = max(self.rss_max.get(name, 0), rss_bytes(pid))

    async def sample_until(self, stop: asyncio.Event, every: float = 0.5) -> None:
        while not stop.is_set():
            self.sample_rss()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    def finish(self) -> dict[str, float]:
        """CPU in percent of one core per process, and of the machine (100 x cores = all)."""
        elapsed = time.monotonic() - self.started
        out: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                used = cpu_seconds(pid) - self.cpu_at_start[name]
            except OSError:
                continue
            out[name] = 100 * used / elapsed
        busy, total = machine_busy_seconds()
        busy0, total0 = self.machine_at_start
        cores = os.cpu_count() or 1
        out["machine"] = 100 * cores * (busy - busy0) / max(total - total0, 1e-9)
        return out
