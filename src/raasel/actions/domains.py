"""Verified domains (SPEC 1, "verified domains"; docs/security.md, item 5 of issue 9).

An organization's ``domains`` are claims; a claim becomes a verified domain once the
organization shows it controls it: a DNS TXT record or an HTTPS ``.well-known`` file
with the claim's token (proofs/domains.py). Only verified domains are shown in views and
searched in the directory, and they give the organization its badge (``is_verified``).
"""

from __future__ import annotations

import secrets
from typing import Any

from raasel.actions import audit
from raasel.actions.access import require_role
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.domain import Role
from raasel.errors import NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.proofs.domains import TXT_PREFIX, WELL_KNOWN, DomainProver, NetworkProver, txt_name
from raasel.storage.metadata import domains as claims
from raasel.storage.metadata import organizations
from raasel.storage.records import DomainClaim
from raasel.storage.transaction import Tx


def claim_view(claim: DomainClaim, is_verified: bool) -> dict[str, Any]:
    return {
        "domain": claim.domain,
        "is_verified": is_verified,
        "checked_at": claim.checked_at.isoformat() if claim.checked_at else None,
        "how": {
            "dns": {
                "name": txt_name(claim.domain),
                "type": "TXT",
                "value": TXT_PREFIX + claim.token,
            },
            "https": {"url": f"https://{claim.domain}{WELL_KNOWN}", "content": claim.token},
        },
    }


async def _claims(conn: Tx, org_id: str) -> tuple[list[str], list[str], dict[str, DomainClaim]]:
    """The organization's claimed and verified domains, each claim with its token (made
    on first sight)."""
    org = await organizations.get_org(conn, org_id)
    if org is None:
        raise NotFound("organization not found")
    known = await claims.claims_of(conn, org_id)
    for domain in org.domains:
        if domain not in known:
            claim = DomainClaim(org_id, domain, secrets.token_urlsafe(24), None, None, utcnow())
            await claims.insert_claim(
                conn,
                {
                    "org_id": org_id,
                    "domain": domain,
                    "token": claim.token,
                    "created_at": claim.created_at,
                },
            )
            known[domain] = claim
    return org.domains, org.verified_domains, known


async def list_domains(svc: Services, actor: Actor, org_id: str) -> list[dict[str, Any]]:
    """Each claimed domain, whether it is verified, and how to prove it (admins)."""
    require_role(actor, org_id, Role.ADMIN)

    async def work(conn: Tx) -> list[dict[str, Any]]:
        domains, verified, known = await _claims(conn, org_id)
        return [claim_view(known[d], d in verified) for d in domains]

    return await svc.db.write(work)


async def do_verify_domain(
    svc: Services,
    actor: Actor,
    org_id: str,
    domain: str,
    prover: DomainProver | None = None,
) -> dict[str, Any]:
    """Check the proof now; a proved domain joins the organization's verified domains."""
    require_role(actor, org_id, Role.ADMIN)
    await check_rate(svc, "domain_check", f"org:{org_id}", what="domain checks; retry later")

    async def load(conn: Tx) -> DomainClaim:
        domains, _, known = await _claims(conn, org_id)
        if domain not in domains:
            raise ValidationFailed("claim the domain first (PATCH the organization's domains)")
        return known[domain]

    claim = await svc.db.write(load)
    how = await (prover or NetworkProver(svc.settings)).proves(domain, claim.token)

    async def record(conn: Tx) -> dict[str, Any]:
        now = utcnow()
        await claims.mark_checked(conn, org_id, domain, now, verified=how is not None)
        org = await organizations.get_org(conn, org_id)
        assert org is not None
        if how is not None and domain not in org.verified_domains:
            verified = [*org.verified_domains, domain]
            await organizations.update_org(conn, org_id, {"verified_domains": verified})
            await audit.record(conn, org_id, actor.user_id, "domain.verify", domain, {"by": how})
        fresh = (await claims.claims_of(conn, org_id))[domain]
        org = await organizations.get_org(conn, org_id)
        assert org is not None
        return claim_view(fresh, domain in org.verified_domains) | {"proved_by": how}

    return await svc.db.write(record)
