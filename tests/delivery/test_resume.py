"""Stopped is stopped, and a stopped campaign can be resumed (``alumni campaign resume ID``).

The rule without Prefect first (``progress.refuse_stopped``, ``start_sending``, ``set_status``,
``campaigns.resume``), then the officer's path through the command line: a campaign stopped
by its preflight is fixed and resumed, resumed while still broken, and resumed when it is not
stopped; real Prefect (the session's server) and a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.delivery import campaigns, ledger, planning, progress
from alumni.models import Campaign, CampaignStatus, Delivery, table_of, utcnow
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, daytime_zone
from tests.smtp_server import Recorder, Serve

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = planning.PlanOptions(message_id_domain="school.example")
LEASE = timedelta(seconds=30)  # shipped (ALUMNI_CLAIM_LEASE_SECONDS)
runner = CliRunner()


def status_of(url: str, campaign_id: int) -> tuple[str, str | None]:
    c = table_of(Campaign)
    with engine_for(url).connect() as connection:
        row = connection.execute(sa.select(c.c.status, c.c.note).where(c.c.id == campaign_id))
        status, note = row.one()
    return str(status), note


def test_a_stopped_campaign_stays_stopped_whatever_a_run_says_later(db_url: str) -> None:
    engine = engine_for(db_url)
    campaign = add_campaign(db_url, status="stopped", note="preflight failed: x")
    # what a run that lost its SMTP server writes, or a run about to send
    campaigns.set_status(engine, campaign, CampaignStatus.sending, "the last run stopped: y")
    assert status_of(db_url, campaign) == ("stopped", "preflight failed: x")
    with pytest.raises(progress.CampaignStopped, match=r"resume \d+"):
        progress.start_sending(engine, campaign)
    with engine.connect() as connection, pytest.raises(progress.CampaignStopped) as refused:
        progress.refuse_stopped(connection, campaign)
    assert str(refused.value) == (
        f"campaign {campaign} is stopped (preflight failed: x); nothing was sent: fix that, "
        f"then `alumni campaign resume {campaign}`"
    )
    assert status_of(db_url, campaign) == ("stopped", "preflight failed: x")


def test_resume_runs_the_preflight_while_still_stopped_and_reopens_only_when_it_passes(
    db_url: str,
) -> None:
    engine = engine_for(db_url)
    add_alumnus(db_url, "A", email="a@example.org", timezone=daytime_zone())
    campaign = add_campaign(db_url)
    planning.plan(engine, campaign, now=utcnow(), options=OPTIONS)
    campaigns.set_status(engine, campaign, CampaignStatus.stopped, "preflight failed: x")
    seen: list[tuple[str, str | None]] = []

    def failing() -> None:
        seen.append(status_of(db_url, campaign))
        raise ValueError("still broken")

    with pytest.raises(ValueError, match="still broken"):
        campaigns.resume(engine, campaign, failing)
    assert seen == [("stopped", "preflight failed: x")]  # no scheduled run could send meanwhile
    assert status_of(db_url, campaign) == ("stopped", "preflight failed: x")
    due = progress.due_campaigns(
        engine, ledger.DELIVERIES, kinds=("email",), now=utcnow(), lease=LEASE
    )
    assert campaign not in due

    campaigns.resume(engine, campaign, lambda: seen.append(status_of(db_url, campaign)))
    assert status_of(db_url, campaign) == ("planned", None)
    due = progress.due_campaigns(
        engine, ledger.DELIVERIES, kinds=("email",), now=utcnow(), lease=LEASE
    )
    assert campaign in due
    with pytest.raises(campaigns.NotStopped, match="it is planned"):
        campaigns.resume(engine, campaign, failing)
    assert status_of(db_url, campaign) == ("planned", None)


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def received(handler: Recorder) -> Counter[str]:
    return Counter(rcpt for message in handler.received for rcpt in message.rcpt_tos)


def stopped_by_its_preflight(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> tuple[int, Path, str]:
    """A class of ``size``, a campaign whose English text misspells a variable, run once:
    stopped. Returns the campaign, the broken file and its good text."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    english = templates / "email" / "reunion" / "en.txt.j2"
    good = english.read_text()
    english.write_text(good + "\n{{ alum.frist_name }}\n")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    for n in range(size):
        add_alumnus(url, f"E{n}", email=f"alum{n}@example.org", timezone=daytime_zone())
    campaign = add_campaign(url)
    run = runner.invoke(app, ["campaign", "run", str(campaign)])
    assert run.exit_code == 1, run.output
    assert status_of(url, campaign)[0] == "stopped"
    return campaign, english, good


def test_resume_after_the_fix_sends_everyone_once(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, english, good = stopped_by_its_preflight(sqlite_url, tmp_path, monkeypatch, 4)
    assert smtp.received == []
    english.write_text(good)  # the officer fixes the template

    result = runner.invoke(app, ["campaign", "resume", str(campaign)])

    assert result.exit_code == 0, result.output
    assert f"campaign {campaign} resumed" in result.output
    assert received(smtp) == Counter(f"alum{n}@example.org" for n in range(4))
    assert status_of(sqlite_url, campaign) == ("done", None)
    # resuming what is not stopped says so and changes nothing
    again = runner.invoke(app, ["campaign", "resume", str(campaign)])
    assert again.exit_code == 1
    assert f"campaign {campaign} is not stopped (it is done): nothing to resume" in again.output
    assert len(smtp.received) == 4 and status_of(sqlite_url, campaign) == ("done", None)


def test_resume_while_still_broken_stays_stopped_with_the_grouped_report(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, _, _ = stopped_by_its_preflight(sqlite_url, tmp_path, monkeypatch, 6)

    result = runner.invoke(app, ["campaign", "resume", str(campaign)])

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0] == (
        f"campaign {campaign} stays stopped: 6 of 6 recipients could not be rendered"
    )
    assert lines[1].startswith("  6 recipients: template email/reunion/en.txt.j2: variable")
    assert lines[2] == f"error: fix the template(s) above, then `alumni campaign resume {campaign}`"
    assert len(lines) == 3  # one line per cause, not one per recipient
    assert smtp.received == []
    status, note = status_of(sqlite_url, campaign)
    assert status == "stopped" and note is not None and len(note.splitlines()) == 2
    d = table_of(Delivery)
    with engine_for(sqlite_url).connect() as connection:
        statuses = set(
            connection.execute(sa.select(d.c.status).where(d.c.campaign_id == campaign)).scalars()
        )
    assert statuses == {"pending"}


def test_the_scheduled_flows_send_nothing_of_a_stopped_campaign(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.due_campaigns import due_campaigns
    from flows.event_invites import event_reminders

    campaign, _, _ = stopped_by_its_preflight(sqlite_url, tmp_path, monkeypatch, 3)
    engine = engine_for(sqlite_url)
    # another run had set it going; a later run must not undo the stop
    campaigns.set_status(engine, campaign, CampaignStatus.sending)

    states: list[Any] = [
        due_campaigns(return_state=True),
        event_reminders(return_state=True),
    ]

    assert [s.message for s in states] == ["nothing due", "nothing due"]
    assert smtp.received == []
    assert status_of(sqlite_url, campaign)[0] == "stopped"


def test_event_reminders_pass_over_a_stopped_mailing_and_send_nothing_of_it(
    sqlite_url: str, smtp: Recorder
) -> None:
    from alumni.events.mailings import mailing_campaign, plan_mailing
    from alumni.events.schedule import create_event
    from flows.event_invites import event_mailing, event_reminders

    engine = engine_for(sqlite_url)
    for n in range(2):
        add_alumnus(sqlite_url, f"E{n}", email=f"alum{n}@example.org", timezone=daytime_zone())
    event_id = create_event(
        engine,
        class_year=2016,
        title="Class of 2016 summer evening",
        starts_at=(utcnow() + timedelta(days=3)).replace(second=0, microsecond=0),
        tz="Europe/London",
        country="GB",
        place="The Old Library",
        now=utcnow(),
    )
    assert event_mailing(event_id=event_id, key="invite")["outcomes"] == {"sent": 2}
    # the reminder's preflight failed in an earlier run: it is stopped with rows due
    plan_mailing(engine, event_id, "reminder-7", now=utcnow(), options=OPTIONS)
    reminder, _ = mailing_campaign(engine, event_id, "reminder-7", now=utcnow())
    campaigns.set_status(engine, reminder, CampaignStatus.stopped, "preflight failed: x")

    state = event_reminders(return_state=True)

    # the run goes on for the other events (it used to fail on the stopped one every time)
    assert state.is_completed() and state.message == "nothing due"
    assert len(smtp.received) == 2  # the invites only
    assert status_of(sqlite_url, reminder) == ("stopped", "preflight failed: x")
    refused = event_mailing(event_id=event_id, key="reminder-7", return_state=True)
    assert refused.is_failed() and f"campaign {reminder} was stopped" in (refused.message or "")
    assert len(smtp.received) == 2
