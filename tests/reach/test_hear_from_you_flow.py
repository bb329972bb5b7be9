"""The hear-from-you flow on the session's Prefect test server, email through a real SMTP server
(aiosmtpd) and direct messages through a real mastodon-mock: each alum gets one message on the
channel that works, within consent; a rerun (from ``alumni reach hear-from-you --send``) sends
nothing; the artifact and the command count the messages by channel."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.models import Campaign, table_of, utcnow
from alumni.reach.hear_from_you import plan_direct, plan_hear_from_you
from alumni.reach.priority import plan_options
from alumni.settings import get_settings
from flows.due_campaigns import due_campaigns
from flows.hear_from_you import hear_from_you
from tests.factories import add_alumnus, add_handle, daytime_zone, deliveries
from tests.prefect_reads import latest_artifact
from tests.smtp_server import Recorder, Serve

if TYPE_CHECKING:
    from tests.social_servers import MastodonServer

pytest_plugins = ("tests.social_servers",)


@pytest.fixture
def peers(
    serve: Serve,
    mastodon_alumni: MastodonServer,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
) -> Recorder:
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon_alumni.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", mastodon_alumni.token)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def test_email_where_it_works_one_direct_message_where_only_mastodon_does(
    sqlite_url: str, peers: Recorder, mastodon_alumni: MastodonServer
) -> None:
    zone, home, marker = daytime_zone(), mastodon_alumni.home, uuid.uuid4().hex[:8]
    bouncing = add_alumnus(
        sqlite_url,
        "B",
        first_name=f"B-{marker}",
        email="b@example.org",
        email_status="bouncing",
        timezone=zone,
        locale="fr",
    )
    add_handle(sqlite_url, bouncing, f"@ana@{home}")
    refused = add_alumnus(
        sqlite_url, "R", first_name=f"R-{marker}", timezone=zone, consent={"news": False}
    )
    add_handle(sqlite_url, refused, f"@bea@{home}")
    emailed = add_alumnus(
        sqlite_url, "W", first_name=f"W-{marker}", email="w@example.org", timezone=zone
    )
    add_handle(sqlite_url, emailed, f"@carla@{home}")

    result = hear_from_you()

    by_channel = {c["channel"]: c["outcomes"] for c in result["by_channel"]}
    assert by_channel == {
        "email": {"sent": 1, "skipped:no_email": 2},
        "mastodon": {"sent": 1, "skipped:no_consent": 1},
    }
    assert [list(m.rcpt_tos) for m in peers.received] == [["w@example.org"]]  # email only for W

    def got(account: str) -> list[str]:
        return [
            c["last_status"]["content"]
            for c in mastodon_alumni.conversations(f"{account}_token")
            if marker in c["last_status"]["content"]
        ]

    (message,) = got("ana")
    assert "nous aimerions avoir de vos nouvelles" in message  # in the alum's language
    assert got("bea") == [] and got("carla") == []
    summary = latest_artifact("hear-from-you")
    assert "Sent this year: email 1, mastodon 1." in summary
    assert "| 2016 | mastodon |" in summary

    again = CliRunner().invoke(app, ["reach", "hear-from-you", "--send", "--format", "json"])

    assert again.exit_code == 0, again.output
    shown = {c["channel"]: c["outcomes"] for c in json.loads(again.output)}
    assert shown == by_channel  # the rerun sent nothing, on either channel
    assert len(peers.received) == 1 and len(got("ana")) == 1
    table = CliRunner().invoke(app, ["reach", "hear-from-you"])
    assert table.exit_code == 0, table.output
    assert "sent by channel: email 1, mastodon 1" in table.output


def test_due_campaigns_sends_the_direct_messages_an_earlier_run_left(
    sqlite_url: str, peers: Recorder, mastodon_alumni: MastodonServer
) -> None:
    """Planned but not sent (the run stopped after planning, or the alum's morning had not
    come): the quarter-hourly due-campaigns run sends the direct message, once."""
    marker = uuid.uuid4().hex[:8]
    alumnus_id = add_alumnus(sqlite_url, "D", first_name=f"D-{marker}", timezone=daytime_zone())
    add_handle(sqlite_url, alumnus_id, f"@dana@{mastodon_alumni.home}")
    engine, now, options = engine_for(sqlite_url), utcnow(), plan_options(get_settings())
    plan_hear_from_you(engine, 2016, now=now, options=options)
    (campaign_id,) = plan_direct(engine, 2016, now=now, options=options, networks=["mastodon"])

    runs = due_campaigns()
    again = due_campaigns()

    assert runs[campaign_id]["outcomes"] == {"sent": 1}
    assert again == {}
    reached = [
        c
        for c in mastodon_alumni.conversations("dana_token")
        if marker in c["last_status"]["content"]
    ]
    assert len(reached) == 1


def test_a_token_the_server_refuses_stops_the_run_at_once_and_spends_no_message(
    sqlite_url: str,
    peers: Recorder,
    mastodon_alumni: MastodonServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A configuration that cannot work is said at once, not retried quietly and not spent:
    after the token is fixed, the next run sends the message, once."""
    from alumni.delivery.report import campaign_report
    from flows.campaign import class_campaign

    marker = uuid.uuid4().hex[:8]
    alumnus_id = add_alumnus(sqlite_url, "E", first_name=f"E-{marker}", timezone=daytime_zone())
    add_handle(sqlite_url, alumnus_id, f"@ana@{mastodon_alumni.home}")
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", "not-the-token")
    get_settings.cache_clear()

    with pytest.raises(
        RuntimeError, match=r"^class of 2016 \(campaign [0-9]+\): Mastodon"
    ) as failed:
        hear_from_you()

    assert "Mastodon" in str(failed.value) and "not-the-token" not in str(failed.value)
    engine = engine_for(sqlite_url)
    with engine.connect() as connection:
        (campaign_id,) = connection.execute(
            sa.select(table_of(Campaign).c.id).where(table_of(Campaign).c.channel == "mastodon")
        ).scalars()
        report = campaign_report(connection, campaign_id)
    assert report.outcomes == {"pending": 1}
    assert report.note is not None and "the last run stopped" in report.note
    (row,) = deliveries(sqlite_url, campaign_id)
    assert (row.status, row.attempts) == ("pending", 0)

    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", mastodon_alumni.token)
    get_settings.cache_clear()
    state = class_campaign(campaign_id=campaign_id, wait=False, return_state=True)

    assert state.is_completed(), state.message
    reached = [
        c
        for c in mastodon_alumni.conversations("ana_token")
        if marker in c["last_status"]["content"]
    ]
    assert len(reached) == 1
