"""The campaign report's ``responses``: what came back, counted per alum."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.delivery.report import RESPONSE_KEYS, campaign_report
from alumni.events.mailings import plan_mailing
from alumni.events.schedule import create_event
from alumni.models import Delivery, Response, Rsvp, table_of, utcnow
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, deliveries

NOW = utcnow()
_ids = count(1)


def respond(url: str, delivery: Any, kind: str) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(Response)).values(
                kind=kind,
                source="email",
                remote_id=f"test-{next(_ids)}",
                delivery_id=delivery.id,
                campaign_id=delivery.campaign_id,
                alumnus_id=delivery.alumnus_id,
                at=NOW,
                needs_attention=False,
                created_at=NOW,
            )
        )


def test_each_alum_counts_once_per_kind_and_a_bounce_is_not_delivered(db_url: str) -> None:
    campaign = add_campaign(db_url)
    other = add_campaign(db_url)
    people = [add_alumnus(db_url, f"R{n}", email=f"r{n}@example.org") for n in range(6)]
    for alum in people:
        add_sent_delivery(db_url, campaign, alum, sent_at=NOW)
        add_sent_delivery(db_url, other, alum, sent_at=NOW)
    rows = deliveries(db_url, campaign)
    respond(db_url, rows[0], "bounce_hard")
    respond(db_url, rows[0], "bounce_soft")  # hard wins: one alum, counted once
    respond(db_url, rows[1], "bounce_soft")
    respond(db_url, rows[1], "bounce_soft")
    respond(db_url, rows[2], "auto_reply")
    respond(db_url, rows[3], "reply")
    respond(db_url, rows[3], "reply")  # three replies from one alum are one alum replying
    respond(db_url, rows[3], "reply")
    respond(db_url, rows[4], "complaint")
    respond(db_url, rows[4], "unsubscribe")
    respond(db_url, rows[5], "click")
    respond(db_url, deliveries(db_url, other)[5], "reply")  # another campaign's: not counted

    with engine_for(db_url).connect() as connection:
        responses = campaign_report(connection, campaign).responses

    assert list(responses) == list(RESPONSE_KEYS)
    assert responses == {
        "delivered": 4,
        "bounced_hard": 1,
        "bounced_soft": 1,
        "auto_replied": 1,
        "replied": 1,
        "complained": 1,
        "unsubscribed": 1,
        "clicked": 1,
        "rsvp_yes": 0,
        "rsvp_no": 0,
        "rsvp_maybe": 0,
    }


def test_rsvps_count_the_current_answer_of_each_alum_the_mailing_went_to(db_url: str) -> None:
    engine = engine_for(db_url)
    people = [add_alumnus(db_url, f"V{n}", email=f"v{n}@example.org") for n in range(5)]
    event = create_event(
        engine,
        class_year=2016,
        title="Summer evening",
        starts_at=(NOW + timedelta(days=20)).replace(second=0, microsecond=0),
        tz="Europe/London",
        now=NOW,
    )
    mailing = plan_mailing(engine, event, "invite", now=NOW, options=PlanOptions()).campaign_id
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(table_of(Delivery))
            .where(table_of(Delivery).c.campaign_id == mailing)
            .values(status="sent", sent_at=NOW)
        )
        for alum, answer in zip(people, ["yes", "yes", "no", "maybe"], strict=False):
            connection.execute(
                sa.insert(table_of(Rsvp)).values(
                    event_id=event,
                    alumnus_id=alum,
                    answer=answer,
                    answered_at=NOW,
                    source="link",
                    updated_at=NOW,
                )
            )

    result = CliRunner().invoke(app, ["campaign", "status", str(mailing), "--format", "json"])
    assert result.exit_code == 0, result.output
    responses = json.loads(result.output)["responses"]
    assert (responses["rsvp_yes"], responses["rsvp_no"], responses["rsvp_maybe"]) == (2, 1, 1)
    assert responses["delivered"] == 5

    table = CliRunner().invoke(app, ["campaign", "status", str(mailing)])
    assert "rsvp yes" in table.output and "delivered" in table.output
