"""Time-sortable 64-bit ids (snowflake layout).

Layout: 41 bits of milliseconds since ``EPOCH_MS``, 10 bits of node id, 12 bits of
sequence. Ids sort by creation time across nodes, which lets the message store
cluster by id and derive a time bucket from it without another column. They are
exchanged as decimal strings because JavaScript numbers hold only 53 bits.
"""

from __future__ import annotations

import threading
import time

EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
_NODE_BITS = 10
_SEQ_BITS = 12
_MAX_SEQ = (1 << _SEQ_BITS) - 1


class SnowflakeGenerator:
    """Thread-safe generator of unique, increasing ids for one node."""

    def __init__(self, node_id: int) -> None:
        if not 0 <= node_id < (1 << _NODE_BITS):
            raise ValueError("node_id out of range")
        self._node = node_id
        self._last_ms = -1
        self._seq = 0
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            now = max(int(time.time() * 1000) - EPOCH_MS, self._last_ms)
            if now == self._last_ms:
                self._seq = (self._seq + 1) & _MAX_SEQ
                if self._seq == 0:  # 4096 ids in one ms: borrow the next millisecond
                    now += 1
            else:
                self._seq = 0
            self._last_ms = now
            return (now << (_NODE_BITS + _SEQ_BITS)) | (self._node << _SEQ_BITS) | self._seq


def id_to_ms(snowflake: int) -> int:
    """Unix milliseconds at which ``snowflake`` was made."""
    return (snowflake >> (_NODE_BITS + _SEQ_BITS)) + EPOCH_MS


def lowest_id_at_ms(unix_ms: int) -> int:
    """The smallest id that can be generated at ``unix_ms``."""
    return max(unix_ms - EPOCH_MS, 0) << (_NODE_BITS + _SEQ_BITS)


_default = SnowflakeGenerator(0)


def configure(node_id: int) -> None:
    """Set the node id of the process-wide generator (once, at start-up)."""
    global _default
    _default = SnowflakeGenerator(node_id)


def new_id() -> int:
    return _default.next_id()


def new_str_id() -> str:
    return str(_default.next_id())
