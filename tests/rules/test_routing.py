"""Routing never targets a group without members (rules/routing.py, issue 12 item 2)."""

from __future__ import annotations

from datetime import UTC, datetime

from raasel.domain import RoutingPolicy
from raasel.rules.routing import pick_group
from raasel.storage.records import DispatchGroup


def group(group_id: str, *, is_default: bool = False) -> DispatchGroup:
    return DispatchGroup(
        id=group_id,
        org_id="1",
        slug=f"g{group_id}",
        name=f"Group {group_id}",
        description="",
        policy=RoutingPolicy.ROUND_ROBIN,
        business_hours=None,
        is_default=is_default,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        last_assigned_id=None,
        requeue_after_seconds=None,
        examples=[],
    )


GENERAL, BILLING, SALES = group("10", is_default=True), group("20"), group("30")


def test_the_first_preferred_group_with_members_wins() -> None:
    groups = [(GENERAL, True), (BILLING, True), (SALES, True)]
    assert pick_group(["30", "20"], groups) is SALES
    assert pick_group([None, None, "20"], groups) is BILLING


def test_a_preferred_group_without_members_is_skipped() -> None:
    groups = [(GENERAL, True), (BILLING, False), (SALES, True)]
    assert pick_group(["20"], groups) is GENERAL, "the chosen team is empty: the default"
    assert pick_group(["20", "30"], groups) is SALES, "the next preference before the default"


def test_an_empty_default_gives_way_to_a_group_that_has_members() -> None:
    groups = [(GENERAL, False), (BILLING, False), (SALES, True)]
    assert pick_group([None], groups) is SALES
    assert pick_group(["10"], groups) is SALES


def test_nobody_anywhere_means_no_group_unassigned() -> None:
    groups = [(GENERAL, False), (BILLING, False)]
    assert pick_group(["10", "20"], groups) is None
    assert pick_group([], []) is None


def test_unknown_ids_are_not_picked() -> None:
    assert pick_group(["99"], [(GENERAL, True)]) is GENERAL
