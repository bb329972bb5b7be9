"""``alumni replies`` and ``alumni track``'s refusals, as an officer types them (typer's runner).

Reading real mail through ``alumni track`` is tested end to end in
tests/tracking/test_inbound_mail.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.models import InboundMessage, MailboxCursor, Request, Response, table_of
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign

runner = CliRunner()
T0 = datetime(2027, 5, 3, 9, 30, tzinfo=UTC)
LONG = "I would love to come. " * 20 + "THE END"


def add_response(url: str, **values: Any) -> int:
    defaults: dict[str, Any] = {
        "kind": "reply",
        "source": "email",
        "needs_attention": True,
        "created_at": T0,
    }
    row = {**defaults, **values}
    row.setdefault("remote_id", f"{row['kind']}-{row['at'].isoformat()}")
    with write_transaction(engine_for(url)) as connection:
        return int(
            connection.execute(
                sa.insert(table_of(Response)).values(**row).returning(table_of(Response).c.id)
            ).scalar_one()
        )


@pytest.fixture
def replies(sqlite_url: str) -> dict[str, int]:
    ada = add_alumnus(sqlite_url, "A001", first_name="Ada", last_name="Lovelace")
    ben = add_alumnus(sqlite_url, "B002", first_name="Ben", last_name="Okri", class_year=2017)
    reunion = add_campaign(sqlite_url, name="Ten years on")
    picnic = add_campaign(sqlite_url, name="Picnic", class_year=2017)
    return {
        "old": add_response(
            sqlite_url, at=T0, alumnus_id=ada, campaign_id=reunion, text="First question?"
        ),
        "long": add_response(
            sqlite_url, at=T0 + timedelta(hours=2), alumnus_id=ben, campaign_id=picnic, text=LONG
        ),
        "handled": add_response(
            sqlite_url,
            at=T0 + timedelta(hours=1),
            alumnus_id=ada,
            campaign_id=reunion,
            text="Already answered",
            handled_at=T0 + timedelta(hours=3),
        ),
        "sly": add_response(
            sqlite_url,
            at=T0 + timedelta(hours=4),
            alumnus_id=None,
            author="stranger@example.net",
            text="[bold red]hi[/] \x1b[2Jcleared",
        ),
        # Not replies to the office's email: never listed here.
        "toot": add_response(sqlite_url, at=T0 + timedelta(hours=5), source="mastodon", text="x"),
        "away": add_response(sqlite_url, at=T0 + timedelta(hours=6), kind="auto_reply", text="x"),
    }


def invoke(*args: str, columns: int = 100) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


def test_replies_lists_what_waits_newest_first_with_alum_and_campaign(
    replies: dict[str, int],
) -> None:
    listed = json.loads(invoke("replies", "--format", "json"))
    assert [r["id"] for r in listed] == [replies["sly"], replies["long"], replies["old"]]
    long = listed[1]
    assert long["alum"] == {"id": long["alum"]["id"], "name": "Ben Okri", "class_year": 2017,
                            "external_id": "B002"}  # fmt: skip
    assert long["campaign"]["name"] == "Picnic" and long["text"] == LONG  # whole in JSON
    assert listed[0]["alum"] is None and listed[0]["author"] == "stranger@example.net"

    everything = json.loads(invoke("replies", "--all", "--format", "json"))
    assert [r["id"] for r in everything] == [
        replies["sly"],
        replies["long"],
        replies["handled"],
        replies["old"],
    ]
    reunion = json.loads(invoke("replies", "--all", "--campaign", "1", "--format", "json"))
    assert [r["id"] for r in reunion] == [replies["handled"], replies["old"]]


def test_the_table_cuts_each_text_to_the_terminal_and_shows_outside_text_as_typed(
    replies: dict[str, int],
) -> None:
    output = invoke("replies", columns=100)
    lines = output.splitlines()
    assert all(len(line) <= 100 for line in lines)
    ben = next(line for line in lines if "Ben Okri (2017, B002)" in line)
    assert "I would love to come." in ben and "THE END" not in ben and "…" in ben
    assert "Ada Lovelace (2016, A001)" in output and "Ten years on" in output
    assert "2027-05-03 11:30" in ben
    sly = next(line for line in lines if "stranger@example.net" in line)
    assert "[bold red]hi[/]" in sly and "\\x1b[2J" in sly and "\x1b" not in output
    assert "Already answered" not in output


def test_a_reply_becomes_a_request_whose_id_is_the_last_line(replies: dict[str, int]) -> None:
    output = invoke("replies", "request", str(replies["old"]), "--type", "question")
    request_id = int(output.strip().splitlines()[-1])
    with engine_for(get_settings().database_url).connect() as connection:
        request = connection.execute(
            sa.select(table_of(Request)).where(table_of(Request).c.id == request_id)
        ).one()
    assert (request.type, request.response_id, request.summary) == (
        "question",
        replies["old"],
        "First question?",
    )
    waiting = json.loads(invoke("replies", "--format", "json"))
    assert replies["old"] not in [r["id"] for r in waiting]  # dealt with now

    again = runner.invoke(app, ["replies", "request", str(replies["old"]), "--type", "letter"])
    assert again.exit_code == 1 and str(request_id) in again.output
    wrong = runner.invoke(app, ["replies", "request", str(replies["long"]), "--type", "gift"])
    assert wrong.exit_code == 1 and "'gift' is not known" in wrong.output


def test_no_replies_says_so(sqlite_url: str) -> None:
    assert "no replies waiting for an officer" in invoke("replies")


def nothing_read(url: str) -> bool:
    with engine_for(url).connect() as connection:
        return not any(
            connection.execute(sa.select(sa.func.count()).select_from(table_of(t))).scalar_one()
            for t in (InboundMessage, MailboxCursor)
        )


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (None, "error: ALUMNI_IMAP_URL is not set: set it to the office's mailbox"),
        ("imaps://office@imap.school.edu/INBOX", "needs a user name and a password"),
        ("https://office:s3cr%3At@imap.school.edu/", "the scheme 'https' is not imap or imaps"),
        ("imap://office:s3cr%3At@imap.school.edu/?tls=none", "would send the password"),
    ],
)
def test_track_without_a_usable_mailbox_url_says_so_in_one_line_and_exits_2(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, url: str | None, said: str
) -> None:
    if url is None:
        monkeypatch.delenv("ALUMNI_IMAP_URL", raising=False)
    else:
        monkeypatch.setenv("ALUMNI_IMAP_URL", url)
    get_settings.cache_clear()

    result = runner.invoke(app, ["track"])

    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert said in line and ("ALUMNI_IMAP_URL" in line)
    assert "s3cr" not in result.output
    assert nothing_read(sqlite_url)
