"""Links in the product's mails that act without a session: unsubscribe from follow-ups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from raasel.actions import followup
from raasel.api.deps import ServicesDep

router = APIRouter(prefix="/api/v1/mail", tags=["mail"])

Token = Annotated[str, Query(min_length=10, max_length=120, pattern=r"^[0-9]+\.[A-Za-z0-9_-]+$")]


@router.get("/unsubscribe")
async def unsubscribe_link(token: Token, svc: ServicesDep) -> dict[str, Any]:
    """The link in every follow-up mail: no more follow-ups for that person."""
    return await followup.do_unsubscribe(svc, token)


@router.post("/unsubscribe")
async def unsubscribe_one_click(token: Token, svc: ServicesDep) -> dict[str, Any]:
    """The same, for mail clients' one-click unsubscribe (RFC 8058)."""
    return await followup.do_unsubscribe(svc, token)
