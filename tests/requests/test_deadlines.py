"""A request's deadlines, with a given ``now``: first response, next update and resolution of a
letter across the Easter weekend of 2024 in London (a holiday weekend in which British Summer
Time began), a paused interval, the alum's own deadline, an open pause, a close, the desk as
of an earlier instant, and welfare on a Sunday night in Sydney.

Each expected instant is worked out by hand beside it (office hours 09:00-17:00: one business
day is 8 office hours).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from alumni.models import Request, RequestStatus
from alumni.requests.clock import BusinessCalendar, Pause
from alumni.requests.deadlines import Deadlines, deadlines_of
from alumni.requests.types import RequestType, load_request_types
from alumni.settings import get_settings

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
# Good Friday 29 March and Easter Monday 1 April 2024; BST began Sunday 31 March.
EASTER_2024 = BusinessCalendar(tz=LONDON, holidays=frozenset({date(2024, 3, 29), date(2024, 4, 1)}))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(scope="module")
def types() -> dict[str, RequestType]:
    get_settings.cache_clear()
    return load_request_types()  # the shipped requests.toml


def letter(**fields: object) -> Request:
    """A letter opened on Thursday 28 March 2024 at 14:00 GMT, as the desk stores it."""
    values: dict[str, object] = {
        "type": "letter",
        "alumnus_id": 1,
        "summary": "A letter for my master's application",
        "source": "officer",
        "opened_at": utc(2024, 3, 28, 14),
        "last_update_at": utc(2024, 3, 28, 14),
    }
    return Request(**(values | fields))


# Answered on Tuesday 2 April 10:00 BST (09:00 UTC).
ANSWERED = {
    "status": RequestStatus.in_progress,
    "first_response_at": utc(2024, 4, 2, 9),
    "last_update_at": utc(2024, 4, 2, 9),
}
# Waited on the alum from Wednesday 3 April 12:00 BST to Monday 8 April 12:00 BST: Wed 5 h,
# Thu 8 h, Fri 8 h, Mon 3 h = 24 office hours = 3 business days.
PAUSE: Pause = (utc(2024, 4, 3, 11), utc(2024, 4, 8, 11))


def test_a_new_letter(types: dict[str, RequestType]) -> None:
    got = deadlines_of(letter(), types["letter"], EASTER_2024, [], now=utc(2024, 3, 28, 15))
    # First response, 2 business days: Thu 14-17 3 h; Fri-Mon closed (holidays, weekend);
    # Tue 2 Apr 8 h (11 h); Wed 3 Apr 09:00 BST + 5 h = 14:00 BST = 13:00 UTC.
    # Resolution, 10 business days = 80 h: Thu 3 h; Tue 2-Fri 5 Apr 32 h (35 h); Mon 8-Fri
    # 12 Apr 40 h (75 h); Mon 15 Apr 09:00 BST + 5 h = 14:00 BST = 13:00 UTC.
    assert got == Deadlines(
        first_response_due=utc(2024, 4, 3, 13),
        next_update_due=None,
        resolution_due=utc(2024, 4, 15, 13),
        paused=False,
    )


def test_the_alums_own_deadline_caps_the_resolution_when_sooner(
    types: dict[str, RequestType],
) -> None:
    now = utc(2024, 3, 28, 15)
    sooner = letter(deadline=utc(2024, 4, 10, 12))
    got = deadlines_of(sooner, types["letter"], EASTER_2024, [], now=now)
    assert got.resolution_due == utc(2024, 4, 10, 12)
    assert got.first_response_due == utc(2024, 4, 3, 13)
    later = letter(deadline=utc(2024, 4, 20, 12))
    assert deadlines_of(later, types["letter"], EASTER_2024, [], now=now).resolution_due == utc(
        2024, 4, 15, 13
    )


def test_an_answered_letter_after_a_pause(types: dict[str, RequestType]) -> None:
    request = letter(**ANSWERED)
    got = deadlines_of(request, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 9, 9))
    # Next update, 5 business days from Tue 2 Apr 10:00 BST: without the pause Tue 9 Apr
    # 10:00; the pause adds 3 business days: Fri 12 Apr 10:00 BST = 09:00 UTC.
    # Resolution: Mon 15 Apr 14:00 BST + 3 business days = Thu 18 Apr 14:00 BST = 13:00 UTC.
    assert got == Deadlines(
        first_response_due=None,
        next_update_due=utc(2024, 4, 12, 9),
        resolution_due=utc(2024, 4, 18, 13),
        paused=False,
    )
    # The alum's own deadline does not move with the pause: Tue 16 Apr 13:00 BST still holds.
    own = letter(**ANSWERED, deadline=utc(2024, 4, 16, 12))
    assert deadlines_of(
        own, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 9, 9)
    ).resolution_due == utc(2024, 4, 16, 12)


def test_the_next_update_runs_from_the_last_word_to_the_alum(
    types: dict[str, RequestType],
) -> None:
    # A second reply on Thursday 11 April 15:00 BST: 5 business days later is Thursday 18
    # April 15:00 BST = 14:00 UTC.
    request = letter(**(ANSWERED | {"last_update_at": utc(2024, 4, 11, 14)}))
    got = deadlines_of(request, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 12, 9))
    assert got.next_update_due == utc(2024, 4, 18, 14)


def test_no_deadline_runs_while_waiting_on_the_alum(types: dict[str, RequestType]) -> None:
    waiting = letter(**(ANSWERED | {"status": RequestStatus.waiting}))
    open_pause: Pause = (PAUSE[0], None)
    got = deadlines_of(waiting, types["letter"], EASTER_2024, [open_pause], now=utc(2024, 4, 5, 12))
    assert got == Deadlines(None, None, None, paused=True)
    # The same pause seen from before it ended (its end was still to come) is open too.
    seen_then = deadlines_of(
        letter(**ANSWERED), types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 5, 12)
    )
    assert seen_then == Deadlines(None, None, None, paused=True)


def test_the_desk_as_it_was_at_an_earlier_instant(types: dict[str, RequestType]) -> None:
    request = letter(**ANSWERED)
    # Wednesday 3 April 10:00 UTC: the pause has not begun; the deadlines without it.
    before_pause = deadlines_of(
        request, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 3, 10)
    )
    assert before_pause == Deadlines(None, utc(2024, 4, 9, 9), utc(2024, 4, 15, 13), paused=False)
    # Tuesday 2 April 08:00 UTC: not answered yet; the first response is still owed.
    before_answer = deadlines_of(
        request, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 2, 8)
    )
    assert before_answer == Deadlines(utc(2024, 4, 3, 13), None, utc(2024, 4, 15, 13), paused=False)


def test_a_closed_request_has_no_deadline(types: dict[str, RequestType]) -> None:
    closed = letter(
        **(ANSWERED | {"status": RequestStatus.closed, "closed_at": utc(2024, 4, 12, 9)}),
        outcome="resolved",
    )
    after = deadlines_of(closed, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 12, 10))
    assert after == Deadlines(None, None, None, paused=False)
    # Before it was closed its deadlines ran.
    before = deadlines_of(closed, types["letter"], EASTER_2024, [PAUSE], now=utc(2024, 4, 11, 9))
    assert before.next_update_due == utc(2024, 4, 12, 9)


def test_welfare_on_a_sunday_night(types: dict[str, RequestType]) -> None:
    # Sydney's Labour Day weekend 2024: daylight saving began on Sunday 6 October (02:00 AEST ->
    # 03:00 AEDT) and Monday 7 October is a holiday; nothing of it slows welfare.
    calendar = BusinessCalendar(tz=SYDNEY, holidays=frozenset({date(2024, 10, 7)}))
    opened = datetime(2024, 10, 6, 21, 30, tzinfo=SYDNEY)  # Sunday 21:30 AEDT = 10:30 UTC
    request = Request(
        type="welfare",
        alumnus_id=1,
        summary="(confidential)",
        source="web",
        opened_at=opened,
        last_update_at=opened,
    )
    welfare = types["welfare"]
    # 24 hours of any day: Monday 21:30 AEDT = 10:30 UTC; never closed automatically.
    got = deadlines_of(request, welfare, calendar, [], now=utc(2024, 10, 6, 11))
    assert got == Deadlines(utc(2024, 10, 7, 10, 30), None, None, paused=False)
    # Answered at Monday 01:00 AEDT (Sunday 14:00 UTC): the next word is due 24 hours later.
    answered = Request(
        **(request.model_dump() | {"first_response_at": utc(2024, 10, 6, 14)}),
    )
    got = deadlines_of(answered, welfare, calendar, [], now=utc(2024, 10, 6, 15))
    assert got == Deadlines(None, utc(2024, 10, 7, 14), None, paused=False)
