"""The audit log's sentences and the pre-chat form's rules: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from raasel.errors import ValidationFailed
from raasel.rules.audit_sentences import Names, people_named, sentence
from raasel.rules.prechat import Prechat, check_team, check_visitor
from raasel.storage.records import AuditEntry

NAMES = Names(people={"u1": "Dana", "u2": "Bob", "c1": "Chris"}, groups={"g1": "Billing"})


def entry(action: str, details: dict[str, Any], actor: str = "u1", target: str = "x") -> AuditEntry:
    return AuditEntry("1", "o", actor, action, target, details, datetime.now(UTC))


def test_conversation_commands_read_as_sentences_with_names() -> None:
    facts = {"subject": "Refund", "customer_id": "c1", "agent_id": "u2", "group_id": "g1"}
    what = "Chris's conversation “Refund”"
    assigned = entry("conversation.assign", facts | {"from_agent_id": "gone"})
    assert sentence(assigned, NAMES) == f"Dana assigned {what} to Bob (was a former member)."
    routed = entry("conversation.transfer", facts | {"to": "group"})
    assert sentence(routed, NAMES) == (
        f"Dana transferred {what} to the queue of Billing, which gave it to Bob."
    )
    queued = {k: v for k, v in facts.items() if k != "agent_id"} | {"to": "group"}
    transferred = sentence(entry("conversation.transfer", queued), NAMES)
    assert transferred == f"Dana transferred {what} to the queue of Billing."
    resolved = entry("conversation.resolve", facts)
    assert sentence(resolved, NAMES) == f"Dana resolved {what} (assigned to Bob)."
    assert set(people_named(assigned)) == {"u1", "u2", "c1", "gone"}


def test_plan_changes_and_unknown_actions_name_who_did_them() -> None:
    paid = entry("plan.change", {"plan": "promoted", "source": "evt_1"}, actor="billing")
    assert sentence(paid, NAMES) == "A payment changed the plan to promoted."
    by_hand = entry("plan.change", {"plan": "free", "source": "cli"}, actor="operator")
    assert sentence(by_hand, NAMES) == (
        "The node's operator changed the plan to free from the command line."
    )
    odd = entry("something.new", {"is_active": False})
    assert sentence(odd, NAMES) == "Dana: something new (deactivated)."


def test_the_prechat_form_defaults_and_rules() -> None:
    assert Prechat.of({}) == Prechat("off", "off", "optional")
    form = Prechat.of({"prechat": {"name": "required", "email": "bogus", "team": "required"}})
    assert form == Prechat("required", "off", "required"), "an unknown value keeps the default"
    with pytest.raises(ValidationFailed, match="your name"):
        check_visitor(form, "  ", None)
    check_visitor(form, "Vera", None)
    with pytest.raises(ValidationFailed, match="choose a team"):
        check_team(form, None)
    check_team(form, "g1")
    with pytest.raises(ValidationFailed, match="email address"):
        check_visitor(Prechat(email="required"), None, None)
