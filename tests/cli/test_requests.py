"""``alumni request ...`` as an officer types it (typer's runner), on both databases: the shipped
request types and office hours, the real clock of the machine where a command takes no time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for
from alumni.models import Request, RequestEvent, Response, table_of
from alumni.requests.clock import BusinessCalendar, add_span
from alumni.requests.types import load_request_types
from alumni.settings import get_settings
from tests.factories import add_alumnus
from tests.snapshot import dump_tables

runner = CliRunner()
OFFICER = "ola@school.example.org"
CARER = "carer@school.example.org"
SECRET = "I lost my job and my flat"


@pytest.fixture
def desk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The officer at this terminal and the one named for welfare."""
    monkeypatch.setenv("ALUMNI_OFFICER", OFFICER)
    monkeypatch.setenv("ALUMNI_WELFARE_OFFICERS", f"{CARER}, director@school.example.org")
    get_settings.cache_clear()


def invoke(*args: str, columns: int = 100) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def refused(url: str, *args: str) -> str:
    """Run a command that must fail; return what it said, having checked it wrote nothing."""
    before = dump_tables(engine_for(url))
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert dump_tables(engine_for(url)) == before
    return " ".join(result.output.split())  # the error console wraps long lines


def opened(output: str) -> int:
    return int(output.strip().splitlines()[-1])


def shown(request_id: int, *more: str) -> dict[str, Any]:
    return dict(json.loads(invoke("request", "show", str(request_id), "--format", "json", *more)))


def test_yesterdays_phone_call_is_logged_as_it_came_with_the_clocks_deadlines(
    db_url: str, desk_env: None
) -> None:
    add_alumnus(db_url, "A001")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    output = invoke(
        "request",
        "open",
        "--type",
        "letter",
        "--alumnus",
        "A001",
        "--summary",
        "Letter for my master's application",
        "--owner",
        "jo@school.example.org",
        "--opened-at",
        yesterday.isoformat(),
    )
    request_id = opened(output)
    assert "acknowledgement" in output

    view = shown(request_id)
    letter = load_request_types()["letter"]
    office = BusinessCalendar.from_settings(get_settings())
    assert view["opened_at"] == yesterday.isoformat()
    assert (
        view["first_response_due"] == add_span(office, yesterday, letter.first_response).isoformat()
    )
    assert view["resolution_due"] == add_span(office, yesterday, letter.resolution).isoformat()
    assert view["next_update_due"] is None
    assert (view["status"], view["owner"], view["alumnus"]) == (
        "open",
        "jo@school.example.org",
        "A001",
    )
    assert [(e["actor"], e["action"]) for e in view["events"]] == [
        (OFFICER, "opened"),
        (OFFICER, "assigned"),
    ]


def test_show_and_list_give_the_shipped_deadlines_as_of_a_given_time(
    db_url: str, desk_env: None
) -> None:
    add_alumnus(db_url, "A001")
    add_alumnus(db_url, "B002")
    # Friday 2025-06-06 15:00 UTC; the office: Monday to Friday 09:00-17:00 UTC.
    letter = opened(
        invoke(
            "request",
            "open",
            "--type",
            "letter",
            "--alumnus",
            "A001",
            "--summary",
            "A letter",
            "--opened-at",
            "2025-06-06T17:00+02:00",
            "--deadline",
            "2025-06-11T12:00Z",
        )
    )
    question = opened(
        invoke(
            "request",
            "open",
            "--type",
            "question",
            "--alumnus",
            "B002",
            "--summary",
            "When is the reunion?",
            "--opened-at",
            "2025-06-09T09:00Z",
        )
    )

    view = shown(letter, "--as-of", "2025-06-09T10:00Z")
    assert (view["first_response_due"], view["next_update_due"], view["resolution_due"]) == (
        "2025-06-10T15:00:00+00:00",  # 2 business days: Tuesday 15:00
        None,
        "2025-06-11T12:00:00+00:00",  # the alum's own deadline, sooner than 10 business days
    )
    assert view["age_hours"] == 67.0 and view["breached"] == []

    def listing(*more: str) -> list[int]:
        return [v["id"] for v in json.loads(invoke("request", "list", "--format", "json", *more))]

    assert listing("--as-of", "2025-06-09T10:00Z") == [letter, question]
    assert listing("--overdue", "--as-of", "2025-06-09T10:00Z") == []
    # Tuesday 16:00: the letter's first response (Tuesday 15:00) has passed.
    assert listing("--overdue", "--as-of", "2025-06-10T16:00Z") == [letter]
    assert listing("--type", "question", "--as-of", "2025-06-10T16:00Z") == [question]
    # Wednesday 13:00: the alum's deadline too, and the question's first response (Wednesday
    # 09:00); the letter's breach began first.
    late = json.loads(invoke("request", "list", "--format", "json", "--as-of", "2025-06-11T13:00Z"))
    assert [(v["id"], v["breached"]) for v in late] == [
        (letter, ["first_response", "resolution"]),
        (question, ["first_response"]),
    ]
    table = invoke("request", "list", "--as-of", "2025-06-11T13:00Z", columns=80)
    lines = table.splitlines()
    assert all(len(line) <= 80 for line in lines)
    row = next(line for line in lines if line.lstrip().startswith(str(letter)))
    assert "06-10 15:00 late" in row and "A letter" in row
    assert "no overdue requests" in invoke(
        "request", "list", "--overdue", "--as-of", "2025-06-09T10:00Z"
    )


def test_every_step_from_the_command_line_goes_on_the_audit_trail(
    db_url: str, desk_env: None
) -> None:
    add_alumnus(db_url, "A001")
    add_alumnus(db_url, "C003")
    request_id = opened(
        invoke("request", "open", "--type", "letter", "--alumnus", "A001", "--summary", "A letter")
    )
    invoke("request", "assign", str(request_id), "--owner", "jo@school.example.org")
    invoke(
        "request",
        "note",
        str(request_id),
        "--text",
        "Asked the registry",
        "--as",
        "jo@school.example.org",
    )
    invoke("request", "note", str(request_id), "--text", "We are on it", "--to-alum")
    invoke("request", "wait", str(request_id), "--reason", "Which programme?")
    assert shown(request_id)["paused"] is True
    invoke("request", "resume", str(request_id))
    invoke("request", "referee", str(request_id), "--name", "prof@school.example.org")
    invoke("request", "close", str(request_id), "--outcome", "resolved", "--reason", "Sent")

    view = shown(request_id)
    assert (view["status"], view["outcome"], view["referee"]) == (
        "closed",
        "resolved",
        "prof@school.example.org",
    )
    assert [(e["actor"], e["action"], e["detail"], e["to_alum"]) for e in view["events"]] == [
        (OFFICER, "opened", "letter from officer", False),
        (OFFICER, "assigned", "jo@school.example.org", False),
        ("jo@school.example.org", "note", "Asked the registry", False),
        (OFFICER, "reply", "We are on it", True),
        (OFFICER, "waiting", "Which programme?", True),
        (OFFICER, "resumed", None, False),
        (OFFICER, "referee", "prof@school.example.org", False),
        (OFFICER, "closed", "resolved: Sent", True),
    ]
    table = invoke("request", "show", str(request_id))
    assert "jo@school.example.org  note: Asked the registry" in table
    assert "reply (to the alum): We are on it" in table

    # An idea, a certificate and a referral, with their own steps.
    idea = opened(
        invoke(
            "request",
            "open",
            "--type",
            "idea",
            "--alumnus",
            "A001",
            "--summary",
            "A mentoring scheme",
        )
    )
    said = refused(db_url, "request", "close", str(idea), "--outcome", "resolved")
    assert f"alumni request decide {idea}" in said
    invoke("request", "decide", str(idea), "--decision", "planned", "--reason", "Next year")
    assert shown(idea)["decision"] == "planned"

    certificate = opened(
        invoke(
            "request",
            "open",
            "--type",
            "certificate",
            "--alumnus",
            "A001",
            "--summary",
            "My transcript",
        )
    )
    assert "--checked" in refused(db_url, "request", "identity", str(certificate))
    invoke("request", "identity", str(certificate), "--checked")
    assert shown(certificate)["identity_checked_by"] == OFFICER

    referral = opened(
        invoke(
            "request",
            "open",
            "--type",
            "referral",
            "--alumnus",
            "A001",
            "--summary",
            "Someone at Acme",
        )
    )
    said = refused(db_url, "request", "ask", str(referral), "--alumnus", "C003")
    assert "alumni request consent C003 --referrals yes --evidence TEXT" in said
    invoke("request", "consent", "C003", "--referrals", "yes", "--evidence", "Email, 2 June")
    invoke("request", "ask", str(referral), "--alumnus", "C003")
    assert shown(referral)["asked_alumnus"] == "C003"
    invoke("request", "close", str(referral), "--outcome", "resolved")


def test_bad_input_is_refused_with_the_reason_and_writes_nothing(
    db_url: str, desk_env: None
) -> None:
    add_alumnus(db_url, "A001")
    base = ("request", "open", "--alumnus", "A001", "--summary", "Help")
    assert "has no time zone" in refused(
        db_url, *base, "--type", "question", "--opened-at", "2025-06-06T10:00"
    )
    assert "not an ISO 8601 date-time" in refused(
        db_url, *base, "--type", "question", "--opened-at", "yesterday"
    )
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert "is in the future" in refused(db_url, *base, "--type", "question", "--opened-at", future)
    said = refused(db_url, *base, "--type", "gift")
    assert "'gift' is not known: use one of letter, certificate, referral" in said
    said = refused(
        db_url, "request", "open", "--type", "letter", "--alumnus", "Z404", "--summary", "Help"
    )
    assert "no alum has external id 'Z404'" in said
    assert "request 99 does not exist" in refused(db_url, "request", "show", "99")
    assert "request 99 does not exist" in refused(db_url, "request", "resume", "99")
    request_id = opened(invoke(*base, "--type", "question"))
    invoke("request", "close", str(request_id), "--outcome", "withdrawn")
    said = refused(db_url, "request", "close", str(request_id), "--outcome", "resolved")
    assert f"request {request_id} is already closed (withdrawn" in said
    assert "--as-of" in refused(db_url, "request", "list", "--as-of", "2025-06-06")


def test_welfare_is_confidential_except_to_the_named_officers(db_url: str, desk_env: None) -> None:
    add_alumnus(db_url, "W001")
    output = invoke(
        "request",
        "open",
        "--type",
        "welfare",
        "--alumnus",
        "W001",
        "--summary",
        SECRET,
        "--as",
        CARER,
    )
    request_id = opened(output)
    output += invoke(
        "request", "note", str(request_id), "--text", f"Called: {SECRET}", "--as", CARER
    )
    assert SECRET not in output  # nothing echoes the words

    for other in (("--as", "jo@school.example.org"), ()):  # another officer; ALUMNI_OFFICER
        hidden = invoke("request", "show", str(request_id), "--format", "json", *other)
        hidden += invoke("request", "show", str(request_id), *other)
        hidden += invoke("request", "list", "--format", "json", *other)
        hidden += invoke("request", "list", *other)
        assert SECRET not in hidden and "W001" not in hidden
        assert "(confidential)" in hidden

    view = shown(request_id, "--as", CARER.upper())
    assert view["summary"] == SECRET and view["alumnus"] == "W001"
    assert view["events"][-1]["detail"] == f"Called: {SECRET}"
    assert SECRET in invoke("request", "list", "--as", "director@school.example.org")


def test_a_reply_turned_into_a_request_names_the_officer(sqlite_url: str, desk_env: None) -> None:
    alumnus_id = add_alumnus(sqlite_url, "A001")
    came = datetime(2025, 6, 6, 15, 0, tzinfo=UTC)
    with engine_for(sqlite_url).begin() as connection:
        reply_id = connection.execute(
            sa.insert(table_of(Response))
            .values(
                kind="reply",
                source="email",
                remote_id="r1",
                alumnus_id=alumnus_id,
                text="Could you write me a letter?",
                at=came,
                created_at=came,
                needs_attention=True,
            )
            .returning(table_of(Response).c.id)
        ).scalar_one()
    request_id = opened(invoke("replies", "request", str(reply_id), "--type", "letter"))
    view = shown(request_id)
    assert (view["source"], view["opened_at"], view["summary"]) == (
        "reply",
        came.isoformat(),
        "Could you write me a letter?",
    )
    assert [(e["actor"], e["action"]) for e in view["events"]] == [(OFFICER, "opened")]
    with engine_for(sqlite_url).connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(RequestEvent))
            ).scalar_one()
            == 1
        )
        assert connection.execute(sa.select(table_of(Request).c.response_id)).scalar_one() == (
            reply_id
        )
