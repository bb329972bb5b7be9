from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from alumni.delivery.audience import Budget, Member, SkipReason, decide
from alumni.delivery.send_time import due_at, parse_send_at, zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "now", "expected"),
    [
        # 09:30 local, later the same day
        ("Europe/London", utc(2027, 3, 1, 6, 0), utc(2027, 3, 1, 9, 30)),
        # already past 09:30 in Tokyo: tomorrow
        ("Asia/Tokyo", utc(2027, 3, 1, 6, 0), utc(2027, 3, 2, 0, 30)),
        # a 30-minute offset: 09:30 IST = 04:00 UTC
        ("Asia/Kolkata", utc(2027, 3, 1, 0, 0), utc(2027, 3, 1, 4, 0)),
        # across New York's spring-forward (2027-03-14): 09:30 EDT = 13:30 UTC
        ("America/New_York", utc(2027, 3, 13, 20, 0), utc(2027, 3, 14, 13, 30)),
        # southern hemisphere leaving daylight time (2027-04-04): 09:30 AEST = 23:30 UTC before
        ("Australia/Sydney", utc(2027, 4, 3, 12, 0), utc(2027, 4, 3, 23, 30)),
    ],
)
def test_send_at_is_the_recipients_local_time(tz: str, now: datetime, expected: datetime) -> None:
    got = due_at(now=now, send_at=time(9, 30), tz=ZoneInfo(tz))
    assert got == expected
    assert got.astimezone(ZoneInfo(tz)).time() == time(9, 30)


def test_without_send_at_nothing_goes_out_in_their_night() -> None:
    # 02:00 in São Paulo: wait for 08:00 local the same morning
    assert due_at(now=utc(2027, 5, 1, 5, 0), send_at=None, tz=ZoneInfo("America/Sao_Paulo")) == utc(
        2027, 5, 1, 11, 0
    )
    # 22:00 in Berlin: 08:00 next morning
    assert due_at(now=utc(2027, 5, 1, 20, 0), send_at=None, tz=ZoneInfo("Europe/Berlin")) == utc(
        2027, 5, 2, 6, 0
    )
    # daytime: now
    assert due_at(now=utc(2027, 5, 1, 12, 0), send_at=None, tz=ZoneInfo("Europe/Berlin")) == utc(
        2027, 5, 1, 12, 0
    )


def test_not_before_holds_messages_back() -> None:
    got = due_at(
        now=utc(2027, 1, 1, 12),
        send_at=time(10, 0),
        tz=ZoneInfo("UTC"),
        not_before=utc(2027, 2, 1, 11),
    )
    assert got == utc(2027, 2, 2, 10, 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [("9h30", "is not a time"), ("23:00", "night"), ("09:30:15", "hours and minutes only")],
)
def test_bad_send_at_is_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_send_at(value)


def test_unknown_zone_falls_back_to_the_office() -> None:
    assert zone(None, "Europe/Lisbon").key == "Europe/Lisbon"
    assert zone("Not/AZone", "Europe/Lisbon").key == "Europe/Lisbon"


def member(**changes: object) -> Member:
    base = dict(
        alumnus_id=1,
        status="active",
        email="a@example.com",
        suppressed_scopes=frozenset(),
        consent=None,
        recent_messages=0,
    )
    return Member(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "purpose", "reason"),
    [
        ({}, "news", None),
        ({"status": "deceased"}, "news", SkipReason.deceased),
        ({"status": "do_not_contact"}, "service", SkipReason.do_not_contact),
        ({"status": "erased"}, "news", SkipReason.erased),
        ({"status": "lost"}, "news", SkipReason.lost),
        ({"status": "lost"}, "service", SkipReason.lost),
        ({"email": None}, "news", SkipReason.no_email),
        ({"suppressed_scopes": frozenset({"all"})}, "service", SkipReason.suppressed),
        ({"suppressed_scopes": frozenset({"news"})}, "news", SkipReason.unsubscribed),
        ({"suppressed_scopes": frozenset({"news"})}, "events", None),
        ({"suppressed_scopes": frozenset({"news"})}, "service", None),
        ({"consent": False}, "events", SkipReason.no_consent),
        ({"recent_messages": 4}, "news", SkipReason.over_budget),
        ({"recent_messages": 3}, "news", None),
        ({"recent_messages": 40}, "service", None),
    ],
)
def test_audience_decisions(changes: dict, purpose: str, reason: SkipReason | None) -> None:
    assert decide(member(**changes), purpose=purpose, budget=Budget()) == reason


def test_required_consent_skips_the_never_asked() -> None:
    assert (
        decide(member(), purpose="news", budget=Budget(), require_consent=True)
        == SkipReason.no_consent
    )


def test_a_service_message_needs_no_recorded_consent_but_honours_a_refusal() -> None:
    assert decide(member(), purpose="service", budget=Budget(), require_consent=True) is None
    assert (
        decide(member(consent=False), purpose="service", budget=Budget(), require_consent=True)
        == SkipReason.no_consent
    )
