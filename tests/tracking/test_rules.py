"""The pure rules of tracking, with a given ``now``: soft bounces counted as hard, hard or
soft by status, auto-reply wording, HTML to text, and what a context shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alumni.settings import Settings
from alumni.tracking.autoreplies import auto_reply_reason
from alumni.tracking.bounces import is_hard, soft_bounces_make_hard
from alumni.tracking.classify import classify
from alumni.tracking.html_text import html_to_text
from alumni.tracking.reading import parse_message
from alumni.tracking.record import TrackingContext

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_three_soft_bounces_within_30_days_count_as_hard() -> None:
    assert soft_bounces_make_hard([NOW - 29 * DAY, NOW - DAY, NOW], now=NOW)
    assert soft_bounces_make_hard([NOW - 30 * DAY, NOW - 15 * DAY, NOW], now=NOW)


def test_soft_bounces_spread_over_more_than_30_days_do_not() -> None:
    assert not soft_bounces_make_hard([NOW - 31 * DAY, NOW - DAY, NOW], now=NOW)
    assert not soft_bounces_make_hard([NOW - DAY, NOW], now=NOW)
    # a time after now is not counted (nothing is known of it yet)
    assert not soft_bounces_make_hard([NOW - DAY, NOW, NOW + DAY], now=NOW)


@pytest.mark.parametrize(
    ("permanent", "status", "text", "hard"),
    [
        (True, "5.1.1", "", True),
        (False, "5.1.1", "", True),  # the status code decides over the detector
        (True, "4.4.7", "", False),
        (True, "5.2.2", "mailbox full", False),  # mailbox full counts soft
        (True, None, "Mail quota\n    exceeded.", False),
        (True, None, "no such user", True),
        (False, None, "connection timed out", False),
    ],
)
def test_hard_or_soft(permanent: bool, status: str | None, text: str, hard: bool) -> None:
    assert is_hard(permanent=permanent, status=status, text=text) is hard


@pytest.mark.parametrize(
    "body",
    [
        "Sorry for the late answer, I was on vacation. Count me in!",
        "I'd love to come; the office party last year was great.",
        "Ich komme gerne. Letztes Jahr war ich leider im Urlaub.",
    ],
)
def test_a_person_mentioning_a_holiday_is_no_auto_reply(body: str) -> None:
    message = parse_message(b"From: a@example.org\nSubject: Re: Reunion\n\n" + body.encode())
    assert auto_reply_reason(message, body=body) is None


def test_auto_submitted_no_is_a_person() -> None:
    raw = b"From: a@example.org\nSubject: Re: Reunion\nAuto-Submitted: no\n\nYes please."
    message = parse_message(raw)
    assert auto_reply_reason(message, body="Yes please.") is None


def test_html_becomes_lines_with_quotes_marked() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Yes &amp; thanks!</p>"
        "<div>See you<br>there</div><blockquote><p>Old text</p></blockquote>"
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(html) == "Yes & thanks!\n\nSee you\nthere\n\n> Old text"


def test_a_header_the_parser_cannot_read_does_not_stop_classification() -> None:
    raw = (
        b'From: "unclosed <broken@@example..org\nTo: alumni@school.example\n'
        b"Subject: =?utf-8?B?not base64?=\nMessage-ID: <x@y>\n\nHello there, I have a question."
    )
    found = classify(raw, return_local="alumni-bounces", return_domain="school.example")
    assert found.problem is None
    assert found.kind == "reply"


def test_the_context_never_shows_its_key() -> None:
    settings = Settings(secret_key="s" * 40, sender="Office <alumni@school.example>")  # type: ignore[call-arg]
    context = TrackingContext.from_settings(settings)

    assert (context.return_local, context.return_domain) == ("alumni-bounces", "school.example")
    assert context.office_address == "alumni@school.example"
    assert context.key == b"s" * 40
    assert "sss" not in repr(context) and "key" not in repr(context)
