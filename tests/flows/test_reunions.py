"""The yearly ``reunion-planning`` flow on the session's real Prefect server: next year's
milestone reunions proposed once, in the office's zone, with an artifact that lists them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.models import Event, table_of, utcnow
from alumni.settings import get_settings
from tests.factories import add_alumnus
from tests.prefect_reads import latest_artifact


def test_reunion_planning_proposes_next_years_milestones_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    from flows.reunions import reunion_planning

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", "Pacific/Kiritimati")  # UTC+14
    get_settings.cache_clear()
    next_year = utcnow().astimezone(ZoneInfo("Pacific/Kiritimati")).year + 1
    add_alumnus(sqlite_url, "TEN", class_year=next_year - 10)
    add_alumnus(sqlite_url, "SEVEN", class_year=next_year - 7)  # no milestone
    result = reunion_planning()
    assert result["year"] == next_year
    assert [p["class_year"] for p in result["proposals"]] == [next_year - 10]
    with engine_for(sqlite_url).connect() as connection:
        (event,) = connection.execute(sa.select(table_of(Event)))
    assert (event.status, event.timezone) == ("proposed", "Pacific/Kiritimati")
    assert reunion_planning()["proposals"] == []  # a rerun proposes nothing twice
    report = latest_artifact(f"reunion-proposals-{next_year}")
    assert "0 new proposal(s)" in report
    get_settings.cache_clear()
