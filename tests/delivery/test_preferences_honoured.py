"""What an alum chose on their preference page, honoured by the one skip rule: the rule itself
with a given ``now``, then every kind of campaign planned on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alumni.db import engine_for, write_transaction
from alumni.delivery import planning
from alumni.delivery.audience import (
    Budget,
    Member,
    SkipReason,
    channel_chosen,
    decide,
    pause_runs,
)
from alumni.events.mailings import plan_mailing
from alumni.events.schedule import create_event
from alumni.models import Frequency
from alumni.people.preferences import Choice, save_choice
from tests.factories import add_alumnus, add_campaign, deliveries

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = planning.PlanOptions(message_id_domain="school.example")
PAUSE_ENDS = NOW + timedelta(days=10)


def test_a_pause_runs_until_the_moment_it_ends() -> None:
    assert pause_runs(PAUSE_ENDS, now=NOW)
    assert pause_runs(PAUSE_ENDS, now=PAUSE_ENDS - timedelta(microseconds=1))
    assert not pause_runs(PAUSE_ENDS, now=PAUSE_ENDS)
    assert not pause_runs(None, now=NOW)


def test_an_event_mailing_is_an_email_to_the_channel_choice() -> None:
    assert channel_chosen(["email"], "email")
    assert channel_chosen(["email"], "calendar")
    assert not channel_chosen([], "email")
    assert not channel_chosen([""], "calendar")


def member(**facts: object) -> Member:
    base: dict[str, object] = {
        "alumnus_id": 1,
        "status": "active",
        "email": "a@example.org",
        "suppressed_scopes": frozenset(),
        "consent": None,
        "recent_messages": 0,
    }
    return Member(**{**base, **facts})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("choices", "news", "events"),
    [
        ({}, None, None),
        ({"paused": True}, SkipReason.paused, SkipReason.paused),
        ({"channel_off": True}, SkipReason.channel_off, SkipReason.channel_off),
        (
            {"frequency": Frequency.own_requests},
            SkipReason.own_requests_only,
            SkipReason.own_requests_only,
        ),
        ({"frequency": Frequency.digest}, SkipReason.digest, None),
        ({"frequency": Frequency.digest, "paused": True}, SkipReason.paused, SkipReason.paused),
    ],
)
def test_the_alums_choices_hold_back_news_and_events_but_never_service(
    choices: dict[str, object], news: SkipReason | None, events: SkipReason | None
) -> None:
    chose = member(**choices)
    assert decide(chose, purpose="news", budget=Budget()) == news
    assert decide(chose, purpose="events", budget=Budget()) == events
    assert decide(chose, purpose="service", budget=Budget()) is None


def test_stronger_reasons_come_first_and_the_budget_last() -> None:
    paused = {"paused": True}
    assert decide(member(**paused, status="deceased"), purpose="news", budget=Budget()) == (
        SkipReason.deceased
    )
    unsubscribed = member(**paused, suppressed_scopes=frozenset({"news"}))
    assert decide(unsubscribed, purpose="news", budget=Budget()) == SkipReason.unsubscribed
    busy = member(**paused, recent_messages=9)
    assert decide(busy, purpose="news", budget=Budget()) == SkipReason.paused


def test_every_campaign_planned_after_a_choice_honours_it_and_service_still_goes(
    db_url: str,
) -> None:
    engine = engine_for(db_url)
    people = {
        who: add_alumnus(db_url, who, email=f"{who}@example.org")
        for who in ("every", "paused", "pause_over", "no_channel", "own", "digest")
    }
    chosen = {
        "paused": Choice(frozenset({"email"}), Frequency.every, PAUSE_ENDS),
        "pause_over": Choice(frozenset({"email"}), Frequency.every, NOW - timedelta(days=1)),
        "no_channel": Choice(frozenset(), Frequency.every, None),
        "own": Choice(frozenset({"email"}), Frequency.own_requests, None),
        "digest": Choice(frozenset({"email"}), Frequency.digest, None),
    }
    with write_transaction(engine) as connection:
        for who, choice in chosen.items():
            save_choice(connection, people[who], choice, now=NOW)

    def outcomes(campaign_id: int) -> dict[str, str]:
        by_id = {alumnus_id: who for who, alumnus_id in people.items()}
        return {
            by_id[row.alumnus_id]: row.skip_reason or row.status
            for row in deliveries(db_url, campaign_id)
        }

    def planned(purpose: str, *, now: datetime = NOW) -> dict[str, str]:
        campaign = add_campaign(db_url, purpose=purpose)
        planning.plan(engine, campaign, now=now, options=OPTIONS)
        return outcomes(campaign)

    assert planned("news") == {
        "every": "pending",
        "paused": "paused",
        "pause_over": "pending",
        "no_channel": "channel_off",
        "own": "own_requests_only",
        "digest": "digest",
    }
    events = {
        "every": "pending",
        "paused": "paused",
        "pause_over": "pending",
        "no_channel": "channel_off",
        "own": "own_requests_only",
        "digest": "pending",
    }
    assert planned("events") == events
    assert set(planned("service").values()) == {"pending"}
    # An event invite is an events message by email (channel ``calendar``): the same rule.
    event_id = create_event(
        engine,
        class_year=2016,
        title="Reunion",
        starts_at=NOW + timedelta(days=40),
        tz="Europe/London",
        now=NOW,
    )
    invite = plan_mailing(engine, event_id, "invite", now=NOW, options=OPTIONS)
    assert outcomes(invite.campaign_id) == events
    # Once the pause has ended, the next campaign reaches them again.
    assert planned("news", now=PAUSE_ENDS)["paused"] == "pending"
