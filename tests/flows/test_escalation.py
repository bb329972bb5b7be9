"""The escalation ladder and the owners' digest end to end: the real flows on Prefect's test
server, a real SMTP server (aiosmtpd) and a local HTTP receiver for the desk's chat webhook.

Rungs fire once each through a rerun, two runs at once (two ``alumni escalate`` processes) and
a catch-up after a day of downtime (``--as-of`` a day back, then now). The welfare request's
summary and note are searched for in every email, webhook payload, Prefect event, log line
(pytest's caplog and the flow runs' logs read back from the server) and the artifact, and never
found. The Prefect events are read back from the server's events API (``/events/filter``).

Time: the requests are opened relative to the machine's clock, far enough from any rung that a
run a minute later sees the same ladder: a question opened 30 days ago (every rung of its first
response and resolution has fallen due, whatever the weekday) and a welfare request opened 26
and a half hours ago (24 hours, any day: reminded at 18 h, breached at 24 h, the director at
26 h with the second hourly rung; the third is half an hour away).
"""

from __future__ import annotations

import asyncio
import email
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
import yaml
from prefect.utilities.templating import apply_values
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.models import OfficeNotice, Request, table_of, utcnow
from alumni.requests import desk
from alumni.requests.types import load_request_types
from alumni.settings import get_settings
from flows.escalation import desk_digest, escalation
from tests.factories import add_alumnus
from tests.prefect_reads import latest_artifact
from tests.smtp_server import Recorder, Serve

if TYPE_CHECKING:
    from tests.social_servers import WebhookReceiver

pytest_plugins = ("tests.social_servers",)
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
LEAD, DIRECTOR = "lead@school.example.org", "director@school.example.org"
CARER = "carer@school.example.org"
SECRET = "Ana sleeps in her car since the flood"  # the welfare request's summary
SECRET_NOTE = "her brother threatened her"  # an internal note on it
QUESTION = "Can I get my 2009 transcript in English"
_N = table_of(OfficeNotice)
_Q = table_of(Request)


@pytest.fixture
def office(
    db_url: str,
    serve: Serve,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
) -> Iterator[Office]:
    """A desk in London with a lead, a director, the chat webhook and a real SMTP server; a
    question nobody owns opened 30 days ago and a welfare request opened 26.5 hours ago."""
    smtp = Recorder()
    controller = serve(smtp)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example.org>")
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", "Europe/London")
    monkeypatch.setenv("ALUMNI_DESK_LEAD", LEAD)
    monkeypatch.setenv("ALUMNI_DESK_DIRECTOR", DIRECTOR)
    monkeypatch.setenv("ALUMNI_DESK_WEBHOOK_URL", webhook_receiver.url("/hook"))
    monkeypatch.setenv("ALUMNI_DESK_WEBHOOK_STYLE", "slack")
    monkeypatch.setenv("ALUMNI_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    started = now = utcnow()
    question = open_request(db_url, "question", QUESTION, now - timedelta(days=30), None)
    welfare = open_request(db_url, "welfare", SECRET, now - timedelta(hours=26.5), CARER)
    with write_transaction(engine_for(db_url)) as connection:
        desk.add_note(
            connection, welfare, text=SECRET_NOTE, to_alum=False, actor=CARER, now=utcnow()
        )
    yield Office(
        db_url, smtp, webhook_receiver, len(webhook_receiver.received), question, welfare, started
    )
    get_settings.cache_clear()


class Office:
    def __init__(
        self,
        url: str,
        smtp: Recorder,
        hooks: WebhookReceiver,
        hooks_before: int,
        question: int,
        welfare: int,
        started: datetime,
    ) -> None:
        self.url = url
        self.smtp = smtp
        self.hooks = hooks
        self.hooks_before = hooks_before
        self.question = question
        self.welfare = welfare
        self.started = started  # events of this test occur after it

    def mails(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(m.content, policy=policy.default)  # type: ignore[misc]
            for m in self.smtp.received
        ]

    def recipients(self) -> Counter[str]:
        return Counter(rcpt for m in self.smtp.received for rcpt in m.rcpt_tos)

    def payloads(self) -> list[dict[str, Any]]:
        return [hook.json() for hook in self.hooks.received[self.hooks_before :]]

    def notice_rows(self) -> list[Any]:
        with engine_for(self.url).connect() as connection:
            return list(connection.execute(sa.select(_N).order_by(_N.c.id)))


def open_request(url: str, type: str, summary: str, opened_at: datetime, owner: str | None) -> int:
    alumnus = add_alumnus(url, f"A-{type}", email=f"{type}@example.org")
    with write_transaction(engine_for(url)) as connection:
        return desk.open_request(
            connection,
            type=type,
            alumnus_id=alumnus,
            summary=summary,
            source="officer",
            opened_at=opened_at,
            now=utcnow(),
            actor="officer@school.example.org",
            owner=owner,
            types=load_request_types(),
        )


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def readable(message: EmailMessage) -> str:
    """Every header and the decoded text of a message: all a reader could see."""
    body = message.get_body(("plain",))
    assert body is not None
    return "\n".join([*(f"{k}: {v}" for k, v in message.items()), body.get_content()])


def no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and SECRET_NOTE not in text


# What fires for the two requests at the start of each test: the question's six rungs (to
# the lead: it has no owner) and the welfare request's four.
FIRST_RUNGS = [
    ("question", "first_response", "reminder"),
    ("question", "first_response", "lead"),
    ("question", "first_response", "director"),
    ("question", "resolution", "reminder"),
    ("question", "resolution", "lead"),
    ("question", "resolution", "director"),
    ("welfare", "first_response", "reminder"),
    ("welfare", "first_response", "lead"),
    ("welfare", "first_response", "director"),
    ("welfare", "first_response", "repeat-2"),
]
FIRST_MAILS = Counter({LEAD: 4 + 2, DIRECTOR: 2 + 1, CARER: 1})


def fired(office: Office, summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    name = {office.question: "question", office.welfare: "welfare"}
    return sorted((name[r["request_id"]], r["deadline_kind"], r["rung"]) for r in summary["fired"])


# --- Prefect's API, read back ------------------------------------------------------------------


async def _events(resource_prefix: str, since: datetime) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventResourceFilter,
    )

    async with get_client() as client:
        page = await client.read_events(
            filter=EventFilter(
                occurred=EventOccurredFilter(since=since, until=utcnow() + timedelta(hours=1)),
                event=EventNameFilter(prefix=["alumni."]),
                resource=EventResourceFilter(id_prefix=[resource_prefix]),
            ),
            limit=50,
        )
        return list(page.events)


def events(office: Office, prefix: str = "alumni.request.") -> list[Any]:
    return asyncio.run(_events(prefix, office.started))


async def _logs(flow_run_ids: list[uuid.UUID]) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async with get_client() as client:
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=flow_run_ids))
        )
    return [log.message for log in logs]


def emit_marker(office: Office) -> str:
    """Emit an event after the others from this process; once the server has it, the events
    emitted before it have arrived too (one worker sends them in order)."""
    from prefect.events import emit_event

    marker = f"alumni.test-marker.{uuid.uuid4().hex}"
    emit_event(event="alumni.test.marker", resource={"prefect.resource.id": marker})
    wait_for(lambda: len(events(office, marker)) == 1, "the marker event")
    return marker


# --- The tests --------------------------------------------------------------------------------


def test_each_rung_fires_once_and_welfare_content_is_nowhere(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = escalation(return_state=True)
    assert first.is_completed(), first.message
    summary = first.result()
    assert fired(office, summary) == sorted(FIRST_RUNGS)
    assert summary["sent"] == 10 + 10 + 10  # emails, chat messages, events
    assert office.recipients() == FIRST_MAILS
    assert len({m["Message-ID"] for m in office.mails()}) == 10
    payloads = office.payloads()
    assert len(payloads) == 10 and all(set(p) == {"text"} for p in payloads)  # slack style
    wait_for(lambda: len(events(office)) == 10, "the ten events")
    breached = [e for e in events(office) if e.event == "alumni.request.sla-breached"]
    assert len(breached) == 7  # all but the three reminders (alumni.request.sla-warning)
    assert {e.resource.id for e in breached} == {
        f"alumni.request.{office.question}",
        f"alumni.request.{office.welfare}",
    }
    welfare_events = [e for e in breached if e.resource.id == f"alumni.request.{office.welfare}"]
    assert {e.payload["type"] for e in welfare_events} == {"welfare"}
    assert {e.payload["owner"] for e in welfare_events} == {CARER}

    again = escalation(return_state=True)
    assert again.result()["fired"] == [] and again.result()["sent"] == 0
    assert office.recipients() == FIRST_MAILS
    assert len(office.payloads()) == 10
    emit_marker(office)
    assert len(events(office)) == 10

    rows = office.notice_rows()
    assert len(rows) == 30 and {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}
    with engine_for(office.url).connect() as connection:
        levels = dict(connection.execute(sa.select(_Q.c.id, _Q.c.escalation_level)).all())
    assert levels == {office.question: 3, office.welfare: 3 + 2}

    # The welfare request's words are nowhere: emails, chat, events, logs, the artifact.
    texts = [readable(m) for m in office.mails()]
    no_secret(*texts)
    assert any(QUESTION in text for text in texts)  # a question's summary may reach officers
    no_secret(*(json.dumps(p) for p in office.payloads()))
    no_secret(*(e.model_dump_json() for e in events(office)))
    no_secret(*(record.getMessage() for record in caplog.records))
    run_ids = [first.state_details.flow_run_id, again.state_details.flow_run_id]
    logs: list[str] = []

    def logged() -> bool:
        logs[:] = asyncio.run(_logs([r for r in run_ids if r is not None]))
        # each run says it once (and Prefect repeats it in its "Finished in state" line)
        return sum(line.startswith("as of ") and "rung(s) fired" in line for line in logs) == 2

    wait_for(logged, "the flow runs' logs")
    assert any(f"request {office.welfare}: repeat-2" in line for line in logs)
    no_secret(*logs)
    artifact = latest_artifact("request-desk")
    no_secret(artifact)
    assert "**breached**" in artifact and f"| {office.welfare} | welfare | {CARER} |" in artifact
    assert QUESTION not in artifact  # no summaries at all


def test_two_runs_at_once_send_each_rung_once(office: Office, prefect_api: str) -> None:
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "alumni.cli.main", "escalate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [int(re.search(r"(\d+) rung\(s\) fired", out)[1]) for out in outputs]  # type: ignore[index]
    assert sum(counts) == 10  # each rung fired by one of them
    assert office.recipients() == FIRST_MAILS
    assert len(office.payloads()) == 10
    rows = office.notice_rows()
    assert len(rows) == 30 and {r.status for r in rows} == {"sent"}
    assert not any(r.maybe_duplicate for r in rows)


def test_a_catch_up_after_a_day_of_downtime_fires_what_fell_due_once_in_order(
    office: Office,
) -> None:
    day_ago = (utcnow() - timedelta(days=1)).isoformat()
    result = runner.invoke(app, ["escalate", "--as-of", day_ago])
    assert result.exit_code == 0, result.output
    # A day ago the welfare request was 2.5 hours old; the question was 29 days old.
    assert "6 rung(s) fired" in result.output
    assert office.recipients() == Counter({LEAD: 4, DIRECTOR: 2})
    before = len(office.notice_rows())

    result = runner.invoke(app, ["escalate"])
    assert result.exit_code == 0, result.output
    assert "4 rung(s) fired" in result.output
    assert office.recipients() == FIRST_MAILS
    caught_up = office.notice_rows()[before:]
    # Planned in the order they fell due: the reminder, the breach, the director and one
    # hourly rung (the second; the first is superseded by it).
    order = list(dict.fromkeys(r.rung for r in caught_up))
    assert order == ["reminder", "lead", "director", "repeat-2"]
    assert [r.due_at for r in caught_up] == sorted(r.due_at for r in caught_up)

    result = runner.invoke(app, ["escalate"])
    assert "0 rung(s) fired" in result.output
    assert office.recipients() == FIRST_MAILS
    assert len(office.payloads()) == 10


def test_an_as_of_in_the_future_is_refused_and_changes_nothing(office: Office) -> None:
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    result = runner.invoke(app, ["escalate", "--as-of", tomorrow])
    assert result.exit_code == 1
    assert "is in the future" in result.output and "nothing was done" in result.output
    assert office.notice_rows() == [] and office.smtp.received == []


def test_each_owner_gets_one_digest_a_day(office: Office) -> None:
    result = runner.invoke(app, ["request", "digest"])
    assert result.exit_code == 0, result.output
    assert "2 digest(s) planned" in result.output
    digests = {m["To"]: readable(m) for m in office.mails()}
    assert set(digests) == {CARER, LEAD}  # the question has no owner: the lead's digest
    assert f"#{office.welfare} Welfare" in digests[CARER]
    assert f"#{office.question} Question [no owner: assign it]" in digests[LEAD]
    assert QUESTION in digests[LEAD]
    no_secret(*digests.values())
    result = runner.invoke(app, ["request", "digest"])
    assert "0 digest(s) planned" in result.output
    assert len(office.smtp.received) == 2
    assert desk_digest()["planned"] == 0


def test_the_desks_deployments_run_in_the_offices_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALUMNI_OFFICE_TIMEZONE", "America/Sao_Paulo")
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    resolved = apply_values(
        {d["name"]: d for d in deployments}, dict(os.environ), remove_notset=False
    )
    assert resolved["desk-digest"]["schedules"] == [
        {"cron": "0 8 * * 1-5", "timezone": "America/Sao_Paulo"}
    ]
    assert resolved["escalation"]["schedules"] == [
        {"cron": "*/15 * * * *", "timezone": "America/Sao_Paulo"}
    ]
