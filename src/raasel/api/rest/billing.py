"""Plans: the billing webhook (public, signed) and who sees which plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from raasel.actions import billing
from raasel.api.deps import ActorDep, ServicesDep
from raasel.api.schemas import Id

router = APIRouter(prefix="/api/v1", tags=["billing"])


@router.post("/billing/webhook")
async def webhook(
    request: Request,
    svc: ServicesDep,
    stripe_signature: Annotated[str | None, Header(max_length=2000)] = None,
) -> dict[str, Any]:
    """Payment provider events (Stripe scheme). Signature checked on the raw body; each
    event id is processed once; subscription events change plans."""
    payload = await request.body()
    return await billing.do_process_billing_event(svc, payload, stripe_signature)


@router.get("/orgs/{org_id}/plan")
async def org_plan(org_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """The organization's plan (free / promoted) and billing history: owners and admins."""
    return await billing.org_plan(svc, actor, org_id)


@router.get("/me/plan")
async def my_plan(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """The caller's plan (free / plus) and entitlements."""
    return await billing.my_plan(svc, actor)
