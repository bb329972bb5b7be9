"""The class-campaign flow end to end: real Prefect (test harness), real SMTP (aiosmtpd).

Exactly-once is checked the hard way: a run killed with SIGKILL mid-send and run again at once
with the shipped lease, two runs started at once, a slow live batch that a second run must not
take over, a server that drops the connection and answers 451, a 550, and a server that cannot
be reached at all.
"""

from __future__ import annotations

import email
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.delivery import ledger, progress, receipts
from alumni.delivery.report import campaign_report
from alumni.messages.signing import read_return_token
from alumni.models import Campaign, table_of, utcnow
from alumni.settings import get_settings
from flows.campaign import class_campaign
from tests.factories import add_alumnus, add_campaign, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve, free_port

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ["en", "es", "pt-BR", "fr", "de", None]


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


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def run_in_subprocess(
    campaign_id: int, api: str, *, logging: str = "WARNING"
) -> subprocess.Popen[bytes]:
    """``alumni campaign run ID`` as an officer types it."""
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": logging}
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
        local, _, domain = message.mail_from.rpartition("@")
        assert domain == "school.example" and local.startswith("alumni-bounces+")
        token = local.removeprefix("alumni-bounces+")
        assert read_return_token(get_settings().signing_key(), token) == row.id
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


class GreylistOnce(Recorder):
    """Answers 451 to one recipient the first time only, as a greylisting server does."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        self.rcpt_replies[address] = "451 4.7.1 Greylisted, try again later"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = await super().handle_RCPT(server, session, envelope, address, rcpt_options)
        if address == self.address:
            self.rcpt_replies.pop(address, None)  # the retry will pass
        return reply


@pytest.fixture
def greylisting(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> GreylistOnce:
    handler = GreylistOnce("alum3@example.org")
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_RETRY_DELAYS_SECONDS", "[1, 1, 1, 1]")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def test_451_and_a_dropped_connection_still_deliver_everything_once(
    sqlite_url: str, greylisting: GreylistOnce
) -> None:
    smtp = greylisting
    addresses = make_class(sqlite_url, 10)
    smtp.drops["alum5@example.org", "rcpt"] = 1  # the connection dies before DATA
    campaign = add_campaign(sqlite_url)
    report = class_campaign(campaign_id=campaign)
    assert report["outcomes"] == {"sent": 10, "skipped:no_email": 1}
    assert received(smtp) == Counter(addresses)
    greylisted = next(d for d in deliveries(sqlite_url, campaign) if d.address == addresses[3])
    assert greylisted.attempts == 2 and "451" not in (greylisted.error or "")


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


def test_a_rerun_right_after_a_sigkill_finishes_the_campaign_with_the_shipped_lease(
    sqlite_url: str, smtp: Recorder, prefect_api: str
) -> None:
    """The officer's test: 1,322 alumni, the run killed at 541 sent, run again at once."""
    addresses = make_class(sqlite_url, 1322)
    assert get_settings().claim_lease_seconds == 30  # shipped; one batch of 5,000 holds all
    smtp.delay = 0.004  # slow enough to kill it part-way
    campaign = add_campaign(sqlite_url)
    process = run_in_subprocess(campaign, prefect_api)
    wait_for(lambda: len(smtp.received) >= 541 or process.poll() is not None, "541 sent")
    assert process.poll() is None, process.communicate()[0].decode()
    process.send_signal(signal.SIGKILL)
    process.communicate()
    killed_at = len(smtp.received)
    assert 541 <= killed_at < 1322
    smtp.delay = 0

    rerun = run_in_subprocess(campaign, prefect_api, logging="INFO")
    output = rerun.communicate(timeout=300)[0].decode()

    assert rerun.returncode == 0, output
    assert "rows held by another run; waiting for its lease" in output
    counts = received(smtp)
    assert set(counts) == set(addresses)  # nobody left unsent
    twice = sum(n - 1 for n in counts.values())
    # everyone exactly once but for the in-flight bound
    assert twice <= 2 * receipts.MAX_UNWRITTEN + 4  # 4 connections
    with engine_for(sqlite_url).connect() as connection:
        report = campaign_report(connection, campaign)
    assert report.outcomes == {"sent": 1322, "skipped:no_email": 1}
    assert report.status == "done"
    # the report owns up to what was really in flight, not to every row the dead run held
    assert twice <= report.maybe_duplicates <= receipts.IN_FLIGHT_BOUND
    assert report.maybe_duplicates < 1322 - killed_at


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


def test_a_slow_but_live_batch_is_not_taken_over_by_a_second_run(
    sqlite_url: str, smtp: Recorder, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short lease (the pure rule with the shipped one: tests/delivery/test_ledger.py) and a
    # batch that takes several leases to go out: only the heartbeat keeps it.
    addresses = make_class(sqlite_url, 24)
    monkeypatch.setenv("ALUMNI_CLAIM_LEASE_SECONDS", "3")
    get_settings.cache_clear()
    smtp.delay = 1.5  # 24 messages on 4 connections: 9 s, three leases
    campaign = add_campaign(sqlite_url)
    first = run_in_subprocess(campaign, prefect_api)
    wait_for(lambda: len(smtp.received) >= 4 or first.poll() is not None, "the first run to send")
    assert first.poll() is None, first.communicate()[0].decode()

    second = class_campaign(campaign_id=campaign)  # starts while the first run sends

    output = first.communicate(timeout=120)[0].decode()
    assert first.returncode == 0, output
    assert received(smtp) == Counter(addresses)
    assert second["outcomes"] == {"sent": 24, "skipped:no_email": 1}
    assert second["status"] == "done" and second["maybe_duplicates"] == 0
    rows = [d for d in deliveries(sqlite_url, campaign) if d.address]
    assert len({d.claimed_by for d in rows}) == 1  # every row stayed with the first run


def test_an_smtp_server_that_cannot_be_reached_stops_the_run_and_says_why(
    sqlite_url: str, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    port = free_port()  # nothing listens there
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{port}?tls=none")
    get_settings.cache_clear()
    make_class(sqlite_url, 5)
    campaign = add_campaign(sqlite_url)

    run = run_in_subprocess(campaign, prefect_api, logging="INFO")
    output = run.communicate(timeout=120)[0].decode()

    assert run.returncode != 0
    server = f"SMTP server 127.0.0.1:{port}"
    (said,) = [line for line in output.splitlines() if line.startswith("error: ")]
    assert said.startswith(f"error: campaign {campaign} did not finish: ")
    assert server in said and "Connection refused" in said
    rows = [d for d in deliveries(sqlite_url, campaign) if d.address]
    assert [(d.status, d.attempts) for d in rows] == [("pending", 0)] * 5
    with engine_for(sqlite_url).connect() as connection:
        report = campaign_report(connection, campaign)
    assert report.note is not None and server in report.note
    assert report.outcomes == {"pending": 5, "skipped:no_email": 1}

    async def last_state() -> Any:
        async with get_client() as client:
            # run names say what a run is, so each test's campaign 1 shares one: the latest
            (flow_run,) = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[run_name])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=1,
            )
            return flow_run.state

    run_name = next(
        line.split("'")[1] for line in output.splitlines() if "Beginning flow run" in line
    )
    assert run_name == f"campaign-{campaign} class of 2016 reunion"
    state = asyncio.run(last_state())
    assert state.is_failed() and server in (state.message or "")
    assert state.name == "Misconfigured"
    assert output.count("Traceback") <= 1  # Prefect's own for the task; none from the flow

    from typer.testing import CliRunner

    from alumni.cli.main import app

    status = CliRunner().invoke(app, ["campaign", "status", str(campaign)])
    assert status.exit_code == 0 and server in status.output


def test_the_scheduled_flow_sends_what_has_come_due(sqlite_url: str, smtp: Recorder) -> None:
    from flows.due_campaigns import due_campaigns

    addresses = make_class(sqlite_url, 4)
    smtp.rcpt_replies["alum1@example.org"] = "451 4.7.1 Greylisted, try again later"
    campaign = add_campaign(sqlite_url)
    first = class_campaign(campaign_id=campaign, wait=False)
    assert first["outcomes"] == {"sent": 3, "pending": 1, "skipped:no_email": 1}
    assert first["status"] == "sending"
    del smtp.rcpt_replies["alum1@example.org"]

    def retry_due() -> bool:  # ALUMNI_RETRY_DELAYS_SECONDS: after a second
        return campaign in progress.due_campaigns(
            engine_for(sqlite_url),
            ledger.DELIVERIES,
            kinds=("email",),
            now=utcnow(),
            lease=timedelta(seconds=30),
        )

    wait_for(retry_due, "the retry to come due")
    runs = due_campaigns()
    assert runs[campaign]["outcomes"] == {"sent": 4, "skipped:no_email": 1}
    assert runs[campaign]["status"] == "done"
    assert received(smtp) == Counter(addresses)
    assert due_campaigns() == {}


def test_the_flow_waits_for_a_later_group_and_leaves_artifacts(
    sqlite_url: str, smtp: Recorder
) -> None:
    import asyncio

    from prefect.client.orchestration import get_client

    addresses = make_class(sqlite_url, 3)
    not_before = utcnow() + timedelta(seconds=3)
    campaign = add_campaign(sqlite_url, not_before=not_before)
    report = class_campaign(campaign_id=campaign, wait=True)
    assert report["outcomes"] == {"sent": 3, "skipped:no_email": 1}
    # it waited for the due time: nothing went out before it
    assert all(d.sent_at >= not_before for d in deliveries(sqlite_url, campaign) if d.address)
    assert received(smtp) == Counter(addresses)

    async def artifact_keys() -> set[str]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts() if a.key}

    keys = asyncio.run(artifact_keys())
    assert {f"campaign-{campaign}-report", f"campaign-{campaign}-outcomes"} <= keys


def test_a_big_campaign_goes_through_the_worker_processes(
    sqlite_url: str, smtp: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alumni.delivery import batches

    monkeypatch.setattr(batches, "POOL_THRESHOLD", 5)  # "big" for a quick test
    addresses = make_class(sqlite_url, 24)
    campaign = add_campaign(sqlite_url)
    report = class_campaign(campaign_id=campaign)
    assert report["outcomes"] == {"sent": 24, "skipped:no_email": 1}
    assert received(smtp) == Counter(addresses)
    assert class_campaign(campaign_id=campaign)["outcomes"] == report["outcomes"]
    assert received(smtp) == Counter(addresses)
