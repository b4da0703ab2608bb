"""Attachment type detection from the bytes themselves, never from the file name."""

from __future__ import annotations

import filetype

ALLOWED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
    }
)


def sniff(head: bytes) -> str | None:
    """The MIME type the content's magic bytes show, or None if unknown.

    Plain UTF-8 text has no magic number: it is accepted as text/plain only if it
    decodes and holds no NUL or other control bytes besides whitespace.
    """
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The head may cut a multi-byte character in two.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return None
    return "text/plain"
