"""Small real files the tests upload: a valid one-pixel PNG (its type is sniffed from the
bytes, so it must be a real image)."""

from __future__ import annotations

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000000000500010d0a2db40000"
    "000049454e44ae426082"
)
