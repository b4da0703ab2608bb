"""The widget's pre-chat form, as the organization sets it (``settings.prechat``): what a
visitor is asked before the first message. The widget shows the form; these rules are
what the server holds the visitor to (docs/protocol.md, "Organizations")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from raasel.errors import ValidationFailed

ASKS = ("off", "optional", "required")


@dataclass(frozen=True, slots=True)
class Prechat:
    name: str = "off"
    email: str = "off"
    team: str = "optional"  # the group picker; "off" hides it (the router decides)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Prechat:
        """The organization's form; anything unset or unknown keeps its default."""
        raw = settings.get("prechat")
        raw = raw if isinstance(raw, Mapping) else {}
        chosen = {k: raw[k] for k in ("name", "email", "team") if raw.get(k) in ASKS}
        return cls(**chosen)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def check_visitor(prechat: Prechat, display_name: str | None, email: str | None) -> None:
    """A new visitor brings what the form requires."""
    if prechat.name == "required" and not (display_name or "").strip():
        raise ValidationFailed("please tell us your name first")
    if prechat.email == "required" and not email:
        raise ValidationFailed("please tell us your email address first")


def check_team(prechat: Prechat, group_id: str | None) -> None:
    """A visitor's first message names a team when the form requires one."""
    if prechat.team == "required" and group_id is None:
        raise ValidationFailed("please choose a team first")
