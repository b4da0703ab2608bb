"""What a Graph API error means for a send: retry later, stop for the token, or give up.

Codes from Meta's error reference: 130429 (throughput reached), 131056 (too many
messages to one user), 4/17/32/613/80006/80007 (app or page rate limits), 190 and HTTP
401 (access token expired or revoked). Anything else 4xx is the message's own problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80006, 80007, 130429, 131056})
TOKEN_CODES = frozenset({190, 102, 463, 467})


@dataclass(frozen=True, slots=True)
class GraphFailure:
    """A send the provider refused (``status`` 0: no answer at all)."""

    status: int
    code: int | None
    message: str

    @property
    def kind(self) -> str:
        """``retry`` (rate limit, outage, network), ``token`` (fix the channel's token),
        or ``permanent`` (this message will never go)."""
        if self.status == 401 or self.code in TOKEN_CODES:
            return "token"
        if self.status in (0, 429) or self.status >= 500 or self.code in RATE_LIMIT_CODES:
            return "retry"
        return "permanent"

    def describe(self) -> str:
        code = f" ({self.code})" if self.code is not None else ""
        return f"{self.message}{code}"[:300]


def retry_delay(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... at most 5 minutes apart."""
    return timedelta(seconds=min(300, 2 ** max(attempts - 1, 0)))
