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


# What social channels bring in besides (voice notes, videos): checked on the bytes too.
CHANNEL_MEDIA_TYPES = ALLOWED_TYPES | frozenset(
    {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "video/mp4", "video/3gpp"}
)


# The allowed types as people name them (in errors: "the list of allowed types").
ALLOWED_FOR_PEOPLE = "images (PNG, JPEG, GIF, WebP), PDF and plain text"


def megabytes(size: int) -> str:
    """A size limit for people: 10485760 -> "10 MB" (binary megabytes, as the limit)."""
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"


def too_large_message(limit: int) -> str:
    return f"this file is larger than {megabytes(limit)}, the most a file may be"


def refused_type_message() -> str:
    return f"this type of file cannot be sent; allowed: {ALLOWED_FOR_PEOPLE}"


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
