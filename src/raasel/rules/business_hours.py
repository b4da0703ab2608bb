"""Business hours: is a team open now, and when does it open next (pure, no I/O).

A schedule (an organization's ``settings.business_hours``, or a group's own, which wins):

    {"timezone": "Europe/Paris",                       # IANA name; default: the org's
     "mon": ["09:00-12:30", "13:30-18:00"], ...,        # up to 4 ranges a day
     "fri": ["22:00-02:00+1"],                          # overnight: says so with "+1"
     "holidays": ["2026-12-25"]}                        # closed all day (local dates)

Times are real (00:00-23:59, "24:00" as an end), a range ends after it starts, except an
overnight range, which must be written with "+1" (it ends the next day). A day not
listed is closed; no schedule at all means always open. docs/protocol.md, "Business hours".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RANGE = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})(\+1)?$")
HORIZON_DAYS = 400  # next_open looks this far (a year of holidays and then some)


@dataclass(frozen=True, slots=True)
class Span:
    """Minutes after the local midnight of its day; ``end`` may pass 1440 (overnight)."""

    start: int
    end: int


def parse_range(text: str) -> Span:
    """``"09:00-17:00"`` or an explicit overnight ``"22:00-06:00+1"``; ValueError else."""
    found = RANGE.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM (or HH:MM-HH:MM+1 overnight)")
    h1, m1, h2, m2 = (int(found.group(i)) for i in range(1, 5))
    overnight = found.group(5) is not None
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{text!r}: not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if overnight:
        if end >= start or end == 0:
            raise ValueError(f"{text!r}: an overnight range ends the next day, before it began")
        return Span(start, end + 1440)
    if end <= start:
        raise ValueError(f"{text!r}: ends before it starts (overnight? write {text}+1)")
    return Span(start, end)


def zone_of(name: object) -> tzinfo:
    if not isinstance(name, str) or not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (an IANA name: Europe/Paris)") from None
    return name


def spans_on(schedule: dict[str, Any], day: date) -> list[Span]:
    """Valid ranges of ``day``'s weekday (bad stored ones are skipped, never raised)."""
    out = []
    for text in schedule.get(DAYS[day.weekday()], []) or []:
        try:
            out.append(parse_range(text))
        except (ValueError, TypeError):
            continue
    return out


def _holidays(schedule: dict[str, Any]) -> set[str]:
    return {h for h in schedule.get("holidays", []) or [] if isinstance(h, str)}


def intervals(
    schedule: dict[str, Any], zone: tzinfo, first: date, last: date
) -> list[tuple[datetime, datetime]]:
    """Open intervals (aware, in ``zone``) of the days ``first - 1`` .. ``last``: the day
    before counts for its overnight ranges. Holidays close their own day's ranges."""
    holidays = _holidays(schedule)
    out = []
    day = first - timedelta(days=1)
    while day <= last:
        if day.isoformat() not in holidays:
            midnight = datetime.combine(day, time(0), zone)
            for span in spans_on(schedule, day):
                out.append((_at(midnight, span.start), _at(midnight, span.end)))
        day += timedelta(days=1)
    return sorted(out)


def _at(midnight: datetime, minutes: int) -> datetime:
    """Local wall time ``minutes`` after ``midnight`` (a DST day keeps its wall clock)."""
    day = midnight.date() + timedelta(days=minutes // 1440)
    minutes %= 1440
    return datetime.combine(day, time(minutes // 60, minutes % 60), midnight.tzinfo)


def has_hours(schedule: object) -> bool:
    return isinstance(schedule, dict) and any(schedule.get(d) for d in DAYS)


def is_open(schedule: dict[str, Any] | None, zone: tzinfo, at: datetime) -> bool:
    if schedule is None or not has_hours(schedule):
        return True
    local = at.astimezone(zone)
    return any(a <= local < b for a, b in intervals(schedule, zone, local.date(), local.date()))


def next_open(schedule: dict[str, Any] | None, zone: tzinfo, at: datetime) -> datetime | None:
    """When the team opens next (``at`` itself if open now); None: never within a year."""
    if is_open(schedule, zone, at):
        return at
    assert schedule is not None
    local = at.astimezone(zone)
    day = local.date()
    for offset in range(0, HORIZON_DAYS, 7):
        start = day + timedelta(days=offset)
        for a, _ in intervals(schedule, zone, start, start + timedelta(days=6)):
            if a > local:
                return a.astimezone(UTC)
    return None


def effective(
    group_hours: dict[str, Any] | None, org_settings: dict[str, Any]
) -> tuple[dict[str, Any] | None, tzinfo]:
    """The schedule that applies to a group (its own, else its organization's) and its zone
    (the schedule's ``timezone``, else the organization's ``settings.timezone``, else UTC)."""
    org_hours = org_settings.get("business_hours")
    schedule = group_hours if has_hours(group_hours) else None
    if schedule is None and has_hours(org_hours):
        schedule = org_hours
    name = (schedule or {}).get("timezone") or org_settings.get("timezone")
    return schedule, zone_of(name)
