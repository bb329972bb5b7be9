"""`alumni contacts show|stale` and `alumni lost list` as an officer types them."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.cli.output import out
from alumni.db import engine_for, write_transaction
from alumni.models import ContactPoint, table_of, utcnow
from alumni.settings import get_settings
from tests.factories import add_alumnus

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as on a wide terminal, so that each row is one line here."""
    monkeypatch.setattr(out, "_width", 250)


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _point(url: str, alumnus_id: int, kind: str, value: str, **values: object) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id, kind=kind, value=value, created_at=utcnow(), **values
            )
        )


def test_show_lists_current_and_superseded_details_with_age_and_source(sqlite_url: str) -> None:
    alum = add_alumnus(sqlite_url, "A1")
    now = utcnow()
    _point(
        sqlite_url,
        alum,
        "email",
        "new@example.org",
        source="web form",
        verified_at=now - timedelta(days=12),
    )
    _point(
        sqlite_url,
        alum,
        "email",
        "old@example.org",
        source="import #1 (class.csv)",
        superseded_at=now,
        status="bouncing",
    )
    _point(sqlite_url, alum, "phone", "+441632960001", label="landline", source="enrolment form")

    rows = json.loads(invoke("contacts", "show", "A1", "--format", "json"))
    table = invoke("contacts", "show", "A1")

    by_value = {row["value"]: row for row in rows}
    assert by_value["new@example.org"]["source"] == "web form"
    assert by_value["new@example.org"]["age_days"] == 12
    assert by_value["new@example.org"]["verified"].endswith("(12 days)")
    assert by_value["+441632960001"]["verified"] == "never"
    assert by_value["+441632960001"]["label"] == "landline"
    assert by_value["old@example.org"]["current"] is False
    assert by_value["old@example.org"]["status"] == "bouncing"
    assert [row["current"] for row in rows] == [True, True, False]  # current ones first
    assert "│ enrolment form        │ never " in table

    # `alumni export` carries the same: every point with its source and verification.
    exported = json.loads(invoke("export", "A1"))
    points = (
        exported["tables"]["contactpoint"] if "tables" in exported else exported["contactpoint"]
    )
    assert {(p["value"], p["source"]) for p in points} == {
        ("new@example.org", "web form"),
        ("old@example.org", "import #1 (class.csv)"),
        ("+441632960001", "enrolment form"),
    }


def test_show_names_an_unknown_alum(sqlite_url: str) -> None:
    result = runner.invoke(app, ["contacts", "show", "NOBODY"])
    assert result.exit_code == 1
    assert "NOBODY" in result.output


def test_stale_lists_alum_detail_and_reason_in_each_format(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_SCHOOL_DOMAINS", "School.edu, other.edu")
    get_settings.cache_clear()
    old = add_alumnus(sqlite_url, "OLD", class_year=2015, first_name="Ana", last_name="Lima")
    fresh = add_alumnus(sqlite_url, "NEW", class_year=2016)
    now = utcnow()
    _point(sqlite_url, old, "email", "ana@school.edu", source="class list", verified_at=now)
    _point(sqlite_url, fresh, "email", "b@example.org", source="web form", verified_at=now)

    rows = json.loads(invoke("contacts", "stale", "--format", "json"))
    as_csv = list(csv.DictReader(io.StringIO(invoke("contacts", "stale", "--format", "csv"))))
    table = invoke("contacts", "stale", "--class-year", "2015")

    assert rows == [
        {
            "alumnus": "OLD (Ana Lima)",
            "class_year": 2015,
            "detail": rows[0]["detail"],
            "kind": "email",
            "value": "ana@school.edu",
            "rule": "school_address",
            "reason": "an address of the school (school.edu), usually closed after graduation "
            "(class of 2015)",
        }
    ]
    assert [row["rule"] for row in as_csv] == ["school_address"]
    assert "│ ana@school.edu │ school_address │" in table
    assert "no stale or doubtful" in invoke("contacts", "stale", "--class-year", "2016")


def test_lost_list_gives_names_and_class_never_details(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "R", class_year=2016, email="reachable@example.org")
    lost = add_alumnus(
        sqlite_url,
        "L",
        class_year=2016,
        first_name="Bea",
        last_name="Costa",
        email="dead@example.org",
        email_status="invalid",
    )
    _point(sqlite_url, lost, "phone", "+441632960001", source="enrolment form")
    add_alumnus(sqlite_url, "O", class_year=2015, first_name="Caio", last_name="Dias")

    everyone = json.loads(invoke("lost", "list", "--format", "json"))
    table = invoke("lost", "list", "--class-year", "2016")

    assert everyone == [
        {"class_year": 2015, "name": "Caio Dias"},
        {"class_year": 2016, "name": "Bea Costa"},
    ]
    assert "│ 2016       │ Bea Costa │" in table
    assert "dead@example.org" not in table and "+44" not in table
