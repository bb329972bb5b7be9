"""Typed blasts: the domain (alumni.delivery.blasts) on SQLite and PostgreSQL, the ``blast``
flow on the session's real Prefect server with a real SMTP server (aiosmtpd), and
``alumni blast`` as an officer types it.

The dry run's promise is checked the hard way: after it, the database holds no campaign and no
delivery, and the scheduled ``due-campaigns`` flow sends nothing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.delivery import blasts
from alumni.delivery.blasts import Blast, BlastChannel, SendTime, When
from alumni.models import Campaign, Delivery, Purpose, SocialPost, table_of, utcnow
from alumni.settings import get_settings
from tests.factories import add_alumnus, daytime_zone
from tests.smtp_server import Recorder, Serve

if TYPE_CHECKING:
    from tests.social_servers import MastodonServer

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def make_class(url: str, *, year: int = 2016) -> None:
    """Three alumni with addresses in a zone where it is day, one without, one deceased."""
    for n in range(3):
        add_alumnus(
            url, f"B{year}-{n}", class_year=year, email=f"b{n}.{year}@example.org",
            timezone=daytime_zone(),
        )  # fmt: skip
    add_alumnus(url, f"B{year}-nomail", class_year=year, timezone=daytime_zone())
    add_alumnus(
        url, f"B{year}-gone", class_year=year, email=f"gone.{year}@example.org",
        status="deceased", timezone=daytime_zone(),
    )  # fmt: skip


def counts(url: str) -> tuple[int, int]:
    with engine_for(url).connect() as connection:
        return (
            connection.execute(sa.select(sa.func.count()).select_from(table_of(Campaign))).scalar_one(),
            connection.execute(sa.select(sa.func.count()).select_from(table_of(Delivery))).scalar_one(),
        )  # fmt: skip


# --- the domain, no Prefect ------------------------------------------------------------------


def test_send_time_takes_now_a_local_hour_or_a_date_time_and_names_what_is_wrong() -> None:
    assert SendTime.parse(None) == SendTime.parse("now") == SendTime()
    assert SendTime.parse("09:30") == SendTime(when=When.local_time, local_time="09:30")
    later = SendTime.parse("2027-06-01T09:00+01:00")
    assert later.when is When.not_before and later.not_before is not None
    assert later.campaign_options() == (None, "2027-06-01T09:00:00+01:00")
    for text, words in [
        ("25:00", "--send-at '25:00' is not a time"),
        ("23:00", "falls in the recipients' night"),
        ("9:30", "HH:MM"),
        ("soon", "give now, HH:MM"),
        ("2027-06-01T09:00", "add the UTC offset"),
    ]:
        with pytest.raises(ValueError, match=words):
            SendTime.parse(text)
    with pytest.raises(ValueError, match=r"send_time\.local_time: give HH:MM"):
        SendTime(when=When.local_time).campaign_options()


def test_blast_templates_are_the_email_folders_but_those_flows_make(tmp_path: Path) -> None:
    from alumni.reach import hear_from_you, referrals

    assert {hear_from_you.TEMPLATE, referrals.CONFIRM_TEMPLATE} <= blasts.MADE_BY_FLOWS
    assert blasts.blast_templates(ROOT / "templates") == ["newsletter", "reunion"]
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "templates" / "email" / "empty").mkdir()
    (tmp_path / "templates" / "email" / "news2").mkdir()
    for part in ("subject", "txt", "html"):
        source = ROOT / "templates" / "email" / "newsletter" / f"en.{part}.j2"
        shutil.copy(source, tmp_path / "templates" / "email" / "news2" / f"en.{part}.j2")
    assert blasts.blast_templates(tmp_path / "templates") == ["news2", "newsletter", "reunion"]


def test_a_dry_run_reports_who_would_get_it_and_leaves_nothing(db_url: str) -> None:
    make_class(db_url)
    make_class(db_url, year=2017)
    request = Blast(class_years=[2016, 2017], template="reunion", purpose=Purpose.events)
    found = blasts.dry_run(engine_for(db_url), request, settings=get_settings(), now=utcnow())
    assert [r.class_year for r in found] == [2016, 2017]
    for rehearsal in found:
        assert rehearsal.would_send == 3
        assert rehearsal.skipped == {"deceased": 1, "no_email": 1}
        assert rehearsal.preflight is None
        shown = rehearsal.markdown()
        year = rehearsal.class_year
        assert shown.startswith(f"# Dry run: reunion blast (class of {year})")
        assert "Dry run: nothing was sent" in shown and "# Campaign" not in shown
    assert counts(db_url) == (0, 0)


def test_a_dry_run_names_the_preflight_failure(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    subject = tmp_path / "templates" / "email" / "reunion" / "en.subject.j2"
    subject.write_text("Hello {{ alum.frist_name }}\n", encoding="utf-8")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(tmp_path / "templates"))
    get_settings.cache_clear()
    make_class(sqlite_url)
    request = Blast(class_years=[2016], template="reunion")
    (found,) = blasts.dry_run(
        engine_for(sqlite_url), request, settings=get_settings(), now=utcnow()
    )
    assert found.preflight is not None and "frist_name" in found.preflight
    assert counts(sqlite_url) == (0, 0)


def test_bad_input_names_the_field_and_makes_nothing(db_url: str) -> None:
    make_class(db_url)
    engine = engine_for(db_url)
    templates = ROOT / "templates"
    for request, words in [
        (Blast(class_years=[2016, 1999], template="reunion"), "--class-year 1999: no alumni"),
        (Blast(class_years=[], template="reunion"), "give --class-year"),
        (Blast(class_years=[2016], template="nosuch"), "--template 'nosuch'"),
        (Blast(class_years=[2016], template="digest"), "monthly digest"),
        (
            Blast(class_years=[2016], template="reunion", send_time=SendTime(when=When.not_before)),
            "send_time.not_before",
        ),
    ]:
        with pytest.raises(ValueError, match=words):
            blasts.check_blast(engine, request, templates=templates)
        with pytest.raises(ValueError, match=words):
            blasts.create_blast(engine, request, templates=templates)
    with pytest.raises(ValueError, match="needs its posts' rehearsal"):
        blasts.dry_run(
            engine,
            Blast(class_years=[2016], template="reunion", channel=BlastChannel.social),
            settings=get_settings(),
            now=utcnow(),
        )
    assert counts(db_url) == (0, 0)
    made = blasts.check_blast(
        engine, Blast(class_years=[2016], template="reunion"), templates=templates
    )
    assert [year for _, year in made] == [2016]
    assert counts(db_url) == (0, 0)  # checked, not made


def test_the_forms_schema_offers_the_choices_and_says_what_each_field_is() -> None:
    from prefect.exceptions import ParameterTypeError

    from flows.blast import blast

    schema = blast.parameters.model_dump()
    fields, types = schema["properties"], schema["definitions"]
    assert all(field.get("description") for field in fields.values())
    assert all(field.get("description") for field in types["SendTime"]["properties"].values())
    assert types["Template"]["enum"] == ["newsletter", "reunion"]
    assert types["BlastChannel"]["enum"] == ["email", "social"]
    assert types["Purpose"]["enum"] == ["news", "events", "service"]
    assert types["When"]["enum"] == ["now", "local-time", "not-before"]
    assert fields["class_years"]["minItems"] == 1
    assert fields["class_years"]["items"]["minimum"] == 1900
    assert schema["required"] == ["class_years", "template"]
    for wrong in (
        {"class_years": [16], "template": "reunion"},
        {"class_years": [], "template": "reunion"},
        {"class_years": [2016], "template": "nosuch"},
        {"class_years": [2016], "template": "reunion", "send_time": {"local_time": "25:00"}},
    ):
        with pytest.raises(ParameterTypeError):
            blast.validate_parameters(wrong)


def test_a_narrowed_campaign_keeps_its_name(sqlite_url: str) -> None:
    from alumni.delivery.campaigns import create

    make_class(sqlite_url)
    ((campaign_id, _),) = create(
        engine_for(sqlite_url),
        name="Reunion, UK alumni",
        class_years=[2016],
        template="reunion",
        templates=ROOT / "templates",
        where={"country": ["GB"]},
        where_reason="the venue is in London",
    )
    with engine_for(sqlite_url).connect() as connection:
        table = table_of(Campaign)
        name = sa.select(table.c.name).where(table.c.id == campaign_id)
        assert connection.execute(name).scalar_one() == "Reunion, UK alumni"  # not "country"


# --- the flow, on the real Prefect server ----------------------------------------------------


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


async def run_and_artifacts(flow_run_id: UUID) -> tuple[str, dict[str, Any]]:
    """The run's name, and its artifacts by key, as the Prefect API shows them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return flow_run.name, {a.key: a for a in artifacts if a.key}


def test_the_blast_flow_sends_once_to_each_reachable_alum(sqlite_url: str, smtp: Recorder) -> None:
    from flows.blast import Template, blast

    make_class(sqlite_url)
    state = blast(class_years=[2016], template=Template("reunion"), return_state=True)
    assert state.is_completed(), state.message
    assert state.message is not None and "class of 2016 (campaign 1): sent 3" in state.message
    assert sorted(r for m in smtp.received for r in m.rcpt_tos) == [
        f"b{n}.2016@example.org" for n in range(3)
    ]
    name, _ = asyncio.run(run_and_artifacts(state.state_details.flow_run_id))
    assert name == "blast-reunion-2016"
    with engine_for(sqlite_url).connect() as connection:
        (campaign,) = connection.execute(sa.select(table_of(Campaign)))
    assert (campaign.name, campaign.status) == ("reunion blast", "done")


def test_a_dry_run_sends_nothing_now_or_later_and_leaves_its_report(
    sqlite_url: str, smtp: Recorder
) -> None:
    from flows.blast import Template, blast
    from flows.due_campaigns import due_campaigns

    make_class(sqlite_url)
    state = blast(
        class_years=[2016], template=Template("newsletter"), dry_run=True, return_state=True
    )
    assert state.is_completed(), state.message
    assert state.message == (
        "dry run, nothing sent: class of 2016: 3 would get it, 2 skipped (deceased 1, no_email 1)"
    )
    name, artifacts = asyncio.run(run_and_artifacts(state.state_details.flow_run_id))
    assert name == "dry-run-blast-newsletter-2016"
    report = artifacts["blast-dry-run-2016"]
    assert "Dry run: nothing was sent" in str(report.data) and report.description
    assert "would send" in str(artifacts["blast-dry-run-2016-outcomes"].data)
    assert counts(sqlite_url) == (0, 0)
    assert due_campaigns() == {}
    assert smtp.received == []


def test_a_blast_whose_preflight_fails_sends_nothing_and_says_why_in_one_line(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.blast import Template, blast

    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    subject = tmp_path / "templates" / "email" / "reunion" / "en.subject.j2"
    subject.write_text("Hello {{ alum.frist_name }}\n", encoding="utf-8")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(tmp_path / "templates"))
    get_settings.cache_clear()
    make_class(sqlite_url)
    state = blast(class_years=[2016], template=Template("reunion"), return_state=True)
    assert state.is_failed() and state.message is not None
    assert "frist_name" in state.message and "\n" not in state.message
    assert "Traceback" not in state.message
    assert smtp.received == []
    with engine_for(sqlite_url).connect() as connection:
        (campaign,) = connection.execute(sa.select(table_of(Campaign)))
    assert campaign.status == "stopped"  # `alumni campaign resume` takes it on once fixed


def test_a_blast_to_a_class_with_nobody_fails_in_one_line_and_makes_nothing(
    sqlite_url: str, smtp: Recorder
) -> None:
    from flows.blast import Template, blast

    make_class(sqlite_url)
    state = blast(class_years=[2016, 1999], template=Template("reunion"), return_state=True)
    assert state.is_failed()
    assert state.message == "--class-year 1999: no alumni of that class are imported"
    assert counts(sqlite_url) == (0, 0) and smtp.received == []


def test_a_social_dry_run_renders_the_posts_and_posts_nothing(
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
    mastodon: MastodonServer,
) -> None:
    from flows.blast import Template, blast

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ALUMNI_BASE_URL", "https://alumni.school.example")
    for key in ("BLUESKY_URL", "BLUESKY_HANDLE", "BLUESKY_PASSWORD", "MASTODON_URL"):
        monkeypatch.delenv(f"ALUMNI_{key}", raising=False)
    get_settings.cache_clear()
    make_class(sqlite_url)
    # nowhere to post: refused in one line, as a real run would be
    state = blast(
        class_years=[2016],
        template=Template("reunion"),
        channel=BlastChannel.social,
        dry_run=True,
        return_state=True,
    )
    assert state.is_failed() and state.message is not None
    assert state.message.startswith("no social account or class channel to post to")
    monkeypatch.setenv("ALUMNI_MASTODON_URL", mastodon.url)
    monkeypatch.setenv("ALUMNI_MASTODON_TOKEN", mastodon.token)
    get_settings.cache_clear()
    before = len(mastodon.statuses())
    state = blast(
        class_years=[2016],
        template=Template("reunion"),
        channel=BlastChannel.social,
        dry_run=True,
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert state.message == "dry run, nothing sent: class of 2016: 1 post(s) would go out"
    _, artifacts = asyncio.run(run_and_artifacts(state.state_details.flow_run_id))
    report = str(artifacts["blast-dry-run-2016"].data)
    assert "## mastodon" in report and "```" in report  # the post's text, to read first
    assert len(mastodon.statuses()) == before
    assert counts(sqlite_url) == (0, 0)
    with engine_for(sqlite_url).connect() as connection:
        posts = sa.select(sa.func.count()).select_from(table_of(SocialPost))
        assert connection.execute(posts).scalar_one() == 0
    get_settings.cache_clear()


# --- alumni blast ----------------------------------------------------------------------------


def test_alumni_blast_refuses_bad_input_in_one_line_before_any_flow(sqlite_url: str) -> None:
    make_class(sqlite_url)
    base = ["blast", "--class-year", "2016"]
    for args, words in [
        (["--template", "nosuch"], "--template 'nosuch': use one of newsletter, reunion"),
        (["--template", "reunion", "--send-at", "25:00"], "--send-at '25:00' is not a time"),
        (["--template", "reunion", "--class-year", "1999"], "--class-year 1999: no alumni"),
    ]:
        result = runner.invoke(app, base + args)
        assert result.exit_code == 1, result.output
        assert words in result.output and "Traceback" not in result.output
    assert counts(sqlite_url) == (0, 0)


def test_alumni_blast_dry_run_runs_the_flow_and_prints_the_counts(
    sqlite_url: str, smtp: Recorder
) -> None:
    make_class(sqlite_url)
    args = ["blast", "--class-year", "2016", "--template", "reunion", "--send-at", "09:30"]
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "class of 2016: 3 would get it; skipped: deceased 1, no_email 1" in (result.output)
    assert counts(sqlite_url) == (0, 0) and smtp.received == []
