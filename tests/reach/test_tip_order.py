"""The officer's queue of the lost-alumni drive: tips about the least-reached classes first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.models import utcnow
from alumni.reach.tip_order import least_reached_first
from alumni.reach.tips import TipRow, submit_tip
from tests.factories import add_alumnus, add_campaign, add_sent_delivery

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


def tip_about(url: str, class_year: int, *, reached: int) -> int:
    """A tip about a lost alum of ``class_year``; the tipster (the tip opened a desk request)
    and ``reached`` classmates sent news last month are the class's reached."""
    tipster = add_alumnus(
        url, f"T{class_year}", class_year=class_year, email=f"t{class_year}@x.org"
    )
    lost = add_alumnus(url, f"L{class_year}", class_year=class_year, status="lost")
    news = add_campaign(url, class_year=class_year)
    for n in range(reached):
        alum = add_alumnus(url, f"R{class_year}-{n}", class_year=class_year, email=f"r{n}@x.org")
        add_sent_delivery(url, news, alum, sent_at=utcnow() - timedelta(days=30))
    with write_transaction(engine_for(url)) as connection:
        return submit_tip(
            connection,
            tipster_id=tipster,
            lost_alumnus_id=lost,
            kind="email",
            value=f"found{class_year}@example.net",
            how_known="We are neighbours.",
            now=utcnow(),
        )


def test_the_officer_lists_pending_tips_least_reached_class_first(sqlite_url: str) -> None:
    well_reached = tip_about(sqlite_url, 2015, reached=3)  # the older tip; 4 of 5 reached
    least_reached = tip_about(sqlite_url, 2016, reached=0)  # newer; 1 of 2 (the tipster)

    def listed(*options: str) -> list[int]:
        result = CliRunner().invoke(app, ["tips", "list", "--format", "json", *options])
        assert result.exit_code == 0, result.output
        return [tip["id"] for tip in json.loads(result.output)]

    assert listed() == [well_reached, least_reached]  # oldest first
    assert listed("--by-reach") == [least_reached, well_reached]
