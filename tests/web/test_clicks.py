"""Tracked links count at most one click per link per UTC hour: the rule with a given `now`, then
a link replayed 50 times at once over real HTTP under uvicorn."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import Response, SocialPost, table_of, utcnow
from alumni.settings import Settings
from alumni.social.clicks import click_id, record_click, tracked_link
from tests.factories import add_campaign
from tests.web.test_app import run_server

LINK = "https://school.example/reunion"
T0 = datetime(2025, 10, 18, 10, 0, tzinfo=UTC)


def add_post(url: str, campaign_id: int, key: str) -> int:
    with write_transaction(engine_for(url)) as connection:
        post_id: int = connection.execute(
            sa.insert(table_of(SocialPost))
            .values(
                campaign_id=campaign_id,
                network="mastodon",
                account=f"mastodon-{key}",
                locale="en",
                text=f"Class of 2016: reunion on 18 October ({key})",
                idempotency_key=key,
                composed_at=T0,
                status="sent",
            )
            .returning(table_of(SocialPost).c.id)
        ).scalar_one()
    return post_id


def clicks(url: str) -> list[Any]:
    table = table_of(Response)
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(table.c.social_post_id, table.c.remote_id, table.c.kind).order_by(
                    table.c.id
                )
            )
        )


def test_a_click_is_named_by_its_post_and_utc_hour() -> None:
    assert click_id(7, T0) == "click:7:2025-10-18T10"
    assert click_id(7, T0 + timedelta(minutes=59, seconds=59)) == click_id(7, T0)
    assert click_id(7, T0 + timedelta(hours=1)) == "click:7:2025-10-18T11"
    assert click_id(8, T0) != click_id(7, T0)
    paris = timezone(timedelta(hours=2))
    assert click_id(7, datetime(2025, 10, 18, 12, 30, tzinfo=paris)) == click_id(7, T0)
    with pytest.raises(ValueError, match="no time zone"):
        click_id(7, datetime(2025, 10, 18, 10, 0))


def test_a_link_counts_at_most_one_click_per_hour(db_url: str) -> None:
    campaign_id = add_campaign(db_url, channel="social", link=LINK)
    first = add_post(db_url, campaign_id, "post-a")
    second = add_post(db_url, campaign_id, "post-b")
    engine = engine_for(db_url)

    for replay in range(50):  # within 10:00 and 10:58
        assert record_click(engine, "post-a", now=T0 + timedelta(seconds=70 * replay)) == LINK
    assert clicks(db_url) == [(first, click_id(first, T0), "click")]

    assert record_click(engine, "post-b", now=T0 + timedelta(minutes=30)) == LINK
    assert record_click(engine, "post-a", now=T0 + timedelta(hours=1)) == LINK
    assert record_click(engine, "post-a", now=T0 + timedelta(hours=1, minutes=59)) == LINK
    assert [(post, remote_id) for post, remote_id, _ in clicks(db_url)] == [
        (first, click_id(first, T0)),
        (second, click_id(second, T0)),
        (first, click_id(first, T0 + timedelta(hours=1))),
    ]
    assert record_click(engine, "no-such-post", now=T0) is None
    assert len(clicks(db_url)) == 3


def test_a_link_replayed_50_times_at_once_records_one_click(
    db_url: str, settings: Settings
) -> None:
    campaign_id = add_campaign(db_url, channel="social", link=LINK)
    post_id = add_post(db_url, campaign_id, "post-replayed")
    link = tracked_link(settings.signing_key(), settings.base_url, "post-replayed", now=utcnow())
    path = "/l/" + link.rsplit("/l/", 1)[1]
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def replay(base_url: str) -> None:
        with httpx.Client(base_url=base_url, follow_redirects=False) as own:
            for _ in range(10):
                answer = own.get(path)
                with lock:
                    answers.append(answer)

    for client in run_server(settings):
        started = utcnow()
        replayers = [
            threading.Thread(target=replay, args=(str(client.base_url),)) for _ in range(5)
        ]
        for replayer in replayers:
            replayer.start()
        for replayer in replayers:
            replayer.join()
        ended = utcnow()

    assert len(answers) == 50
    for answer in answers:
        assert answer.status_code == 302
        assert answer.headers["location"] == LINK
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
    rows = clicks(db_url)
    # One click, or one per UTC hour if the replay happened to run across the turn of an hour.
    hours = {click_id(post_id, started), click_id(post_id, ended)}
    assert 1 <= len(rows) <= len(hours)
    assert {remote_id for _, remote_id, _ in rows} <= hours
    assert {(post, kind) for post, _, kind in rows} == {(post_id, "click")}
