"""The audit log as people read it: one sentence per entry, with names instead of ids.

Pure: the names come in (``Names``, looked up once per page by actions/audit.py), the
sentences go out. Fields people type (subjects) are quoted as text, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from raasel.storage.records import AuditEntry

# Who did it, when it was not a member (billing.py, the CLI).
SYSTEM_ACTORS = {"billing": "A payment", "operator": "The node's operator"}

# Details that name people (looked up with the entry's actor and, for members, target).
_PERSON_FIELDS = ("agent_id", "from_agent_id", "customer_id")


@dataclass(frozen=True, slots=True)
class Names:
    people: Mapping[str, str]
    groups: Mapping[str, str]

    def person(self, user_id: Any) -> str:
        if not user_id:
            return "nobody"
        text = str(user_id)
        return self.people.get(text) or SYSTEM_ACTORS.get(text) or "a former member"

    def group(self, group_id: Any) -> str:
        return self.groups.get(str(group_id), "a removed group") if group_id else "no group"


def people_named(entry: AuditEntry) -> Iterable[str]:
    """The user ids an entry's sentence names."""
    yield entry.actor_id
    if entry.action.startswith("member."):
        yield entry.target
    for field in _PERSON_FIELDS:
        value = entry.details.get(field)
        if isinstance(value, str):
            yield value


def _listed(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_listed(v)}" for k, v in value.items())
    return str(value)


def _changes(details: Mapping[str, Any], names: Names) -> str:
    parts = []
    for key, value in details.items():
        if key == "group_ids" and isinstance(value, list):
            parts.append(f"groups: {', '.join(names.group(g) for g in value) or 'none'}")
        elif key == "is_active":
            parts.append("reactivated" if value else "deactivated")
        else:
            parts.append(f"{key.replace('_', ' ')}: {_listed(value)}")
    return "; ".join(parts)


def _conversation(entry: AuditEntry, who: str, names: Names) -> str:
    d = entry.details
    subject = d.get("subject")
    customer = names.person(d["customer_id"]) if d.get("customer_id") else "a customer"
    what = f"{customer}'s conversation" + (f" “{subject}”" if subject else "")
    agent = names.person(d.get("agent_id"))
    verb = entry.action.removeprefix("conversation.")
    if verb == "claim":
        return f"{who} took {what} from the queue of {names.group(d.get('group_id'))}."
    if verb == "assign":
        was = f" (was {names.person(d['from_agent_id'])})" if d.get("from_agent_id") else ""
        return f"{who} assigned {what} to {agent}{was}."
    if verb == "transfer":
        if d.get("to") != "group":
            return f"{who} transferred {what} to {agent}."
        queue = f"the queue of {names.group(d.get('group_id'))}"
        routed = f", which gave it to {agent}" if d.get("agent_id") else ""
        return f"{who} transferred {what} to {queue}{routed}."
    if verb == "escalate":
        return f"{who} escalated {what} to the leads."
    if verb in ("resolve", "close", "reopen"):
        done = {"resolve": "resolved", "close": "closed", "reopen": "reopened"}[verb]
        held = f" (assigned to {agent})" if d.get("agent_id") and verb != "reopen" else ""
        return f"{who} {done} {what}{held}."
    return f"{who}: {verb.replace('_', ' ')} {what}."


def sentence(entry: AuditEntry, names: Names) -> str:
    """One entry as a sentence: who did what to whom."""
    who = names.person(entry.actor_id)
    d = entry.details
    match entry.action:
        case "org.create":
            return f"{who} created the organization ({_listed(d.get('slug'))})."
        case "org.update":
            return f"{who} changed the organization's {_changes(d, names) or 'profile'}."
        case "group.create":
            return f"{who} created the group {names.group(entry.target)}."
        case "group.update":
            return f"{who} changed the group {names.group(entry.target)}: {_changes(d, names)}."
        case "member.invite":
            return f"{who} invited a new member ({_listed(d.get('role'))})."
        case "member.join":
            role = f" ({_listed(d['role'])})" if d.get("role") else ""
            return f"{names.person(entry.target)} became a member{role}."
        case "member.update":
            return f"{who} changed the member {names.person(entry.target)}: {_changes(d, names)}."
        case "invitation.revoke":
            return f"{who} revoked an invitation."
        case "domain.verify":
            how = f" (by {_listed(d['by'])})" if d.get("by") else ""
            return f"{who} verified the domain {entry.target}{how}."
        case "plan.change":
            source = d.get("source")
            via = " from the command line" if source == "cli" else ""
            return f"{who} changed the plan to {_listed(d.get('plan'))}{via}."
        case "platform.open":
            return f"{who} opened a platform support conversation ({_listed(d.get('category'))})."
        case "platform.join":
            return f"{who} (platform support) joined the conversation."
    if entry.action.startswith("conversation."):
        return _conversation(entry, who, names)
    extra = f" ({_changes(d, names)})" if d else ""
    return f"{who}: {entry.action.replace('.', ' ').replace('_', ' ')}{extra}."
