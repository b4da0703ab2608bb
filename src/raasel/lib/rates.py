"""Parsing of "COUNT/SECONDS" rate-limit settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, window = text.partition("/")
        return cls(int(count), int(window or 1))
