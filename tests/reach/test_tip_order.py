"""The officer's queue of the lost-alumni drive: tips about the least-reached classes first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alumni.reach.tip_order import least_reached_first
from alumni.reach.tips import TipRow

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def tip(tip_id: int, class_year: int, *, days_old: int) -> TipRow:
    return TipRow(
        id=tip_id,
        status="pending",
        lost_alumnus_id=100 + tip_id,
        lost_name="Bea Costa",
        class_year=class_year,
        tipster_id=200 + tip_id,
        tipster_name="Tomás Lima",
        kind="email",
        value="bea@example.net",
        how_known="choir",
        created_at=NOW - timedelta(days=days_old),
        request_id=None,
        decided_by=None,
        decision_reason=None,
        consent_answer=None,
    )


def test_the_least_reached_class_comes_first_then_the_oldest_tip_then_the_id() -> None:
    tips = [
        tip(1, 2010, days_old=40),  # the oldest, but of a well-reached class
        tip(2, 1989, days_old=1),
        tip(3, 2001, days_old=5),
        tip(4, 1989, days_old=9),
        tip(5, 2001, days_old=5),
    ]
    shares = {2010: 0.9, 1989: 0.53, 2001: 0.7}

    assert [t.id for t in least_reached_first(tips, shares)] == [4, 2, 3, 5, 1]


def test_a_class_nobody_reached_counts_as_zero_and_goes_first() -> None:
    tips = [tip(1, 2010, days_old=3), tip(2, 1975, days_old=1)]

    assert [t.id for t in least_reached_first(tips, {2010: 0.1})] == [2, 1]
