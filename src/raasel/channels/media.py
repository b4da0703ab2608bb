"""Files agents send to a platform: which kind each platform calls a file, and its limits
(pure). Limits from Meta's references: WhatsApp Cloud API "Supported media types";
Messenger "Attachment Upload API"; Instagram "Upload Media for Instagram Messaging"."""

from __future__ import annotations

from dataclasses import dataclass

from raasel.channels.platforms import LABEL, Platform
from raasel.lib.content_types import megabytes

MB = 1024 * 1024

_PNG_JPEG = frozenset({"image/png", "image/jpeg"})
_WA_AUDIO = frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})
_WA_VIDEO = frozenset({"video/mp4", "video/3gpp"})
_IG_AUDIO = frozenset({"audio/aac", "audio/mp4", "audio/wav", "audio/x-wav"})
_IG_VIDEO = frozenset({"video/mp4", "video/ogg", "video/quicktime", "video/webm", "video/avi"})

# (kind as the platform names it, the types it takes, at most bytes), first match wins.
_RULES: dict[Platform, tuple[tuple[str, frozenset[str] | None, int], ...]] = {
    Platform.WHATSAPP: (
        ("image", _PNG_JPEG, 5 * MB),
        ("audio", _WA_AUDIO, 16 * MB),
        ("video", _WA_VIDEO, 16 * MB),
        ("document", None, 100 * MB),  # anything else goes as a document
    ),
    Platform.MESSENGER: (
        ("image", _PNG_JPEG | {"image/gif"}, 25 * MB),
        ("audio", frozenset(t for t in _WA_AUDIO | _IG_AUDIO), 25 * MB),
        ("video", _WA_VIDEO | _IG_VIDEO, 25 * MB),
        ("file", None, 25 * MB),
    ),
    Platform.INSTAGRAM: (
        ("image", _PNG_JPEG | {"image/gif"}, 8 * MB),
        ("audio", _IG_AUDIO, 25 * MB),
        ("video", _IG_VIDEO, 25 * MB),
        ("file", frozenset({"application/pdf"}), 25 * MB),
    ),
}

# WhatsApp carries a caption with these; the rest get the text as a message of its own.
_CAPTIONED = {Platform.WHATSAPP: frozenset({"image", "video", "document"})}


@dataclass(frozen=True, slots=True)
class MediaPlan:
    kind: str  # image | audio | video | document (WhatsApp) | file (Messenger, Instagram)
    caption_inline: bool  # the text rides with the file (else: a second message)


class MediaRefused(Exception):
    """A file this platform does not take: the message says which, for the agent."""


def media_plan(platform: str, content_type: str, size: int, *, has_text: bool) -> MediaPlan:
    """How a file goes to ``platform``, or ``MediaRefused`` saying why it cannot."""
    which = Platform(platform)
    label = LABEL[which]
    for kind, types, limit in _RULES[which]:
        if types is not None and content_type not in types:
            continue
        if size > limit:
            raise MediaRefused(
                f"{label} takes {_people(kind)} of at most {megabytes(limit)}; "
                f"this file is {megabytes(size)}"
            )
        inline = has_text and kind in _CAPTIONED.get(which, frozenset())
        return MediaPlan(kind, inline)
    raise MediaRefused(
        f"{label} does not take {content_type} files: it takes images (PNG, JPEG, GIF), "
        "audio, video and PDF documents"
    )


def _people(kind: str) -> str:
    return {"image": "images", "document": "documents", "file": "files"}.get(kind, kind)
