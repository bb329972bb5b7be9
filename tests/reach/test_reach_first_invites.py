"""An event invite with a cap (``plan_mailing(..., max_recipients=N)``) goes to the first N of
the caller's order, those nobody reached longest first with ``reach_order``, as a capped news
campaign does; only the invite takes a cap. An officer caps it with ``alumni event invite ID
--max-recipients N``: the event-mailing flow (real Prefect, real SMTP) plans reach first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from alumni.cli.events import event_app
from alumni.db import engine_for
from alumni.delivery.planning import PlanOptions
from alumni.events.mailings import plan_mailing
from alumni.events.schedule import create_event
from alumni.models import utcnow
from alumni.reach.priority import reach_order
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
BY_ID = PlanOptions(message_id_domain="school.example")
REACH_FIRST = replace(BY_ID, order=reach_order)


def class_with_one_reached(url: str) -> tuple[int, dict[str, int]]:
    """Class 2016: Ana (lowest id) reached last month, Bruno reached a year and a half ago,
    Carla never, Dora refused events; and an event of the class."""
    ids = {
        who: add_alumnus(url, who.upper(), email=f"{who}@example.org")
        for who in ("ana", "bruno", "carla")
    }
    ids["dora"] = add_alumnus(url, "DORA", email="dora@example.org", consent={"events": False})
    news = add_campaign(url)
    add_sent_delivery(url, news, ids["ana"], sent_at=NOW - timedelta(days=30))
    add_sent_delivery(url, news, ids["bruno"], sent_at=NOW - timedelta(days=540))
    event = create_event(
        engine_for(url),
        class_year=2016,
        title="Reunion",
        starts_at=NOW + timedelta(days=42),
        tz="Europe/London",
        now=NOW,
    )
    return event, ids


def outcomes(url: str, campaign_id: int, ids: dict[str, int]) -> dict[str, str]:
    who = {alumnus_id: name for name, alumnus_id in ids.items()}
    return {who[d.alumnus_id]: d.skip_reason or d.status for d in deliveries(url, campaign_id)}


def test_a_capped_invite_goes_to_those_nobody_reached_longest_first(db_url: str) -> None:
    event, ids = class_with_one_reached(db_url)

    planned = plan_mailing(
        engine_for(db_url), event, "invite", now=NOW, options=REACH_FIRST, max_recipients=2
    )

    # Carla (never) and Bruno (18 months) go; Ana, reached last month, waits; Dora said no
    assert outcomes(db_url, planned.campaign_id, ids) == {
        "ana": "over_cap",
        "bruno": "pending",
        "carla": "pending",
        "dora": "no_consent",
    }
    # a rerun with the same cap plans nobody more
    again = plan_mailing(
        engine_for(db_url), event, "invite", now=NOW, options=REACH_FIRST, max_recipients=2
    )
    assert again.added == 0
    assert outcomes(db_url, planned.campaign_id, ids)["ana"] == "over_cap"


def test_without_an_order_a_capped_invite_keeps_the_lowest_ids(sqlite_url: str) -> None:
    event, ids = class_with_one_reached(sqlite_url)

    planned = plan_mailing(
        engine_for(sqlite_url), event, "invite", now=NOW, options=BY_ID, max_recipients=2
    )

    assert outcomes(sqlite_url, planned.campaign_id, ids) == {
        "ana": "pending",
        "bruno": "pending",
        "carla": "over_cap",
        "dora": "no_consent",
    }


def test_an_invite_without_a_cap_goes_to_the_whole_class(sqlite_url: str) -> None:
    event, ids = class_with_one_reached(sqlite_url)

    planned = plan_mailing(engine_for(sqlite_url), event, "invite", now=NOW, options=REACH_FIRST)

    assert sorted(outcomes(sqlite_url, planned.campaign_id, ids).values()) == [
        "no_consent",
        "pending",
        "pending",
        "pending",
    ]


@pytest.mark.parametrize("key, cap", [("reminder-7", 2), ("thanks", 1), ("invite", 0)])
def test_a_cap_on_a_follow_up_or_below_one_is_refused_and_plans_nothing(
    sqlite_url: str, key: str, cap: int
) -> None:
    event, _ = class_with_one_reached(sqlite_url)

    with pytest.raises(ValueError, match="max_recipients") as refused:
        plan_mailing(
            engine_for(sqlite_url), event, key, now=NOW, options=REACH_FIRST, max_recipients=cap
        )

    assert key in str(refused.value) or str(cap) in str(refused.value)
    # nothing of it was written: the same mailing plans normally afterwards
    if key == "invite":
        planned = plan_mailing(engine_for(sqlite_url), event, key, now=NOW, options=REACH_FIRST)
        assert len(deliveries(sqlite_url, planned.campaign_id)) == 4


def test_the_officer_caps_an_invite_and_those_nobody_reached_longest_get_it(
    sqlite_url: str, serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    handler = Recorder()
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{serve(handler).port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    now = utcnow()
    zone = daytime_zone()  # the flow plans at now: daytime, so every invite is due at once
    ids = {
        who: add_alumnus(sqlite_url, who.upper(), email=f"{who}@example.org", timezone=zone)
        for who in ("ana", "bruno", "carla")
    }
    news = add_campaign(sqlite_url)
    add_sent_delivery(sqlite_url, news, ids["ana"], sent_at=now - timedelta(days=30))
    event = create_event(
        engine_for(sqlite_url),
        class_year=2016,
        title="Reunion",
        starts_at=now + timedelta(days=42),
        tz="Europe/London",
        now=now,
    )
    alumni = typer.Typer()
    alumni.add_typer(event_app, name="event")  # as alumni/cli/main.py registers it

    result = CliRunner().invoke(alumni, ["event", "invite", str(event), "--max-recipients", "2"])

    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and "skipped:over_cap 1" in result.output
    assert sorted(r for m in handler.received for r in m.rcpt_tos) == [
        "bruno@example.org",
        "carla@example.org",
    ]


def test_a_cap_below_one_is_refused_before_anything_runs(sqlite_url: str) -> None:
    alumni = typer.Typer()
    alumni.add_typer(event_app, name="event")

    result = CliRunner().invoke(alumni, ["event", "invite", "1", "--max-recipients", "0"])

    assert result.exit_code == 1
    assert "--max-recipients 0: give 1 or more" in result.output
