"""The one planner on SQLite and PostgreSQL: every alum one outcome, the same skip reason in a
campaign, an event invite and a follow-up mailing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import planning
from alumni.events.mailings import plan_mailing
from alumni.events.schedule import create_event
from alumni.models import Alumnus, Delivery, table_of
from alumni.people.suppression import suppress
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, deliveries

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = planning.PlanOptions(message_id_domain="school.example")
_A = table_of(Alumnus)
_D = table_of(Delivery)


def outcomes(url: str, campaign_id: int) -> dict[str, str]:
    return {f"{d.alumnus_id}": d.skip_reason or d.status for d in deliveries(url, campaign_id)}


def test_every_alum_of_the_class_gets_one_outcome(db_url: str) -> None:
    ids = {
        "ok": add_alumnus(db_url, "A1", email="a1@example.com"),
        "dead": add_alumnus(db_url, "A2", email="a2@example.com", status="deceased"),
        "dnc": add_alumnus(db_url, "A3", email="a3@example.com", status="do_not_contact"),
        "noemail": add_alumnus(db_url, "A4"),
        "bouncing": add_alumnus(db_url, "A5", email="a5@example.com", email_status="bouncing"),
        "refused": add_alumnus(db_url, "A6", email="a6@example.com", consent={"news": False}),
        "unsub": add_alumnus(db_url, "A7", email="a7@example.com"),
        "busy": add_alumnus(db_url, "A8", email="a8@example.com"),
        "lost": add_alumnus(db_url, "A10", email="old@example.com", status="lost"),
    }
    add_alumnus(db_url, "OTHER", class_year=2015, email="x@example.com")
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        suppress(
            connection, kind="email", value="A7@example.com", reason="unsubscribed", scope="news"
        )
    earlier = add_campaign(db_url)
    for days in (1, 5, 10, 29):
        other = add_campaign(db_url)
        add_sent_delivery(db_url, other, ids["busy"], sent_at=NOW - timedelta(days=days))
    add_sent_delivery(db_url, earlier, ids["ok"], sent_at=NOW - timedelta(days=31))

    campaign = add_campaign(db_url)
    summary = planning.plan(engine, campaign, now=NOW, options=OPTIONS)
    assert (summary.added, summary.pending, summary.skipped) == (9, 1, 8)
    got = outcomes(db_url, campaign)
    assert got == {
        str(ids["ok"]): "pending",
        str(ids["dead"]): "deceased",
        str(ids["dnc"]): "do_not_contact",
        str(ids["noemail"]): "no_email",
        str(ids["bouncing"]): "no_email",
        str(ids["refused"]): "no_consent",
        str(ids["unsub"]): "unsubscribed",
        str(ids["busy"]): "over_budget",
        str(ids["lost"]): "lost",
    }
    row = next(d for d in deliveries(db_url, campaign) if d.status == "pending")
    assert row.address == "a1@example.com" and row.message_id.endswith("@school.example>")
    # a rerun writes nothing new; an alum imported since is added
    assert planning.plan(engine, campaign, now=NOW, options=OPTIONS).added == 0
    add_alumnus(db_url, "A9", email="a9@example.com")
    again = planning.plan(engine, campaign, now=NOW, options=OPTIONS)
    assert (again.added, again.pending) == (1, 2)


def test_a_lost_or_deceased_alum_is_skipped_alike_in_a_campaign_an_invite_and_a_reminder(
    db_url: str,
) -> None:
    engine = engine_for(db_url)
    people = {
        who: add_alumnus(db_url, who.upper(), email=f"{who}@example.org")
        for who in ("ana", "bruno", "carla")
    }
    starts = NOW + timedelta(days=20)
    first = create_event(
        engine, class_year=2016, title="Reunion", starts_at=starts, tz="Europe/London", now=NOW
    )
    invite = plan_mailing(engine, first, "invite", now=NOW, options=OPTIONS)
    with write_transaction(engine) as connection:  # the invite went out to all three
        connection.execute(
            sa.update(_D).where(_D.c.campaign_id == invite.campaign_id).values(status="sent")
        )
    # since then, Bruno died and Carla's address stopped being trusted
    with write_transaction(engine) as connection:
        for who, status in (("bruno", "deceased"), ("carla", "lost")):
            connection.execute(sa.update(_A).where(_A.c.id == people[who]).values(status=status))

    campaign = add_campaign(db_url)
    planning.plan(engine, campaign, now=NOW, options=OPTIONS)
    reminder = plan_mailing(engine, first, "reminder-7", now=NOW, options=OPTIONS).campaign_id
    second = create_event(
        engine,
        class_year=2016,
        title="Picnic",
        starts_at=starts + timedelta(days=40),
        tz="Europe/London",
        now=NOW,
    )
    new_invite = plan_mailing(engine, second, "invite", now=NOW, options=OPTIONS).campaign_id

    expected = {
        str(people["ana"]): "pending",
        str(people["bruno"]): "deceased",
        str(people["carla"]): "lost",
    }
    for planned in (campaign, new_invite, reminder):
        assert outcomes(db_url, planned) == expected
    # a follow-up is a service message: it never counts toward the contact budget
    assert {d.counts_toward_budget for d in deliveries(db_url, reminder)} == {False}


def test_send_at_spreads_due_times_by_zone(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "Z1", email="z1@example.com", timezone="Asia/Kolkata")
    add_alumnus(sqlite_url, "Z2", email="z2@example.com", timezone="America/New_York")
    add_alumnus(sqlite_url, "Z3", email="z3@example.com", timezone=None)
    campaign = add_campaign(sqlite_url, send_at="09:30")
    options = planning.PlanOptions(office_timezone="Europe/London")
    planning.plan(engine_for(sqlite_url), campaign, now=NOW, options=options)
    due = [d.due_at for d in deliveries(sqlite_url, campaign)]
    assert due == [
        datetime(2027, 3, 2, 4, 0, tzinfo=UTC),  # 09:30 IST, tomorrow
        datetime(2027, 3, 1, 14, 30, tzinfo=UTC),  # 09:30 EST, today
        datetime(2027, 3, 2, 9, 30, tzinfo=UTC),
    ]  # the office's zone


def test_a_stopped_campaign_is_not_planned(sqlite_url: str) -> None:
    campaign = add_campaign(sqlite_url, status="stopped", note="preflight failed")
    with pytest.raises(RuntimeError, match="stopped"):
        planning.plan(engine_for(sqlite_url), campaign, now=NOW, options=OPTIONS)
