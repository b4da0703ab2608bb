from __future__ import annotations

import pytest

from raasel.lib.content_types import sniff
from raasel.lib.cursors import InvalidCursor, decode_cursor, encode_cursor

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 32


KEY = "a-test-secret-key-of-sufficient-length"


def test_cursor_round_trip_and_rejects_garbage() -> None:
    cursor = encode_cursor(KEY, "42", 250060860322484224)
    assert decode_cursor(KEY, "42", cursor) == 250060860322484224
    body, signature = cursor.split(".")
    for bad in ["", "!!!", "bTo", "bTpub3Rh", "eDox", "bTotMQ", "bTrCsg", body, f"{body}."]:
        with pytest.raises(InvalidCursor):
            decode_cursor(KEY, "42", bad)
    with pytest.raises(InvalidCursor):  # another conversation's cursor
        decode_cursor(KEY, "43", cursor)
    with pytest.raises(InvalidCursor):  # another node's secret
        decode_cursor("another-secret-key-of-sufficient-length", "42", cursor)
    with pytest.raises(InvalidCursor):  # truncated
        decode_cursor(KEY, "42", cursor[:-3])
    with pytest.raises(InvalidCursor):  # edited position
        decode_cursor(KEY, "42", f"{encode_cursor(KEY, '42', 7).split('.')[0]}.{signature}")


def test_types_come_from_the_content_not_the_name() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff("plain text, accentué".encode()) == "text/plain"
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00") != "text/plain"  # a Windows executable
    assert sniff(b"\x00\x01\x02binary") is None
