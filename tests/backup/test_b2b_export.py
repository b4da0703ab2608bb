"""An organization's export and its b2b conversations (issue 11): the other
organization is named by id, and an id alone could name another tenant on the
deployment the export goes to. The import keeps the link only to the same organization
(its id and the slug the export recorded) and its group and assignee only where they
are still that organization's; elsewhere the conversation is detached (its history
readable, no text written into it), so no imported conversation points at a wrong
tenant. On SQLite and PostgreSQL (whose tenant keys refused such a row before)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from raasel.actions import b2b, messages
from raasel.actions.context import Services
from raasel.backup.org_export import export_org
from raasel.backup.org_import import import_org
from raasel.errors import Conflict
from raasel.storage import schema
from raasel.storage.tenancy import CrossTenant
from tests.backup.conftest import History, seed_history, stack, texts_seen

INSPECT = CrossTenant("a test looks at the stored rows")


async def peer_columns(svc: Services, cid: str) -> tuple[str | None, ...]:
    c = schema.conversations.c
    async with svc.db.read(INSPECT) as conn:
        row = (
            await conn.execute(
                select(c.peer_org_id, c.peer_group_id, c.peer_assignee_id, c.peer_status).where(
                    c.id == cid
                )
            )
        ).one()
    return tuple(row)


async def open_with(svc: Services, opener: History, peer: History) -> str:
    async def listed(conn: object) -> None:
        await conn.execute(  # type: ignore[attr-defined]
            update(schema.organizations)
            .where(schema.organizations.c.id == peer.org_id)
            .values(is_listed=True)
        )

    await svc.db.write(listed)
    opened = await b2b.do_open_b2b(
        svc,
        opener.agent,
        peer_org_id=peer.org_id,
        peer_group_id=None,
        subject="Invoices",
        text="A question about invoices",
        client_id="b2b-1",
    )
    cid: str = opened.result["conversation"]["id"]
    # The peer's agent answers: the peer's side is its (assignee, active).
    await messages.do_send_message(svc, peer.agent, cid, client_id="answer", text="Ask away")
    await svc.db.drain_published()
    return cid


@pytest.mark.parametrize("wiring", ["sqlite", "postgresql"])
async def test_b2b_conversations_keep_their_peer_only_when_it_is_the_same_organization(
    request: pytest.FixtureRequest, wiring: str, tmp_path: Path
) -> None:
    a_file, b_file = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    async with stack(request, wiring, tmp_path / "source") as svc:
        a = await seed_history(svc, sends=1)
        b = await seed_history(svc, sends=1)
        cid = await open_with(svc, a, b)
        linked = await peer_columns(svc, cid)
        assert linked[0] == b.org_id and linked[2] == b.agent.user_id and linked[3] == "active"
        await export_org(svc, a.slug, a_file)
        await export_org(svc, b.slug, b_file)
    header = json.loads(a_file.read_text().splitlines()[0])
    assert header["peers"] == {b.org_id: b.slug}

    # Elsewhere, without B: detached; A's history stays readable, no text goes in.
    async with stack(request, wiring, tmp_path / "alone") as target:
        await import_org(target, a_file)
        assert await peer_columns(target, cid) == (None, None, None, "detached")
        view = await b2b.get_b2b(target, a.agent, cid)
        assert view["b2b"]["other_org"] is None and view["b2b"]["peer_status"] == "detached"
        seen = await texts_seen(target, a.agent, cid)
        assert seen == ["A question about invoices", "Ask away"]
        with pytest.raises(Conflict) as refused:
            await messages.do_send_message(target, a.agent, cid, client_id="x", text="hello?")
        assert refused.value.code == "b2b_detached"

    # Where B was imported first (the same organization: id and slug): the link holds,
    # and B's agent sees the conversation from its side.
    async with stack(request, wiring, tmp_path / "both") as target:
        await import_org(target, b_file)
        await import_org(target, a_file)
        assert await peer_columns(target, cid) == linked
        peer_view = await b2b.get_b2b(target, b.agent, cid)
        assert peer_view["b2b"]["side"] == "peer" and peer_view["assignee"]["id"] == b.agent.user_id

    # A file whose recorded slug is not the organization's of that id here: detached.
    forged = tmp_path / "forged.jsonl"
    lines = a_file.read_text().splitlines()
    lines[0] = json.dumps(header | {"peers": {b.org_id: "someone-else"}})
    forged.write_text("\n".join(lines) + "\n")
    async with stack(request, wiring, tmp_path / "forged") as target:
        await import_org(target, b_file)
        await import_org(target, forged)
        assert await peer_columns(target, cid) == (None, None, None, "detached")
        with pytest.raises(Exception, match="not found"):
            await b2b.get_b2b(target, b.agent, cid)
