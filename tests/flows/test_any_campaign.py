"""Any campaign by its id, whatever its kind: ``kind_of`` names the flow, and the
``class-campaign`` flow (what the UI's run form starts) sends an invite and a social campaign
through the flow of their kind, as ``alumni campaign run`` does. Real Prefect (the session's
test server), real SMTP (aiosmtpd) and mastodon-mock."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.delivery.campaigns import SocialOptions, create, kind_of
from alumni.events.mailings import mailing_campaign
from alumni.events.schedule import create_event
from alumni.models import Campaign, table_of, utcnow
from alumni.settings import get_settings
from flows.campaign import class_campaign
from tests.factories import add_alumnus, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve

if TYPE_CHECKING:
    from tests.social_servers import MastodonServer

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
_C = table_of(Campaign)


def an_event(url: str, title: str = "Class of 2016 reunion") -> int:
    return create_event(
        engine_for(url),
        class_year=2016,
        title=title,
        starts_at=utcnow() + timedelta(days=60),
        tz="Europe/London",
        now=utcnow(),
    )


def a_social_campaign(url: str) -> int:
    ((campaign_id, _),) = create(
        engine_for(url),
        name="Reunion posts",
        class_years=[2016],
        template="reunion",
        templates=ROOT / "templates",
        social=SocialOptions(),
    )
    return campaign_id


def name_of(url: str, campaign_id: int) -> str:
    with engine_for(url).connect() as connection:
        return str(connection.execute(sa.select(_C.c.name).where(_C.c.id == campaign_id)).scalar())


def test_kind_of_names_email_calendar_and_social_and_refuses_an_unknown_id(db_url: str) -> None:
    add_alumnus(db_url, "A1", email="a1@example.org")
    ((email_id, _),) = create(
        engine_for(db_url),
        name="News",
        class_years=[2016],
        template="newsletter",
        templates=ROOT / "templates",
    )
    invite_id, _ = mailing_campaign(engine_for(db_url), an_event(db_url), "invite", now=utcnow())
    social_id = a_social_campaign(db_url)
    with engine_for(db_url).connect() as connection:
        kinds = [kind_of(connection, i) for i in (email_id, invite_id, social_id)]
        with pytest.raises(LookupError) as error:
            kind_of(connection, 999)
    assert kinds == ["email", "calendar", "social"]
    assert str(error.value) == "no campaign 999: `alumni campaign list` shows the ids"


def test_campaign_create_with_an_event_keeps_the_name_given(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "A1", email="a1@example.org")
    event_id = an_event(sqlite_url)
    args = ["campaign", "create", "--event", str(event_id), "--name", "Reunion invite 2016"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    campaign_id = int(result.output.strip().splitlines()[-1])
    assert name_of(sqlite_url, campaign_id) == "Reunion invite 2016"
    # the same invite again, renamed: still one campaign, with the newer name
    args[-1] = "Invite: class of 2016"
    again = runner.invoke(app, args)
    assert int(again.output.strip().splitlines()[-1]) == campaign_id
    assert name_of(sqlite_url, campaign_id) == "Invite: class of 2016"
    # no --name: the event's own words, as before
    other = runner.invoke(
        app, ["campaign", "create", "--event", str(an_event(sqlite_url, "Picnic"))]
    )
    assert name_of(sqlite_url, int(other.output.strip().splitlines()[-1])).endswith(": Picnic")


def test_campaign_run_of_an_unknown_id_says_where_the_ids_are(sqlite_url: str) -> None:
    result = runner.invoke(app, ["campaign", "run", "999"])
    assert result.exit_code == 1
    assert "no campaign 999: `alumni campaign list` shows the ids" in result.output


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at, and the Prefect test server."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def test_class_campaign_sends_an_invite_campaign_as_an_event_mailing(
    sqlite_url: str, smtp: Recorder
) -> None:
    for n in range(3):
        add_alumnus(sqlite_url, f"I{n}", email=f"i{n}@example.org", timezone=daytime_zone())
    invite_id, _ = mailing_campaign(
        engine_for(sqlite_url), an_event(sqlite_url), "invite", now=utcnow()
    )
    result = class_campaign(campaign_id=invite_id, wait=False)
    assert isinstance(result, dict) and result["campaign_id"] == invite_id
    assert result["outcomes"] == {"sent": 3}
    received = sorted(rcpt for message in smtp.received for rcpt in message.rcpt_tos)
    assert received == ["i0@example.org", "i1@example.org", "i2@example.org"]
    parsed = email.message_from_bytes(smtp.received[0].content, policy=policy.default)
    # the calendar invite, not the email template "invite" the issue found missing
    assert "text/calendar" in {part.get_content_type() for part in parsed.walk()}
    # run again from the same form: nothing twice
    class_campaign(campaign_id=invite_id, wait=False)
    assert len(smtp.received) == 3
    assert {d.status for d in deliveries(sqlite_url, invite_id)} == {"sent"}


def test_class_campaign_posts_a_social_campaign_through_the_social_flow(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
    mastodon: MastodonServer,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", daytime_zone())
    monkeypatch.setenv("ALUMNI_BASE_URL", "https://alumni.school.example")
    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", mastodon.token)
    for key in ("BLUESKY_URL", "BLUESKY_HANDLE", "BLUESKY_PASSWORD"):
        monkeypatch.delenv(f"ALUMNI_{key}", raising=False)
    get_settings.cache_clear()
    add_alumnus(sqlite_url, "S1", email="s1@example.org")
    campaign_id = a_social_campaign(sqlite_url)
    before = len(mastodon.statuses())  # the session's server keeps other tests' posts
    result = class_campaign(campaign_id=campaign_id, wait=False)
    assert isinstance(result, dict)
    assert [(p["network"], p["status"]) for p in result["posts"]] == [("mastodon", "sent")]
    assert len(mastodon.statuses()) == before + 1
    assert not deliveries(sqlite_url, campaign_id)  # no email went out for it
    get_settings.cache_clear()


def test_class_campaign_of_an_unknown_id_fails_with_one_line(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, prefect_api: str
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    state = class_campaign(campaign_id=999, return_state=True)
    assert state.is_failed()
    assert state.message == "no campaign 999: `alumni campaign list` shows the ids"
