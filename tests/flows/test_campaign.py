"""The class-campaign flow end to end: real Prefect (test harness), real SMTP (aiosmtpd).

Exactly-once is checked the hard way: a run killed with SIGKILL mid-send and run again, two
runs started at once, a server that drops the connection and answers 451, and a 550.
"""

from __future__ import annotations

import email
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from prefect.settings import PREFECT_API_URL
from prefect.testing.utilities import prefect_test_harness

from alumni.db import engine_for
from alumni.delivery import ledger
from alumni.models import Campaign, table_of
from alumni.settings import get_settings
from flows.campaign import class_campaign
from tests.factories import add_alumnus, add_campaign, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ["en", "es", "pt-BR", "fr", "de", None]


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at, with fast retries."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_RETRY_DELAYS_SECONDS", "[1, 1, 1, 1]")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def make_class(url: str, size: int, *, year: int = 2016) -> list[str]:
    """A class with `size` reachable alumni in several locales, in a zone where it is day."""
    addresses = []
    for n in range(size):
        address = f"alum{n}@example.org"
        add_alumnus(
            url,
            f"E{n}",
            class_year=year,
            email=address,
            timezone=daytime_zone(),
            locale=LOCALES[n % len(LOCALES)],
            first_name=f"Zoë{n}",
            last_name="Müller",
        )
        addresses.append(address)
    add_alumnus(url, "NOMAIL", class_year=year)
    return addresses


def received(handler: Recorder) -> Counter[str]:
    return Counter(rcpt for message in handler.received for rcpt in message.rcpt_tos)


def run_in_subprocess(campaign_id: int, api: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "alumni.cli.main", "campaign", "run", str(campaign_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_campaign_reaches_everyone_once_and_a_rerun_sends_nothing(
    db_url: str, smtp: Recorder
) -> None:
    addresses = make_class(db_url, 12)
    campaign = add_campaign(db_url)
    report = class_campaign(campaign_id=campaign)
    assert report["outcomes"] == {"sent": 12, "skipped:no_email": 1}
    assert report["status"] == "done"
    assert received(smtp) == Counter(addresses)
    rows = {d.address: d for d in deliveries(db_url, campaign) if d.address}
    for message in smtp.received:
        parsed = email.message_from_bytes(message.content, policy=policy.default)
        (to,) = parsed["To"].addresses
        row = rows[to.addr_spec]
        assert to.display_name.startswith("Zoë") and to.display_name.endswith("Müller")
        assert parsed["Message-ID"] == row.message_id
        assert message.mail_from == f"alumni-bounces+d{row.id}@school.example"
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/unsubscribe/" in parsed["List-Unsubscribe"]
        assert parsed["List-Id"].endswith("<class-2016.school.example>")
        assert parsed.get_content_type() == "multipart/alternative"
        text = parsed.get_body(("plain",)).get_content()
        assert "2016" in text and "Zoë" in text
        assert parsed.get_body(("html",)).get_content().lstrip().startswith("<!DOCTYPE html>")
    languages = {email.message_from_bytes(m.content)["Subject"] for m in smtp.received}
    assert len(languages) >= 4  # en, es, pt-BR, fr (de falls back to en)
    again = class_campaign(campaign_id=campaign)
    assert again["outcomes"] == report["outcomes"]
    assert received(smtp) == Counter(addresses)


def test_a_failing_preflight_sends_nothing_and_names_the_alum(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    spanish = templates / "email" / "reunion" / "es.txt.j2"
    spanish.write_text(spanish.read_text() + "\n{{ alum.nickname }}\n")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    make_class(sqlite_url, 6)
    campaign = add_campaign(sqlite_url)
    with pytest.raises(Exception, match=r"alum\.nickname") as failure:
        class_campaign(campaign_id=campaign)
    spanish_ids = [d.id for d in deliveries(sqlite_url, campaign) if d.locale == "es"]
    assert f"delivery {spanish_ids[0]}" in str(failure.value)
    assert smtp.received == []
    with engine_for(sqlite_url).connect() as connection:
        status, note = connection.execute(
            sa.select(table_of(Campaign).c.status, table_of(Campaign).c.note)
        ).one()
    assert status == "stopped" and "alum.nickname" in note


def test_451_and_a_dropped_connection_still_deliver_everything_once(
    sqlite_url: str, smtp: Recorder
) -> None:
    addresses = make_class(sqlite_url, 10)
    smtp.rcpt_replies["alum3@example.org"] = "451 4.7.1 Greylisted, try again later"
    smtp.drops["alum5@example.org", "rcpt"] = 1  # the connection dies before DATA
    campaign = add_campaign(sqlite_url)

    def stop_greylisting() -> None:
        time.sleep(1.5)
        del smtp.rcpt_replies["alum3@example.org"]

    threading.Thread(target=stop_greylisting).start()
    report = class_campaign(campaign_id=campaign)
    assert report["outcomes"] == {"sent": 10, "skipped:no_email": 1}
    assert received(smtp) == Counter(addresses)
    greylisted = next(d for d in deliveries(sqlite_url, campaign) if d.address == addresses[3])
    assert greylisted.attempts >= 2


def test_a_550_fails_that_alum_only_and_suppresses_the_address(db_url: str, smtp: Recorder) -> None:
    addresses = make_class(db_url, 6)
    smtp.rcpt_replies["alum2@example.org"] = "550 5.1.1 <alum2@example.org>: no such user"
    campaign = add_campaign(db_url)
    report = class_campaign(campaign_id=campaign)
    assert report["outcomes"] == {"sent": 5, "failed": 1, "skipped:no_email": 1}
    assert received(smtp) == Counter(a for a in addresses if a != "alum2@example.org")
    failed = next(d for d in deliveries(db_url, campaign) if d.status == "failed")
    assert "5.1.1" in failed.error
    later = add_campaign(db_url)
    assert class_campaign(campaign_id=later)["outcomes"] == {"sent": 5, "skipped:no_email": 2}


def test_sigkill_mid_send_then_rerun_reaches_everyone_once_bar_the_in_flight(
    sqlite_url: str, smtp: Recorder, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    addresses = make_class(sqlite_url, 150)
    monkeypatch.setenv("ALUMNI_CLAIM_LEASE_SECONDS", "2")
    monkeypatch.setenv("ALUMNI_SEND_BATCH_SIZE", "40")
    get_settings.cache_clear()
    smtp.delay = 0.03  # about 30 messages a second per connection: time to kill it mid-way
    campaign = add_campaign(sqlite_url)
    process = run_in_subprocess(campaign, prefect_api)
    deadline = time.monotonic() + 120
    while len(smtp.received) < 50 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()[0].decode()
    process.send_signal(signal.SIGKILL)
    process.communicate()
    killed_at = len(smtp.received)
    assert 50 <= killed_at < 150
    time.sleep(2.5)  # the dead run's claims expire
    smtp.delay = 0
    report = class_campaign(campaign_id=campaign)
    counts = received(smtp)
    assert set(counts) == set(addresses)  # nobody skipped
    twice = sum(n - 1 for n in counts.values())
    assert report["outcomes"] == {"sent": 150, "skipped:no_email": 1}
    # duplicates are at most the rows in flight at the kill, and the report owns up to them
    assert twice <= report["maybe_duplicates"] <= 40
    assert twice <= 2 * ledger.MAX_UNWRITTEN + 4  # the in-flight bound, 4 connections


def test_two_runs_started_at_once_send_no_duplicates(
    db_url: str, smtp: Recorder, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    addresses = make_class(db_url, 80)
    monkeypatch.setenv("ALUMNI_SEND_BATCH_SIZE", "10")
    get_settings.cache_clear()
    smtp.delay = 0.01
    campaign = add_campaign(db_url)
    runs = [run_in_subprocess(campaign, prefect_api) for _ in range(2)]
    outputs = [run.communicate(timeout=240)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert received(smtp) == Counter(addresses)
    assert all(d.status in ("sent", "skipped") for d in deliveries(db_url, campaign))


def test_the_scheduled_flow_sends_what_has_come_due(sqlite_url: str, smtp: Recorder) -> None:
    from flows.due_campaigns import due_campaigns

    addresses = make_class(sqlite_url, 4)
    smtp.rcpt_replies["alum1@example.org"] = "451 4.7.1 Greylisted, try again later"
    campaign = add_campaign(sqlite_url)
    first = class_campaign(campaign_id=campaign, wait=False)
    assert first["outcomes"] == {"sent": 3, "pending": 1, "skipped:no_email": 1}
    assert first["status"] == "sending"
    del smtp.rcpt_replies["alum1@example.org"]
    time.sleep(1.2)  # ALUMNI_RETRY_DELAYS_SECONDS: the retry is due
    runs = due_campaigns()
    assert runs[campaign]["outcomes"] == {"sent": 4, "skipped:no_email": 1}
    assert runs[campaign]["status"] == "done"
    assert received(smtp) == Counter(addresses)
    assert due_campaigns() == {}


def test_the_flow_waits_for_a_later_group_and_leaves_artifacts(
    sqlite_url: str, smtp: Recorder
) -> None:
    import asyncio
    from datetime import timedelta

    from prefect.client.orchestration import get_client

    from alumni.models import utcnow

    addresses = make_class(sqlite_url, 3)
    campaign = add_campaign(sqlite_url, not_before=utcnow() + timedelta(seconds=3))
    started = time.monotonic()
    report = class_campaign(campaign_id=campaign, wait=True)
    assert time.monotonic() - started >= 2.5  # it waited for the due time
    assert report["outcomes"] == {"sent": 3, "skipped:no_email": 1}
    assert received(smtp) == Counter(addresses)

    async def artifact_keys() -> set[str]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts() if a.key}

    keys = asyncio.run(artifact_keys())
    assert {f"campaign-{campaign}-report", f"campaign-{campaign}-outcomes"} <= keys


def test_a_big_campaign_goes_through_the_worker_processes(
    sqlite_url: str, smtp: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.campaign

    monkeypatch.setattr(flows.campaign, "POOL_THRESHOLD", 5)  # "big" for a quick test
    addresses = make_class(sqlite_url, 24)
    campaign = add_campaign(sqlite_url)
    report = class_campaign(campaign_id=campaign)
    assert report["outcomes"] == {"sent": 24, "skipped:no_email": 1}
    assert received(smtp) == Counter(addresses)
    assert class_campaign(campaign_id=campaign)["outcomes"] == report["outcomes"]
    assert received(smtp) == Counter(addresses)
