"""The Prefect UI as an officer reads it: run names, state messages in words, progress that
ends at what was done, artifacts with descriptions (and the class's latest report), and a
failed run's report with the one-line cause first. Everything is read back through a real
Prefect server's API (the session's ``prefect_api``), as the UI reads it; mail goes to a real
SMTP server (aiosmtpd).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery import planning
from alumni.models import Alumnus, Campaign, Delivery, table_of, utcnow
from alumni.settings import get_settings
from flows.campaign import class_campaign
from flows.due_campaigns import due_campaigns
from tests.factories import add_alumnus, add_campaign, daytime_zone
from tests.smtp_server import Recorder, Serve

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = planning.PlanOptions(message_id_domain="school.example")


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def night_zone() -> str:
    """An IANA zone where it is about midnight now: mail waits for 08:00 there."""
    hour = utcnow().hour
    offset = (0 - hour + 12) % 24 - 12
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def add_class(url: str, *, day: int, night: int = 0, year: int = 2016) -> None:
    for n in range(day):
        add_alumnus(
            url,
            f"D{year}-{n}",
            class_year=year,
            email=f"d{year}.{n}@example.org",
            timezone=daytime_zone(),
        )
    for n in range(night):
        add_alumnus(
            url,
            f"N{year}-{n}",
            class_year=year,
            email=f"n{year}.{n}@example.org",
            timezone=night_zone(),
        )


def broken_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str) -> Path:
    """A copy of the templates whose English text part also prints ``line``."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    english = templates / "email" / "reunion" / "en.txt.j2"
    english.write_text(english.read_text() + f"\n{line}\n")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    return english


async def _runs(flow_name: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        return await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        )


async def _children(parent: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    async with get_client() as client:
        return await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])
            )
        )


async def _task_names(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [run.name for run in runs]


async def _artifacts_of(flow_run_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        return await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


async def _latest_artifact(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        return await client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )


def latest_run(flow_name: str) -> Any:
    return asyncio.run(_runs(flow_name))[0]


def first_due(url: str, campaign_id: int) -> Any:
    d = table_of(Delivery)
    with engine_for(url).connect() as connection:
        return connection.execute(
            sa.select(sa.func.min(d.c.due_at)).where(
                d.c.campaign_id == campaign_id, d.c.status == "pending"
            )
        ).scalar_one()


def test_a_run_that_leaves_alumni_for_their_morning_says_so_and_its_artifacts_say_what_they_are(
    sqlite_url: str, smtp: Recorder
) -> None:
    add_class(sqlite_url, day=3, night=2)
    add_alumnus(sqlite_url, "NOMAIL")
    campaign = add_campaign(sqlite_url)

    state = class_campaign(campaign_id=campaign, wait=False, return_state=True)

    assert len(smtp.received) == 3
    # the state: green, with what happened in words; its data the report as before
    assert state.is_completed()
    report = state.result()
    assert report["outcomes"] == {"sent": 3, "pending": 2, "skipped:no_email": 1}
    due = first_due(sqlite_url, campaign)
    assert state.message == (
        "3 sent, 2 wait for their local morning (no mail at night): due-campaigns sends them "
        f"from {due:%Y-%m-%d %H:%M} UTC; skipped: 1 no email"
    )
    # the run is named for its campaign, its batch for the campaign and its number
    run = latest_run("class-campaign")
    assert run.name == f"campaign-{campaign} class of 2016 reunion"
    assert run.state.message == state.message
    assert f"send-batch campaign-{campaign} #1" in asyncio.run(_task_names(run.id))
    # every artifact says what it is; the progress ends at what was done: 3 of 5
    artifacts = asyncio.run(_artifacts_of(run.id))
    assert all(a.description for a in artifacts)
    (bar,) = [a for a in artifacts if a.type == "progress"]
    assert bar.data == pytest.approx(60.0)
    assert bar.description.startswith(f"campaign {campaign}: 3 of 5 answered; 3 sent, 2 wait")
    keys = {a.key for a in artifacts}
    assert {
        f"campaign-{campaign}-report",
        f"campaign-{campaign}-outcomes",
        "class-2016-latest-report",
    } <= keys
    latest = asyncio.run(_latest_artifact("class-2016-latest-report"))
    assert latest[0].description.startswith(
        f"The latest campaign report of the class of 2016: campaign {campaign} "
    )


def test_a_finished_run_ends_its_progress_at_100(sqlite_url: str, smtp: Recorder) -> None:
    add_class(sqlite_url, day=4)
    campaign = add_campaign(sqlite_url)

    state = class_campaign(campaign_id=campaign, return_state=True)

    assert state.message == "4 sent"
    run = latest_run("class-campaign")
    (bar,) = [a for a in asyncio.run(_artifacts_of(run.id)) if a.type == "progress"]
    assert bar.data == pytest.approx(100.0)
    assert bar.description == f"campaign {campaign}: 4 of 4 answered; done"


def test_due_campaigns_is_named_for_its_minute_and_its_subflows_for_their_campaigns(
    sqlite_url: str, smtp: Recorder
) -> None:
    campaigns = {}
    for year, size in ((2016, 2), (2017, 1), (2018, 3)):
        add_class(sqlite_url, day=size, year=year)
        campaigns[year] = add_campaign(sqlite_url, class_year=year)
        planning.plan(engine_for(sqlite_url), campaigns[year], now=utcnow(), options=OPTIONS)

    state = due_campaigns(return_state=True)

    assert state.is_completed()
    assert state.message == "; ".join(
        f"campaign {campaigns[year]}: {sent} sent"
        for year, sent in ((2016, 2), (2017, 1), (2018, 3))
    )
    parent = latest_run("due-campaigns")
    assert re.fullmatch(r"due-campaigns \d{4}-\d\d-\d\d \d\d:\d\d", parent.name)
    names = sorted(run.name for run in asyncio.run(_children(parent.id)))
    assert names == [f"campaign-{campaigns[y]} class of {y} reunion" for y in (2016, 2017, 2018)]
    # nothing left: said so
    again = due_campaigns(return_state=True)
    assert again.message == "nothing due" and again.result() == {}


def test_a_preflight_failing_for_everyone_fails_the_run_with_one_line_and_a_report(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from alumni.cli.main import app

    broken_templates(tmp_path, monkeypatch, "{{ alum.frist_name }}")
    add_class(sqlite_url, day=5)
    campaign = add_campaign(sqlite_url)

    state = class_campaign(campaign_id=campaign, return_state=True)

    assert state.is_failed() and smtp.received == []
    first = min(d.id for d in _deliveries(sqlite_url, campaign))
    cause = (
        f"campaign {campaign}: preflight failed: 5 of 5 recipients could not be rendered: "
        "5 recipients: template email/reunion/en.txt.j2: variable 'alum.frist_name' is "
        "undefined; add it to the context or remove it from the template "
        f"(e.g. delivery {first})"
    )
    assert state.message == cause
    run = latest_run("class-campaign")
    assert run.state.message == cause
    (report,) = asyncio.run(_latest_artifact(f"campaign-{campaign}-failure"))
    assert report.description == f"Why this run failed: {cause}"
    markdown = str(report.data)
    assert markdown.startswith(f"# Failed: {cause}\n")
    assert f"alumni campaign resume {campaign}" in markdown
    assert "| 5 | `email/reunion/en.txt.j2` |" in markdown
    assert "Traceback" not in markdown and 'File "' not in markdown
    # the campaign's note and the command line: one line per cause, not per recipient
    with engine_for(sqlite_url).connect() as connection:
        note = connection.execute(
            sa.select(table_of(Campaign).c.note).where(table_of(Campaign).c.id == campaign)
        ).scalar_one()
    assert note.splitlines() == [
        "preflight failed: 5 of 5 recipients could not be rendered; fix these and run the "
        "preflight again:",
        "  " + cause.split("could not be rendered: ", 1)[1],
    ]
    status = CliRunner().invoke(app, ["campaign", "status", str(campaign)])
    assert status.output.count("alum.frist_name") == 1


def test_a_none_for_some_recipients_is_one_line_with_their_number(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_templates(tmp_path, monkeypatch, "{{ alum.city }}")
    add_class(sqlite_url, day=5)
    a = table_of(Alumnus)
    with write_transaction(engine_for(sqlite_url)) as connection:
        # three know their city; two do not (None would print as "None")
        connection.execute(
            sa.update(a)
            .where(a.c.external_id.in_(["D2016-1", "D2016-3", "D2016-4"]))
            .values(city="Lisbon")
        )
    campaign = add_campaign(sqlite_url)

    state = class_campaign(campaign_id=campaign, return_state=True)

    assert state.is_failed() and smtp.received == []
    assert "\n" not in (state.message or "")
    assert state.message.startswith(
        f"campaign {campaign}: preflight failed: 2 of 5 recipients could not be rendered: "
        "2 recipients: template email/reunion/en.txt.j2: alum.city is None"
    )
    (report,) = asyncio.run(_latest_artifact(f"campaign-{campaign}-failure"))
    assert "| 2 | `email/reunion/en.txt.j2` | alum.city is None" in str(report.data)


def test_a_stopped_campaign_is_refused_with_how_to_resume_it(
    sqlite_url: str, smtp: Recorder
) -> None:
    add_class(sqlite_url, day=2)
    campaign = add_campaign(sqlite_url, status="stopped", note="preflight failed: it broke")

    state = class_campaign(campaign_id=campaign, return_state=True)

    assert state.is_failed() and smtp.received == []
    assert state.message == (
        f"campaign {campaign} is stopped (preflight failed: it broke); nothing was sent: fix "
        f"that, then `alumni campaign resume {campaign}`"
    )
    assert _deliveries(sqlite_url, campaign) == []  # not even planned


def _deliveries(url: str, campaign_id: int) -> list[Any]:
    d = table_of(Delivery)
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(d).where(d.c.campaign_id == campaign_id)))
