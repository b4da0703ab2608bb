"""Business hours: real times, real ranges, explicit overnight ranges, holidays, zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from raasel.rules.business_hours import Span, effective, is_open, next_open, parse_range

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_ranges_are_real_times_and_real_ranges() -> None:
    assert parse_range("09:00-17:30") == Span(540, 1050)
    assert parse_range("00:00-24:00") == Span(0, 1440)
    assert parse_range("22:00-06:00+1") == Span(1320, 1800)
    for bad in ("25:00-26:00", "09:60-10:00", "9:00-17:00", "17:00-09:00", "10:00-10:00"):
        with pytest.raises(ValueError):
            parse_range(bad)
    with pytest.raises(ValueError, match="overnight"):
        parse_range("09:00-17:00+1")  # "+1" says it ends the next day: it does not
    with pytest.raises(ValueError):
        parse_range("24:30-01:00+1")


def test_open_inside_the_hours_in_the_schedules_zone() -> None:
    schedule = {"timezone": "Europe/Paris", **WEEKDAYS}
    monday_9_paris = datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)
    assert is_open(schedule, PARIS, monday_9_paris)
    assert not is_open(schedule, PARIS, datetime(2026, 12, 7, 7, 59, tzinfo=UTC))  # 08:59
    assert not is_open(schedule, PARIS, datetime(2026, 12, 7, 17, 0, tzinfo=PARIS))
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=PARIS)
    assert not is_open(schedule, PARIS, saturday)
    assert next_open(schedule, PARIS, saturday) == monday_9_paris.astimezone(UTC)


def test_an_overnight_range_spills_into_the_next_day() -> None:
    schedule = {"fri": ["22:00-02:00+1"]}
    assert is_open(schedule, UTC, datetime(2026, 12, 5, 1, 30, tzinfo=UTC))  # Saturday 01:30
    assert not is_open(schedule, UTC, datetime(2026, 12, 5, 2, 0, tzinfo=UTC))
    assert not is_open(schedule, UTC, datetime(2026, 12, 4, 21, 59, tzinfo=UTC))


def test_holidays_close_the_day_and_next_open_skips_them() -> None:
    schedule = {**WEEKDAYS, "holidays": ["2026-12-25"]}
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)  # a Friday
    assert not is_open(schedule, UTC, christmas)
    assert next_open(schedule, UTC, christmas) == datetime(2026, 12, 28, 9, 0, tzinfo=UTC)


def test_no_schedule_is_always_open_and_the_group_wins_over_the_org() -> None:
    assert is_open(None, UTC, datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    org = {"business_hours": WEEKDAYS, "timezone": "Europe/Paris"}
    assert effective(None, org) == (WEEKDAYS, PARIS)
    group = {"sat": ["10:00-12:00"], "timezone": "America/New_York"}
    schedule, zone = effective(group, org)
    assert schedule == group and str(zone) == "America/New_York"
    assert effective(None, {}) == (None, UTC)
