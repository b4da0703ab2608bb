"""The attachments check: the directory (or the nearest existing parent) is writable."""

from __future__ import annotations

import os
from pathlib import Path

from raasel.config import Settings
from raasel.doctor.findings import Finding


def check_attachments(settings: Settings) -> Finding:
    directory = settings.resolved_attachments_dir
    existing = next((p for p in (directory, *directory.parents) if p.exists()), Path("/"))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return Finding("attachments", "fail", f"{directory}: {existing} is not writable")
    state = "exists" if existing == directory else f"made under {existing} at the first upload"
    return Finding("attachments", "ok", f"{directory} ({state}, writable)")
