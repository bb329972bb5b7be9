"""Class events: the event budget, reunion proposals, wall times and which mailings are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from alumni.cli.events import event_app, reunions_app
from alumni.db import engine_for
from alumni.events.mailings import due_mailings
from alumni.events.schedule import (
    EventError,
    OverBudget,
    accept_event,
    budget_refusal,
    cancel_event,
    create_event,
    list_events,
    load_event,
    parse_local,
    plan_reunions,
    reunion_proposals,
    update_event,
)
from alumni.models import EventStatus
from tests.factories import add_alumnus

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=18, tzinfo=UTC)


def test_a_third_event_in_any_twelve_months_is_refused() -> None:
    two = [at("2027-03-01"), at("2027-09-01")]
    assert budget_refusal(at("2027-12-01"), two) == two
    assert budget_refusal(at("2026-12-01"), two) == [at("2027-03-01"), at("2027-09-01")]
    # A window of 365 days holding the new one and only one other is fine.
    assert budget_refusal(at("2028-03-02"), two) is None
    assert budget_refusal(at("2026-09-01"), [at("2027-09-01")]) is None
    assert budget_refusal(at("2027-06-01"), two, limit=3) is None


def test_reunions_are_proposed_for_milestone_classes_within_budget() -> None:
    classes = [2022, 2017, 2012, 2008, 2002, 1997, 1987, 1977, 1976, 2026]
    busy = {2017: [at("2027-02-01"), at("2027-04-01")]}
    proposals = reunion_proposals(2027, classes, busy, timezone="Europe/London")
    assert [(p.class_year, p.milestone) for p in proposals] == [
        (1977, 50),
        (1987, 40),
        (1997, 30),
        (2002, 25),
        (2012, 15),
        (2022, 5),
    ]
    (first, *_) = proposals
    local = first.starts_at.astimezone(ZoneInfo("Europe/London"))
    assert (local.weekday(), local.month, local.hour) == (5, 6, 18) and 8 <= local.day <= 14
    assert "50" in first.title and "1977" in first.title


def test_wall_times_are_read_in_the_events_zone_across_clock_changes() -> None:
    # Southern hemisphere (Sydney: DST ends in April), a 30-minute offset (Adelaide, Kolkata).
    assert parse_local("2027-04-03 18:00", "Australia/Sydney", field="--starts") == datetime(
        2027, 4, 3, 7, 0, tzinfo=UTC
    )
    assert parse_local("2027-04-04 18:00", "Australia/Sydney", field="--starts") == datetime(
        2027, 4, 4, 8, 0, tzinfo=UTC
    )
    assert parse_local("2027-06-12 18:00", "Asia/Kolkata", field="--starts") == datetime(
        2027, 6, 12, 12, 30, tzinfo=UTC
    )
    assert parse_local("2027-01-10 19:00", "Australia/Adelaide", field="--starts") == datetime(
        2027, 1, 10, 8, 30, tzinfo=UTC
    )
    with pytest.raises(EventError, match="does not exist in Europe/London"):
        parse_local("2027-03-28 01:30", "Europe/London", field="--starts")
    with pytest.raises(EventError, match="not an IANA time zone"):
        parse_local("2027-03-28 01:30", "Mars/Olympus", field="--starts")
    with pytest.raises(EventError, match="--starts 'June 12'"):
        parse_local("June 12", "UTC", field="--starts")


def test_only_the_nearest_reminder_and_the_thanks_are_due() -> None:
    starts = at("2027-06-12")
    ends = starts + timedelta(hours=3)

    def due(now: datetime, status: str = "scheduled") -> list[str]:
        return due_mailings(starts_at=starts, ends_at=ends, status=status, now=now)

    assert due(starts - timedelta(days=8)) == []
    assert due(starts - timedelta(days=6)) == ["reminder-7"]
    assert due(starts - timedelta(hours=20)) == ["reminder-1"]
    assert due(starts + timedelta(hours=1)) == []
    assert due(ends + timedelta(days=1)) == ["thanks"]
    assert due(ends + timedelta(days=30)) == []
    assert due(starts - timedelta(days=6), "cancelled") == []


def test_create_update_cancel_keep_the_budget_and_raise_the_sequence(db_url: str) -> None:
    engine = engine_for(db_url)
    first = create_event(
        engine,
        class_year=2016,
        title="Spring drinks",
        starts_at=at("2027-03-01"),
        tz="UTC",
        now=NOW,
    )
    create_event(
        engine, class_year=2016, title="Autumn walk", starts_at=at("2027-09-01"), tz="UTC", now=NOW
    )
    with pytest.raises(OverBudget, match=r"class 2016 already has 2 event\(s\).*--over-budget"):
        create_event(
            engine, class_year=2016, title="Winter", starts_at=at("2027-12-01"), tz="UTC", now=NOW
        )
    with pytest.raises(EventError, match="needs a reason"):
        create_event(
            engine,
            class_year=2016,
            title="Winter",
            starts_at=at("2027-12-01"),
            tz="UTC",
            now=NOW,
            over_budget="  ",
        )
    third = create_event(
        engine,
        class_year=2016,
        title="Winter",
        starts_at=at("2027-12-01"),
        tz="UTC",
        now=NOW,
        over_budget="the dean's farewell",
    )
    # Another class has its own budget.
    create_event(engine, class_year=2010, title="X", starts_at=at("2027-12-01"), tz="UTC", now=NOW)

    assert update_event(engine, first, now=NOW, capacity=40) is False
    assert update_event(engine, first, now=NOW, place="The Old Library") is True
    with pytest.raises(OverBudget):
        update_event(engine, first, now=NOW, starts_at=at("2027-10-01"))
    assert cancel_event(engine, first, now=NOW) is True
    assert cancel_event(engine, first, now=NOW) is False
    with pytest.raises(EventError, match="cancelled"):
        update_event(engine, first, now=NOW, title="Again")
    with engine.connect() as connection:
        row = load_event(connection, first)
        assert (row.sequence, row.status, row.capacity) == (2, "cancelled", 40)
        assert load_event(connection, third).over_budget_reason == "the dean's farewell"
        assert [e.title for e in list_events(connection, class_year=2016)] == [
            "Spring drinks",
            "Autumn walk",
            "Winter",
        ]
    with pytest.raises(LookupError, match="no event with id 999"):
        cancel_event(engine, 999, now=NOW)


def test_reunion_planning_stores_proposals_once_and_accepting_checks_the_budget(
    sqlite_url: str,
) -> None:
    engine = engine_for(sqlite_url)
    for n, year in enumerate((2017, 2002, 2016)):
        add_alumnus(sqlite_url, f"A{n}", class_year=year)
    made = plan_reunions(engine, 2027, now=NOW, timezone="Europe/London")
    assert [(p.class_year, p.milestone) for _, p in made] == [(2002, 25), (2017, 10)]
    assert plan_reunions(engine, 2027, now=NOW, timezone="Europe/London") == []
    (event_2002, _), (event_2017, _) = made
    with engine.connect() as connection:
        assert load_event(connection, event_2017).status == EventStatus.proposed
    for day in ("2027-01-10", "2027-03-10"):
        create_event(engine, class_year=2017, title=day, starts_at=at(day), tz="UTC", now=NOW)
    with pytest.raises(OverBudget):
        accept_event(engine, event_2017, now=NOW)
    accept_event(engine, event_2002, now=NOW)
    with engine.connect() as connection:
        assert load_event(connection, event_2002).status == EventStatus.scheduled
    with pytest.raises(EventError, match="not proposed"):
        accept_event(engine, event_2002, now=NOW)


def test_the_event_commands_as_an_officer_types_them(sqlite_url: str) -> None:
    runner = CliRunner()
    # Registered as cli.py does (its own test covers `alumni` itself).
    alumni = typer.Typer()
    alumni.add_typer(event_app, name="event")
    alumni.add_typer(reunions_app, name="reunions")

    def invoke(group: str, *args: str, code: int = 0) -> str:
        result = runner.invoke(alumni, [group, *args])
        assert result.exit_code == code, result.output
        return result.output

    common = ["create", "--class-year", "2016", "--tz", "Pacific/Auckland"]
    first = invoke("event", *common, "--title", "Picnic", "--starts", "2027-01-16 12:00")
    event_id = int(first.strip().splitlines()[-1])
    invoke("event", *common, "--title", "Gala", "--starts", "2027-04-03 19:00")
    refused = invoke("event", *common, "--title", "Third", "--starts", "2027-08-01 19:00", code=1)
    assert "class 2016 already has 2 event(s)" in " ".join(refused.split())
    third = invoke(
        "event",
        *common,
        *("--title", "Third", "--starts", "2027-08-01 19:00"),
        *("--over-budget", "the founders' day"),
    )
    assert third.strip().splitlines()[-1].isdigit()
    listed = invoke("event", "list", "--class-year", "2016")
    # Shown in the event's own zone: New Zealand summer time, then winter time.
    assert "2027-01-16 12:00 Pacific/Auckland  Picnic" in listed
    assert "2027-08-01 19:00 Pacific/Auckland  Third" in listed
    invoke("event", "update", str(event_id), "--capacity", "30")
    report = invoke("event", "report", str(event_id), "--json")
    assert '"invited": 0' in report
    assert "no event with id 999" in invoke("event", "report", "999", code=1)
    add_alumnus(sqlite_url, "OLD", class_year=2002)
    planned = invoke("reunions", "plan", "--year", "2027", "--tz", "Europe/London")
    assert "Class of 2002: 25-year reunion" in planned and "1 proposal(s)" in planned
