"""Coverage per class year and country, figure by figure, on SQLite and PostgreSQL; the
`alumni reach report` command in its three formats."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.models import (
    Alumnus,
    Campaign,
    ContactPoint,
    Delivery,
    Event,
    Response,
    Rsvp,
    table_of,
    utcnow,
)
from alumni.reach.coverage import CoverageRow, coverage_rows, reached_since, to_markdown

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_serial = itertools.count(1)


def days_ago(days: int, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def alum(
    connection: Connection,
    *,
    class_year: int,
    country: str | None,
    status: str = "active",
    contact: str | None = None,
    contact_status: str = "ok",
    two_way_at: datetime | None = None,
) -> int:
    alumnus_id: int = connection.execute(
        sa.insert(table_of(Alumnus))
        .values(
            external_id=f"X{next(_serial)}",
            first_name="Ana",
            last_name="Lima",
            class_year=class_year,
            country=country,
            status=status,
            created_at=NOW,
            updated_at=NOW,
            last_two_way_at=two_way_at,
            last_two_way_channel="web" if two_way_at else None,
        )
        .returning(table_of(Alumnus).c.id)
    ).scalar_one()
    if contact:
        value = f"a{alumnus_id}@example.org" if contact == "email" else f"@a{alumnus_id}@x.social"
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id,
                kind=contact,
                value=value,
                source="test",
                status=contact_status,
                created_at=NOW,
            )
        )
    return alumnus_id


def campaign(connection: Connection, class_year: int) -> int:
    campaign_id: int = connection.execute(
        sa.insert(table_of(Campaign))
        .values(
            name="c",
            class_year=class_year,
            template="newsletter",
            purpose="news",
            channel="email",
            status="done",
            created_at=NOW,
        )
        .returning(table_of(Campaign).c.id)
    ).scalar_one()
    return campaign_id


def sent(connection: Connection, campaign_id: int, alumnus_id: int, at: datetime) -> int:
    delivery_id: int = connection.execute(
        sa.insert(table_of(Delivery))
        .values(
            campaign_id=campaign_id,
            alumnus_id=alumnus_id,
            channel="email",
            status="sent",
            sent_at=at,
            attempts=1,
            counts_toward_budget=True,
            maybe_duplicate=False,
        )
        .returning(table_of(Delivery).c.id)
    ).scalar_one()
    return delivery_id


def response(
    connection: Connection,
    kind: str,
    at: datetime,
    *,
    delivery_id: int | None = None,
    alumnus_id: int | None = None,
) -> None:
    connection.execute(
        sa.insert(table_of(Response)).values(
            kind=kind,
            source="email" if delivery_id else "web",
            remote_id=f"r{next(_serial)}",
            delivery_id=delivery_id,
            alumnus_id=alumnus_id,
            at=at,
            needs_attention=False,
            created_at=NOW,
        )
    )


def build(url: str) -> dict[str, int]:
    """Two classes, three countries: each alum reached (or not) by a different path."""
    with write_transaction(engine_for(url)) as c:
        ids = {
            "A": alum(c, class_year=2010, country="GB", contact="email"),
            "B": alum(c, class_year=2010, country="GB", contact="email", contact_status="bouncing"),
            "C": alum(c, class_year=2010, country="FR"),
            "D": alum(c, class_year=2010, country="FR"),
            "E": alum(
                c, class_year=2010, country="FR", contact="mastodon", two_way_at=days_ago(100)
            ),
            "F": alum(c, class_year=2010, country="FR", status="deceased", contact="email"),
            "G": alum(c, class_year=2011, country="US", contact="email"),
            "H": alum(c, class_year=2011, country=None, status="lost"),
        }
        old, recent = campaign(c, 2010), campaign(c, 2010)
        sent(c, recent, ids["A"], days_ago(30))  # delivered: reached
        response(c, "auto_reply", days_ago(29), delivery_id=sent(c, old, ids["G"], days_ago(500)))
        sent(c, old, ids["B"], days_ago(400))  # delivered long ago
        response(
            c, "bounce_hard", days_ago(20), delivery_id=sent(c, recent, ids["B"], days_ago(20))
        )
        response(c, "click", days_ago(10), alumnus_id=ids["D"])  # a click on a page of ours
        sent(c, recent, ids["F"], days_ago(3))  # deceased: never counted
        event_id = c.execute(
            sa.insert(table_of(Event))
            .values(
                uid="e1@school.example",
                class_year=2011,
                title="Reunion",
                starts_at=NOW,
                ends_at=NOW,
                timezone="UTC",
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(table_of(Event).c.id)
        ).scalar_one()
        c.execute(
            sa.insert(table_of(Rsvp)).values(
                event_id=event_id,
                alumnus_id=ids["H"],
                answer="yes",
                answered_at=days_ago(2),
                source="link",
                updated_at=NOW,
            )
        )
    return ids


def test_reached_since_counts_delivered_answers_and_forms_not_bounces(db_url: str) -> None:
    ids = build(db_url)
    with engine_for(db_url).connect() as connection:
        found = reached_since(connection, NOW - timedelta(days=365))
        ever = reached_since(connection, None, among=[ids["B"], ids["C"], ids["G"]])
    assert found == {
        ids["A"]: days_ago(30),
        ids["D"]: days_ago(10),
        ids["E"]: days_ago(100),
        ids["F"]: days_ago(3),
        ids["H"]: days_ago(2),
    }
    # B's last message bounced, so B last heard from us 400 days ago; an auto-reply is nobody
    assert ever == {ids["B"]: days_ago(400), ids["G"]: days_ago(500)}


def test_coverage_rows_per_class_country_and_all(db_url: str) -> None:
    build(db_url)
    with engine_for(db_url).connect() as connection:
        rows = {(row.by, row.group): row for row in coverage_rows(connection, now=NOW)}
    assert list(rows) == [
        ("class", "2010"),
        ("class", "2011"),
        ("country", "FR"),
        ("country", "GB"),
        ("country", "US"),
        ("country", "unknown"),
        ("all", "all"),
    ]
    # 2010: A delivered, D clicked, E answered; B only bounced; C and D have no channel
    assert rows["class", "2010"] == CoverageRow(
        by="class",
        group="2010",
        alumni=5,
        reached=3,
        only_bounced=1,
        no_channel=2,
        never_reached=1,
        median_days=100,  # of 10, 30, 100, 400 and never
        oldest_days=None,  # C never heard from us
    )
    assert rows["class", "2011"] == CoverageRow(
        by="class",
        group="2011",
        alumni=2,
        reached=1,
        only_bounced=0,
        no_channel=1,
        never_reached=0,
        median_days=2,
        oldest_days=500,
    )
    france = rows["country", "FR"]
    assert (france.alumni, france.reached, france.no_channel, france.never_reached) == (3, 2, 2, 1)
    assert rows["country", "GB"].only_bounced == 1 and rows["country", "GB"].reached == 1
    everyone = rows["all", "all"]
    assert (everyone.alumni, everyone.reached, everyone.only_bounced) == (7, 4, 1)
    assert everyone.reached_share == pytest.approx(4 / 7)


def test_one_class_gives_its_row_and_its_countries(db_url: str) -> None:
    build(db_url)
    with engine_for(db_url).connect() as connection:
        rows = coverage_rows(connection, now=NOW, class_year=2011)
    assert [(row.by, row.group, row.reached) for row in rows] == [
        ("class", "2011", 1),
        ("country", "US", 0),
        ("country", "unknown", 1),
    ]
    assert "Least reached: country US, 0 of 1 (0%)" in to_markdown(rows, now=NOW)


def test_naive_now_is_refused(sqlite_url: str) -> None:
    with engine_for(sqlite_url).connect() as connection, pytest.raises(ValueError, match="naive"):
        coverage_rows(connection, now=datetime(2026, 6, 1))


runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_reach_report_command_in_three_formats(sqlite_url: str) -> None:
    build_now = utcnow()
    with write_transaction(engine_for(sqlite_url)) as c:
        reached = alum(c, class_year=2016, country="BR", contact="email")
        alum(c, class_year=2016, country="JP")
        sent(c, campaign(c, 2016), reached, build_now - timedelta(days=3))
    rows = json.loads(invoke("reach", "report", "--format", "json"))
    assert [(r["by"], r["group"], r["alumni"], r["reached"]) for r in rows] == [
        ("class", "2016", 2, 1),
        ("country", "BR", 1, 1),
        ("country", "JP", 1, 0),
        ("all", "all", 2, 1),
    ]
    table = list(csv.DictReader(io.StringIO(invoke("reach", "report", "--format", "csv"))))
    assert table[2]["group"] == "JP" and table[2]["median_days"] == ""  # never reached
    text = invoke("reach", "report", "--class-year", "2016")
    assert "Reach in the last 12 months" in text and "never" in text and "50%" in text
    missing = runner.invoke(app, ["reach", "report", "--class-year", "1999"])
    assert missing.exit_code == 1 and "no contactable alumni" in missing.output
