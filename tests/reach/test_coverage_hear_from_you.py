"""Hear from you: the alumni unreached for a year get one message, once, within their consent
(the domain on SQLite and PostgreSQL); the templates render in every locale they exist in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery.ledger import load_campaign
from alumni.messages.rendering import TemplateStore
from alumni.models import ContactPoint, table_of
from alumni.reach.hear_from_you import TEMPLATE, plan_hear_from_you, series_key
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, deliveries

ROOT = Path(__file__).resolve().parents[2]


def outcomes(url: str, campaign_id: int) -> dict[int, str]:
    return {row.alumnus_id: row.skip_reason or row.status for row in deliveries(url, campaign_id)}


def test_once_to_the_unreached_and_only_within_consent(db_url: str) -> None:
    now = datetime.now(UTC)
    quiet = add_alumnus(db_url, "U1", email="u1@example.org")
    reached = add_alumnus(db_url, "U2", email="u2@example.org")
    refused = add_alumnus(db_url, "U3", email="u3@example.org", consent={"news": False})
    handle_only = add_alumnus(db_url, "U4")
    with write_transaction(engine_for(db_url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=handle_only,
                kind="mastodon",
                value="@u4@example.social",
                source="test",
                status="ok",
                created_at=now,
            )
        )
    long_ago = add_alumnus(db_url, "U5", email="u5@example.org")
    other_class = add_alumnus(db_url, "U6", email="u6@example.org", class_year=2017)
    earlier = add_campaign(db_url, template="newsletter")
    add_sent_delivery(db_url, earlier, reached, sent_at=now - timedelta(days=40))
    add_sent_delivery(db_url, earlier, long_ago, sent_at=now - timedelta(days=400))
    engine = engine_for(db_url)
    options = plan_options(get_settings())

    campaign_id = plan_hear_from_you(engine, 2016, now=now, options=options)

    assert campaign_id is not None
    assert outcomes(db_url, campaign_id) == {
        quiet: "pending",
        long_ago: "pending",
        refused: "no_consent",  # they said no to news: nothing goes
        handle_only: "no_email",  # counted by the coverage report, found by the lost drive
    }
    assert reached not in outcomes(db_url, campaign_id)
    assert other_class not in outcomes(db_url, campaign_id)
    with engine.connect() as connection:
        campaign = load_campaign(connection, campaign_id)
    assert (campaign.template, campaign.purpose, campaign.named_audience) == (
        TEMPLATE,
        "news",
        True,
    )
    assert campaign.series_key == series_key(2016, now=now)

    # a rerun the same year plans nobody twice; newly unreached alumni join the same campaign
    assert plan_hear_from_you(engine, 2016, now=now, options=options) is None
    newcomer = add_alumnus(db_url, "U7", email="u7@example.org")
    assert plan_hear_from_you(engine, 2016, now=now, options=options) == campaign_id
    after = outcomes(db_url, campaign_id)
    assert len(after) == 5 and after[newcomer] == "pending"
    assert [row.alumnus_id for row in deliveries(db_url, campaign_id)].count(quiet) == 1


def test_nobody_unreached_makes_no_campaign(sqlite_url: str) -> None:
    now = datetime.now(UTC)
    alum = add_alumnus(sqlite_url, "V1", email="v1@example.org")
    add_sent_delivery(sqlite_url, add_campaign(sqlite_url), alum, sent_at=now - timedelta(days=1))
    options = plan_options(get_settings())
    assert plan_hear_from_you(engine_for(sqlite_url), 2016, now=now, options=options) is None


def test_the_message_exists_in_every_locale_of_the_core_templates() -> None:
    store = TemplateStore(ROOT / "templates")
    assert set(store.locales(TEMPLATE)) >= set(store.locales("newsletter"))


def test_two_makers_of_one_series_get_one_campaign(db_url: str) -> None:
    from alumni.reach.hear_from_you import _make

    now = datetime.now(UTC)
    add_alumnus(db_url, "Z1", email="z1@example.org")
    key = series_key(2016, now=now)
    with write_transaction(engine_for(db_url)) as connection:
        first = _make(connection, 2016, key, now=now)
        second = _make(connection, 2016, key, now=now)  # the unique key finds the first
    assert first == second
