from __future__ import annotations

import pytest

from raasel.lib.content_types import sniff
from raasel.lib.cursors import InvalidCursor, decode_cursor, encode_cursor

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 32


def test_cursor_round_trip_and_rejects_garbage() -> None:
    assert decode_cursor(encode_cursor(250060860322484224)) == 250060860322484224
    for bad in ["", "!!!", "bTo", "bTpub3Rh", "eDox", "bTotMQ"]:
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)


def test_types_come_from_the_content_not_the_name() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff("plain text, accentué".encode()) == "text/plain"
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00") != "text/plain"  # a Windows executable
    assert sniff(b"\x00\x01\x02binary") is None
