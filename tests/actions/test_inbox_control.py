"""Supervisor control (bulk actions, labels), canned responses, CSAT and reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from raasel.actions import inbox_bulk, inbox_canned, inbox_csat, inbox_reports, lifecycle
from raasel.actions.assignment import do_claim
from raasel.actions.context import Services
from raasel.errors import Conflict, Forbidden, NotFound
from tests.actions.conftest import Published
from tests.actions.inbox_team import make_team, open_conversation


async def test_bulk_actions_run_one_unit_each_and_fail_alone(
    services: Services, published: Published
) -> None:
    acme = await make_team(services)
    ids = [await open_conversation(services, acme, i, f"c{i}") for i in range(3)]
    await lifecycle.do_close(services, acme.agent, ids[2])
    await published.take()

    labelled = await inbox_bulk.do_bulk(
        services, acme.supervisor, ids[:2], action="label", add=["vip", "refund"]
    )
    assert [r["conversation"]["tags"] for r in labelled.result["results"]] == [
        ["vip", "refund"]
    ] * 2
    events = await published.take()
    assert sorted(
        e.payload["conversation"]["id"]
        for e in events
        if "priority" in e.payload.get("conversation", {})
    ) == sorted(ids[:2])

    assigned = await inbox_bulk.do_bulk(
        services, acme.supervisor, ids, action="assign", agent_id=acme.agent.user_id
    )
    outcomes = [(r["ok"], r.get("error", {}).get("code")) for r in assigned.result["results"]]
    assert outcomes == [(True, None), (True, None), (False, "not_open")]
    resolved = await inbox_bulk.do_bulk(services, acme.supervisor, ids, action="resolve")
    assert [r["ok"] for r in resolved.result["results"]] == [True, True, False]
    # Agents may not assign, in bulk or not.
    refused = await inbox_bulk.do_bulk(
        services, acme.agent, ids[:1], action="assign", agent_id=acme.agent.user_id
    )
    assert refused.result["results"][0]["error"]["code"] == "forbidden"


async def test_labels_change_on_the_labels_the_conversation_has(services: Services) -> None:
    acme = await make_team(services)
    cid = await open_conversation(services, acme, 0, "hi")
    await inbox_bulk.do_label(services, acme.agent, cid, add=["a", "b"])
    after = await inbox_bulk.do_label(services, acme.agent, cid, add=["B", "c"], remove=["a"])
    assert after.result["tags"] == ["b", "c"]
    other = await make_team(services, "Other")
    with pytest.raises(NotFound):
        await inbox_bulk.do_label(services, other.supervisor, cid, add=["x"])


async def test_csat_once_after_resolve_credited_to_the_assignee(
    services: Services, published: Published
) -> None:
    acme = await make_team(services)
    cid = await open_conversation(services, acme, 0, "hi")
    await do_claim(services, acme.agent, cid)
    customer = acme.customers[0]
    with pytest.raises(Conflict, match="resolved"):
        await inbox_csat.do_rate(services, customer, cid, rating=5, comment="")
    await lifecycle.do_resolve(services, acme.agent, cid)
    await published.take()
    rated = await inbox_csat.do_rate(services, customer, cid, rating=4, comment="quick")
    assert rated.result["assignee_id"] == acme.agent.user_id
    events = [e for e in await published.take() if e.name == "csat:new"]
    assert [e.rooms for e in events] == [
        (f"leads:{acme.org_id}", f"agent:{acme.org_id}:{acme.agent.user_id}")
    ]
    with pytest.raises(Conflict, match="already"):
        await inbox_csat.do_rate(services, customer, cid, rating=1, comment="")
    with pytest.raises(Forbidden):
        await inbox_csat.do_rate(services, acme.agent, cid, rating=5, comment="")
    with pytest.raises(NotFound):
        await inbox_csat.do_rate(services, acme.customers[1], cid, rating=5, comment="")
    assert (await inbox_csat.get_rating(services, acme.supervisor, cid))["rating"] == 4


async def test_canned_responses_personal_and_shared(services: Services) -> None:
    acme = await make_team(services)
    shared = await inbox_canned.create_canned(
        services,
        acme.supervisor,
        shortcut="hi",
        title="Hi",
        body="Hello {{customer.name}}",
        is_personal=False,
    )
    with pytest.raises(Forbidden):
        await inbox_canned.create_canned(
            services, acme.agent, shortcut="x", title="X", body="x", is_personal=False
        )
    with pytest.raises(Conflict):
        await inbox_canned.create_canned(
            services,
            acme.supervisor,
            shortcut="hi",
            title="Hi",
            body="again",
            is_personal=False,
        )
    own = await inbox_canned.create_canned(
        services, acme.agent, shortcut="hi", title="Mine", body="Hey", is_personal=True
    )
    listed = await inbox_canned.list_canned(services, acme.agent)
    assert [(c["title"], c["is_personal"]) for c in listed] == [("Mine", True), ("Hi", False)]
    with pytest.raises(NotFound):
        await inbox_canned.delete_canned(services, acme.supervisor, own["id"])
    with pytest.raises(Forbidden):
        await inbox_canned.delete_canned(services, acme.agent, shared["id"])
    await inbox_canned.delete_canned(services, acme.agent, own["id"])
    assert len(await inbox_canned.list_canned(services, acme.agent)) == 1


async def test_reports_come_from_the_reporting_events(services: Services) -> None:
    acme = await make_team(services)
    cid = await open_conversation(services, acme, 0, "hi")
    await open_conversation(services, acme, 1, "still waiting")
    await do_claim(services, acme.agent, cid)
    from raasel.actions import messages

    await messages.do_send_message(services, acme.agent, cid, client_id="r1", text="hello!")
    await messages.do_send_message(services, acme.agent, cid, client_id="r2", text="again")
    await lifecycle.do_resolve(services, acme.agent, cid)
    await inbox_csat.do_rate(services, acme.customers[0], cid, rating=5, comment="=cmd()")
    data = await inbox_reports.report(
        services, acme.supervisor, since=None, until=None, group_id=None
    )
    assert sum(d["opened"] for d in data["days"]) == 2
    assert sum(d["resolved"] for d in data["days"]) == 1
    assert data["first_response"]["count"] == 1
    assert list(data["first_response"]["by_agent"]) == [acme.agent.user_id]
    assert data["queue_wait"]["count"] == 1 and data["resolution"]["count"] == 1
    assert data["csat"]["average"] == 5 and data["csat"]["distribution"]["5"] == 1
    text = inbox_reports.to_csv(data)
    assert "first_response,agent,Acme agent,1," in text
    with pytest.raises(Forbidden):
        await inbox_reports.report(services, acme.agent, since=None, until=None, group_id=None)


def test_business_hours_count_only_open_time() -> None:
    hours = {"fri": ["09:00-17:00"], "mon": ["09:00-17:00"]}
    friday_evening = datetime(2026, 1, 2, 16, 0, tzinfo=UTC)  # a Friday
    monday_morning = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    seconds = inbox_reports.business_seconds(friday_evening, monday_morning, hours)
    assert seconds == 90 * 60
    assert (
        inbox_reports.business_seconds(friday_evening, monday_morning, None)
        == (monday_morning - friday_evening).total_seconds()
    )


async def test_a_mention_in_a_note_notifies_only_that_teammate(services: Services) -> None:
    import asyncio

    from raasel.actions import messages
    from raasel.actions.context import Event
    from raasel.actions.inbox_mentions import Mentions, mentioned

    assert mentioned("ask @Acme agent!", {"a": "Acme agent", "b": "Acme"}) == ["a", "b"]
    assert mentioned("ask @Acme agents", {"a": "Acme agent"}) == []
    acme = await make_team(services)
    cid = await open_conversation(services, acme, 0, "hi")
    await do_claim(services, acme.agent, cid)
    got: list[Event] = []
    arrived = asyncio.Event()

    async def inner(events: list[Event]) -> None:
        got.extend(events)
        if any(e.name == "mention:new" for e in events):
            arrived.set()

    services.db.publisher = Mentions(services, inner).publish  # type: ignore[assignment]
    await messages.do_send_message(
        services,
        acme.agent,
        cid,
        client_id="note",
        text="@Acme supervisor can you look? (not @Acme customer 0)",
        kind="note",
    )
    async with asyncio.timeout(5):
        await arrived.wait()
    notices = [e for e in got if e.name == "mention:new"]
    assert [e.rooms for e in notices] == [(f"agent:{acme.org_id}:{acme.supervisor.user_id}",)]
    assert notices[0].payload["by"]["name"] == "Acme agent"


async def test_a_label_may_be_required_before_resolving(services: Services) -> None:
    acme = await make_team(services)
    owner = acme.supervisor.__class__(
        acme.supervisor.user_id,
        acme.supervisor.kind,
        "Admin",
        "s-x",
        org_id=acme.org_id,
        role="admin",
    )
    with pytest.raises(Forbidden):
        await inbox_canned.put_inbox_settings(
            services, acme.supervisor, {"require_label_to_resolve": True}
        )
    await inbox_canned.put_inbox_settings(services, owner, {"require_label_to_resolve": True})
    cid = await open_conversation(services, acme, 0, "hi")
    await do_claim(services, acme.agent, cid)
    with pytest.raises(Conflict, match="label"):
        await lifecycle.do_resolve(services, acme.agent, cid)
    bulk = await inbox_bulk.do_bulk(services, acme.supervisor, [cid], action="resolve")
    assert bulk.result["results"][0]["error"]["code"] == "label_required"
    await inbox_bulk.do_label(services, acme.agent, cid, add=["billing"])
    resolved = await lifecycle.do_resolve(services, acme.agent, cid)
    assert resolved.result["status"] == "resolved"


async def test_activity_tells_who_handled_what(services: Services) -> None:
    from raasel.actions import assignment

    acme = await make_team(services)
    cid = await open_conversation(services, acme, 0, "hi")
    await do_claim(services, acme.agent, cid)
    await assignment.do_assign(services, acme.supervisor, cid, acme.supervisor.user_id)
    await lifecycle.do_close(services, acme.supervisor, cid)
    await lifecycle.do_reopen(services, acme.supervisor, cid)
    page = await inbox_reports.activity(services, acme.supervisor, before=None, limit=3)
    kinds = [(e["kind"], e["agent"]) for e in page["entries"]]
    assert kinds == [
        ("reopened", "Acme supervisor"),
        ("closed", "Acme supervisor"),
        ("transferred", "Acme supervisor"),
    ]
    rest = await inbox_reports.activity(
        services, acme.supervisor, before=int(page["next_before"]), limit=10
    )
    assert [e["kind"] for e in rest["entries"]] == ["assigned", "opened"]
    assert rest["entries"][0]["customer"] == "Acme customer 0"
    with pytest.raises(Forbidden):
        await inbox_reports.activity(services, acme.agent, before=None, limit=10)
