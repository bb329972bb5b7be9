"""Untrusted text stays text: CSV cells, social replies and stored values printed by the `alumni`
commands can neither run Rich markup nor reach the terminal as control sequences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from alumni.cli.main import app
from alumni.cli.output import safe_text, terminal_text
from alumni.db import engine_for, write_transaction
from alumni.models import Response, table_of, utcnow
from tests.factories import add_alumnus
from tests.people.test_importing import ROWS, write_csv

runner = CliRunner()
LINK = "[link=https://evil.example]S9[/link]"
# An OSC 8 hyperlink and a screen clear: what a hostile value would hide in a terminal.
ESCAPES = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\x1b[2J"


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def assert_only_text_reached_the_terminal(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for raw in ("\x1b", "\x9b", "\u202e", "\x07"):
        assert raw not in result.output, repr(raw)


def test_markup_in_csv_cells_is_shown_as_typed(sqlite_url: str, tmp_path: Path) -> None:
    rows = [
        dict(ROWS[0], class_year="[/]"),
        dict(ROWS[1], external_id=LINK),
        dict(ROWS[2], external_id=LINK),
    ]

    result = cli("import", str(write_csv(tmp_path / "markup.csv", rows)))

    assert result.exit_code == 1
    assert_only_text_reached_the_terminal(result)
    assert "row 2, column class_year: '[/]' must be a year" in result.output
    assert f"row 4, column external_id: '{LINK}' appears again (first at row 3)" in result.output


def test_escape_sequences_in_cells_and_file_names_are_shown_escaped(
    sqlite_url: str, tmp_path: Path
) -> None:
    rows = [dict(ROWS[0], first_name=f"Zoë{ESCAPES}"), ROWS[1]]
    path = write_csv(tmp_path / "office\x1b[2J[red]x.csv", rows)

    refused = cli("import", str(path))
    imported = cli("import", str(write_csv(path, [ROWS[1]])))

    for result in (refused, imported):
        assert_only_text_reached_the_terminal(result)
        assert "office\\x1b[2J[red]x.csv: " in result.output
    assert refused.exit_code == 1
    assert "row 2, column first_name: 'Zoë\\x1b]8;;https://evil.example" in refused.output
    assert "contains the control character U+001B" in refused.output
    assert imported.exit_code == 0, imported.output


def add_reply(url: str, number: int, *, author: str, text: str, reply_url: str) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(Response)).values(
                kind="reply",
                source="mastodon",
                remote_id=str(number),
                author=author,
                text=text,
                url=reply_url,
                at=utcnow(),
                needs_attention=True,
                created_at=utcnow(),
            )
        )


def test_social_replies_are_shown_as_text(sqlite_url: str) -> None:
    add_reply(
        sqlite_url,
        1,
        author="[link=https://evil.example]ada@school.example[/link]",
        text=f"Can you help? [/] [bold]now[/bold] :thumbs_up: {ESCAPES} \u202eevil",
        reply_url="https://mastodon.example/@ada/1[/]",
    )
    add_reply(sqlite_url, 2, author="bea@school.example", text="two\nlines\r", reply_url="")

    result = cli("social", "replies")

    assert result.exit_code == 0, result.output
    assert_only_text_reached_the_terminal(result)
    assert "[link=https://evil.example]ada@school.example[/link]: Can you help? [/] " in (
        result.output
    )
    assert "[bold]now[/bold] :thumbs_up: \\x1b]8;;https://evil.example\\x1b\\click" in result.output
    assert "\\x1b[2J \\u202eevil" in result.output
    assert "https://mastodon.example/@ada/1[/]" in result.output
    assert "bea@school.example: two\\nlines\\r" in result.output


def test_error_messages_are_printed_as_plain_text(sqlite_url: str) -> None:
    result = cli(
        "campaign",
        "create",
        "--name",
        "x",
        "--class-year",
        "2016",
        "--template",
        "reunion",
        "--channel",
        f"[/]{ESCAPES}",
    )

    assert result.exit_code == 1
    assert_only_text_reached_the_terminal(result)
    assert "error: --channel '[/]\\x1b]8;;https://evil.example" in result.output


def test_export_is_the_same_json_with_nothing_a_terminal_would_run(sqlite_url: str) -> None:
    name = "\u202eAna\x9b\x7f"
    add_alumnus(sqlite_url, "A1", first_name=name)

    result = cli("export", "A1")

    assert result.exit_code == 0, result.output
    assert_only_text_reached_the_terminal(result)
    assert json.loads(result.output)["tables"]["alumnus"][0]["first_name"] == name
    assert "\\u202eAna\\u009b\\u007f" in result.output


@pytest.mark.parametrize(
    ("value", "lines", "shown"),
    [
        ("a\x1b[31mb", False, "a\\x1b[31mb"),
        ("one\ntwo\tthree", False, "one\\ntwo\\tthree"),
        ("one\r\ntwo\tthree\rover", True, "one\r\ntwo\tthree\\rover"),
        ("ok \u202eevil \u2066x\u2069", True, "ok \\u202eevil \\u2066x\\u2069"),
        ("naïve 日本 👍 Zoë", False, "naïve 日本 👍 Zoë"),
    ],
)
def test_terminal_text_escapes_control_characters_only(value: str, lines: bool, shown: str) -> None:
    assert terminal_text(value, lines=lines) == shown


def test_safe_text_shows_markup_as_typed() -> None:
    from rich.console import Console

    console = Console(width=200, emoji=False, color_system=None)
    typed = "[/] [link=https://e.example]y[/link] C:\\new\\[red]"
    with console.capture() as captured:
        console.print(f"[red]x[/] {safe_text(typed)} [bold]z[/]")
    assert captured.get() == f"x {typed} z\n"
