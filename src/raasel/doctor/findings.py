"""What a check answers (``Finding``), and what the checks share."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from raasel.config import Settings

Status = Literal["ok", "warn", "fail"]
SERVICE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def redacted(url: str) -> str:
    """``scheme://user:***@host/...``: URLs are printed, their passwords never."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_multi_node(settings: Settings) -> bool:
    """Shared Redis or a server database: the marks of a deployment of several nodes."""
    return bool(settings.redis_url) or not settings.resolved_database_url.startswith("sqlite")
