"""The platforms a channel may be, and what each calls its things."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"


# The webhook ``object`` each platform's payloads carry.
WEBHOOK_OBJECT = {
    Platform.WHATSAPP: "whatsapp_business_account",
    Platform.MESSENGER: "page",
    Platform.INSTAGRAM: "instagram",
}

LABEL = {
    Platform.WHATSAPP: "WhatsApp",
    Platform.MESSENGER: "Messenger",
    Platform.INSTAGRAM: "Instagram",
}
