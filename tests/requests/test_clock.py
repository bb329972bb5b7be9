"""The SLA clock, with given instants: business time across holiday weekends that hold a
daylight-saving change (Europe and Australia), pauses, starts outside office hours, welfare's
clock that runs every hour of every day, and the inverse, ``elapsed``; the holidays from a real
.ics file and from one served by a local HTTP server.

Each expected instant is worked out by hand in the comment beside it (office hours 09:00-17:00,
so one business day is 8 office hours).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from alumni.requests.clock import (
    BusinessCalendar,
    ClockStopped,
    add_sla_time,
    add_span,
    elapsed,
    load_holidays,
)
from alumni.requests.holidays import HolidaysError
from alumni.requests.types import Span, SpanUnit
from alumni.settings import Settings

LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
SANTIAGO = ZoneInfo("America/Santiago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


# Easter 2024 in England: Good Friday 29 March and Easter Monday 1 April are bank holidays;
# British Summer Time began on the Sunday between, 31 March 01:00 UTC (GMT+0 -> BST+1).
LONDON_EASTER_2024 = BusinessCalendar(
    tz=LONDON, holidays=frozenset({date(2024, 3, 29), date(2024, 4, 1)})
)


def test_european_spring_holiday_weekend_with_the_clocks_going_forward() -> None:
    opened = utc(2024, 3, 28, 14)  # Thursday 14:00 GMT
    # Thu 14-17 = 3 h; Fri (holiday), Sat, Sun (BST begins), Mon (holiday) closed;
    # Tue 2 Apr 09-17 BST = 8 h (11 h); Wed 3 Apr 09:00 BST + 5 h = 14:00 BST = 13:00 UTC.
    due = add_span(LONDON_EASTER_2024, opened, Span(2, "business_days"))
    assert due == utc(2024, 4, 3, 13)
    assert due.tzinfo is UTC
    # Thu 3 h + Tue 09:00-10:00 BST 1 h = 4 business hours by Tuesday 10:00 BST (09:00 UTC).
    assert elapsed(LONDON_EASTER_2024, opened, utc(2024, 4, 2, 9), "business_hours") == 4
    assert elapsed(LONDON_EASTER_2024, opened, due, "business_days") == 2
    # Three quarters of it (12 office hours): Thu 3 h, Tue 8 h, Wed 09:00 BST + 1 h = 10:00
    # BST = 09:00 UTC.
    share = 0.75 * 2 * LONDON_EASTER_2024.unit_length("business_days")
    three_quarters = add_sla_time(LONDON_EASTER_2024, opened, share, "business_days")
    assert three_quarters == utc(2024, 4, 3, 9)
    assert elapsed(LONDON_EASTER_2024, opened, three_quarters, "business_days") == 1.5


def test_european_autumn_holiday_weekend_with_the_clocks_going_back() -> None:
    # An office in Berlin closed on Friday 25 and Monday 28 October 2024; Central European
    # Summer Time ended on the Sunday between, 27 October 01:00 UTC (CEST+2 -> CET+1).
    calendar = BusinessCalendar(
        tz=BERLIN, holidays=frozenset({date(2024, 10, 25), date(2024, 10, 28)})
    )
    opened = at(BERLIN, 2024, 10, 24, 16)  # Thursday 16:00 CEST = 14:00 UTC
    # Thu 16-17 = 1 h; Fri (holiday) .. Mon (holiday) closed; Tue 29 Oct 09:00 CET + 7 h =
    # 16:00 CET = 15:00 UTC.
    assert add_span(calendar, opened, Span(1, "business_days")) == utc(2024, 10, 29, 15)
    # 10 business days = 80 h: Thu 1 h; Tue 29-Thu 31 24 h (25 h); Fri 1 Nov 8 h (33 h);
    # Mon 4-Fri 8 Nov 40 h (73 h); Mon 11 Nov 09:00 CET + 7 h = 16:00 CET = 15:00 UTC.
    assert add_span(calendar, opened, Span(10, "business_days")) == utc(2024, 11, 11, 15)
    # The 25-hour Sunday still counts as one day: 14 days after Thursday 10:00 CEST is
    # Thursday 7 November 10:00 CET = 09:00 UTC (14 days and 1 hour of real time).
    assert add_span(calendar, at(BERLIN, 2024, 10, 24, 10), Span(14, "days")) == utc(2024, 11, 7, 9)
    # But 24 hours are 24 real hours: from Saturday 12:00 CEST (10:00 UTC) to Sunday 10:00
    # UTC, which Berlin's clocks show as 11:00 CET.
    assert add_span(calendar, at(BERLIN, 2024, 10, 26, 12), Span(24, "hours")) == utc(
        2024, 10, 27, 10
    )


# Sydney's Labour Day weekend 2024: Monday 7 October is a public holiday in New South Wales,
# and daylight saving began on the Sunday, 6 October 02:00 AEST -> 03:00 AEDT (UTC+10 -> +11).
SYDNEY_LABOUR_DAY_2024 = BusinessCalendar(tz=SYDNEY, holidays=frozenset({date(2024, 10, 7)}))


def test_southern_spring_holiday_weekend_with_the_clocks_going_forward() -> None:
    opened = at(SYDNEY, 2024, 10, 4, 15)  # Friday 15:00 AEST = 05:00 UTC
    # Fri 15-17 = 2 h; Sat, Sun (AEDT begins), Mon (holiday) closed; Tue 8 Oct 8 h (10 h);
    # Wed 9 Oct 09:00 AEDT + 6 h = 15:00 AEDT = 04:00 UTC.
    assert add_span(SYDNEY_LABOUR_DAY_2024, opened, Span(2, "business_days")) == utc(2024, 10, 9, 4)
    # 14 days after Sunday 22 September 02:30 AEST is Sunday 6 October 02:30, a time the clocks
    # skip: the span has run when they jump to 03:00 AEDT, 16:00 UTC on the Saturday.
    fortnight = add_span(SYDNEY_LABOUR_DAY_2024, at(SYDNEY, 2024, 9, 22, 2, 30), Span(14, "days"))
    assert fortnight == utc(2024, 10, 5, 16)


def test_a_paused_interval_does_not_count() -> None:
    opened = at(SYDNEY, 2024, 10, 4, 15)  # Friday 15:00 AEST
    # The office waited on the alum from Tuesday 13:00 to Wednesday 10:00 AEDT.
    pause = (at(SYDNEY, 2024, 10, 8, 13), at(SYDNEY, 2024, 10, 9, 10))
    # Fri 2 h; Tue 09-13 4 h (6 h); paused; Wed 10-17 7 h (13 h); Thu 10 Oct 09:00 + 3 h =
    # 12:00 AEDT = 01:00 UTC.
    due = add_span(SYDNEY_LABOUR_DAY_2024, opened, Span(2, "business_days"), [pause])
    assert due == utc(2024, 10, 10, 1)
    assert elapsed(SYDNEY_LABOUR_DAY_2024, opened, due, "business_days", [pause]) == 2
    # Paused time counts nothing: Tuesday 13:00 to Wednesday 10:00 adds no business hour.
    assert elapsed(SYDNEY_LABOUR_DAY_2024, opened, pause[1], "business_hours", [pause]) == 6
    # Overlapping pauses count as their union; one before the start changes nothing.
    split = [
        (at(SYDNEY, 2024, 10, 9, 9), pause[1]),
        pause,
        (at(SYDNEY, 2024, 10, 8, 14), at(SYDNEY, 2024, 10, 8, 16)),
        (at(SYDNEY, 2024, 10, 1, 9), at(SYDNEY, 2024, 10, 2, 9)),
    ]
    assert add_span(SYDNEY_LABOUR_DAY_2024, opened, Span(2, "business_days"), split) == due


def test_southern_autumn_easter_weekend_with_the_clocks_going_back() -> None:
    # Easter 2021 in New South Wales: Good Friday 2 April and Easter Monday 5 April; daylight
    # saving ended on Easter Sunday, 4 April 03:00 AEDT -> 02:00 AEST (UTC+11 -> +10).
    calendar = BusinessCalendar(tz=SYDNEY, holidays=frozenset({date(2021, 4, 2), date(2021, 4, 5)}))
    opened = at(SYDNEY, 2021, 4, 1, 10)  # Thursday 10:00 AEDT = Wednesday 23:00 UTC
    # 80 h: Thu 10-17 7 h; Tue 6-Fri 9 Apr 32 h (39 h); Mon 12-Fri 16 Apr 40 h (79 h);
    # Mon 19 Apr 09:00 AEST + 1 h = 10:00 AEST = 00:00 UTC.
    assert add_span(calendar, opened, Span(10, "business_days")) == utc(2021, 4, 19, 0)
    # The 25-hour Sunday holds no office hour: Thursday 16:00 AEDT to Tuesday 10:00 AEST is
    # 1 + 1 = 2 business hours.
    assert (
        elapsed(calendar, at(SYDNEY, 2021, 4, 1, 16), at(SYDNEY, 2021, 4, 6, 10), "business_hours")
        == 2
    )


def test_a_calendar_day_where_midnight_never_comes() -> None:
    # Santiago moved its clocks from 00:00 -04 to 01:00 -03 on Sunday 8 September 2024.
    calendar = BusinessCalendar(tz=SANTIAGO)
    # Saturday 10:00 -04 (14:00 UTC) + 1 day = Sunday 10:00 -03 = 13:00 UTC.
    assert add_span(calendar, at(SANTIAGO, 2024, 9, 7, 10), Span(1, "days")) == utc(2024, 9, 8, 13)


def test_a_start_outside_office_hours_counts_from_the_next_opening() -> None:
    calendar = BusinessCalendar(tz=LONDON)
    # Monday 2 June 2025 07:30 BST: counting starts at 09:00; + 2 h = 11:00 BST = 10:00 UTC.
    assert add_span(calendar, at(LONDON, 2025, 6, 2, 7, 30), Span(2, "business_hours")) == utc(
        2025, 6, 2, 10
    )
    # Friday 6 June 18:00 BST: nothing counts until Monday 9 June 09:00; one business day
    # then ends at Monday's closing, 17:00 BST = 16:00 UTC (not at Tuesday's opening).
    assert add_span(calendar, at(LONDON, 2025, 6, 6, 18), Span(1, "business_days")) == utc(
        2025, 6, 9, 16
    )
    # Saturday noon is the same as Monday 09:00.
    saturday, monday = at(LONDON, 2025, 6, 7, 12), at(LONDON, 2025, 6, 9, 9)
    assert add_span(calendar, saturday, Span(3, "business_hours")) == add_span(
        calendar, monday, Span(3, "business_hours")
    )
    assert elapsed(calendar, saturday, monday, "business_hours") == 0


def test_welfare_on_a_sunday_night_runs_through_the_night_and_the_holiday() -> None:
    # Sunday 1 June 2025 23:30 BST, the Monday after a holiday of the office.
    calendar = BusinessCalendar(tz=LONDON, holidays=frozenset({date(2025, 6, 2)}))
    opened = at(LONDON, 2025, 6, 1, 23, 30)  # 22:30 UTC
    # 24 hours of any day: Monday 23:30 BST = 22:30 UTC; the ladder's hourly step: 00:30 BST.
    assert add_span(calendar, opened, Span(24, "hours")) == utc(2025, 6, 2, 22, 30)
    assert add_span(calendar, opened, Span(1, "hours")) == utc(2025, 6, 1, 23, 30)
    # Three quarters of the 24 hours have passed at Monday 17:30 BST (16:30 UTC).
    assert elapsed(calendar, opened, utc(2025, 6, 2, 16, 30), "hours") / 24 == 0.75


def test_an_office_week_from_sunday_to_thursday() -> None:
    calendar = BusinessCalendar(
        tz=ZoneInfo("Asia/Dubai"),
        days=frozenset({6, 0, 1, 2, 3}),
        opens=time(8),
        closes=time(15, 30),
    )
    # Thursday 3 July 2025 14:00 +04: 1.5 h left that day; Friday and Saturday closed;
    # Sunday 6 July 08:00 + 6 h = 14:00 +04 = 10:00 UTC (one business day is 7.5 h).
    assert add_span(calendar, at(calendar.tz, 2025, 7, 3, 14), Span(1, "business_days")) == utc(
        2025, 7, 6, 10
    )


def test_an_open_pause_stops_the_clock_for_good() -> None:
    opened = at(LONDON, 2025, 6, 2, 9)
    waiting = [(at(LONDON, 2025, 6, 2, 12), None)]
    with pytest.raises(ClockStopped, match="never ends"):
        add_span(BusinessCalendar(tz=LONDON), opened, Span(1, "business_days"), waiting)
    with pytest.raises(ClockStopped, match=r"4:00:00 of SLA time \(business_hours\) from "):
        add_sla_time(
            BusinessCalendar(tz=LONDON), opened, timedelta(hours=4), "business_hours", waiting
        )
    # A span that runs out before the pause begins still ends: Monday 11:00 BST.
    assert add_span(BusinessCalendar(tz=LONDON), opened, Span(2, "business_hours"), waiting) == utc(
        2025, 6, 2, 10
    )
    # Time stops at the pause: 3 business hours by any later instant.
    assert (
        elapsed(BusinessCalendar(tz=LONDON), opened, utc(2025, 7, 1), "business_hours", waiting)
        == 3
    )


def test_elapsed_is_the_inverse_of_add_span_at_every_hour_around_a_change_of_clocks() -> None:
    # Every half hour from Thursday 3 to Thursday 10 October 2024 in Sydney (spring forward
    # and a holiday inside), with a pause, for each unit: add_span gives the first instant at
    # which the span has run, and elapsed measures exactly the span there, unless that instant
    # is the change of clocks itself (Friday 02:00 + 2 days: Sunday 02:00 never comes, the
    # day's clocks jump to 03:00).
    calendar, pause = (
        SYDNEY_LABOUR_DAY_2024,
        [(at(SYDNEY, 2024, 10, 8, 13), at(SYDNEY, 2024, 10, 9, 10))],
    )
    spring_forward = utc(2024, 10, 5, 16)
    spans = [
        Span(3, "business_days"),
        Span(5, "business_hours"),
        Span(25, "hours"),
        Span(2, "days"),
    ]
    start = at(SYDNEY, 2024, 10, 3, 0)
    for step in range(7 * 48):
        begin = start + timedelta(minutes=30 * step)
        for span in spans:
            end = add_span(calendar, begin, span, pause)
            ran = elapsed(calendar, begin, end, span.unit, pause)
            assert (
                elapsed(calendar, begin, end - timedelta(minutes=1), span.unit, pause) < span.amount
            )
            assert ran == span.amount or (ran > span.amount and end == spring_forward), (
                begin,
                span,
            )
            assert elapsed(calendar, end, begin, span.unit, pause) == -ran


@pytest.mark.parametrize("unit", ["business_days", "business_hours", "hours", "days"])
def test_naive_instants_are_refused(unit: SpanUnit) -> None:
    calendar = BusinessCalendar(tz=LONDON)
    with pytest.raises(ValueError, match="naive datetime 2025-06-02T09:00:00"):
        add_span(calendar, datetime(2025, 6, 2, 9), Span(1, unit))
    with pytest.raises(ValueError, match="naive datetime"):
        add_span(calendar, utc(2025, 6, 2, 9), Span(1, unit), [(datetime(2025, 6, 2, 10), None)])


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    calendar = BusinessCalendar(tz=LONDON)
    with pytest.raises(
        ValueError, match=r"a pause ends \(2025-06-02T10:00:00\+00:00\) before it starts"
    ):
        add_span(
            calendar,
            utc(2025, 6, 2, 9),
            Span(1, "business_days"),
            [(utc(2025, 6, 2, 11), utc(2025, 6, 2, 10))],
        )


def test_the_calendar_from_the_shipped_settings() -> None:
    calendar = BusinessCalendar.from_settings(
        Settings(office_timezone="Europe/London"), holidays=frozenset()
    )
    assert calendar == BusinessCalendar(
        tz=LONDON, days=frozenset(range(5)), opens=time(9), closes=time(17)
    )
    assert calendar.unit_length("business_days") == timedelta(hours=8)


def test_the_calendar_from_configured_settings() -> None:
    settings = Settings(
        office_timezone="Australia/Sydney", office_days="Sun-Thu", office_hours="08:30-16:00"
    )
    calendar = BusinessCalendar.from_settings(settings, holidays=frozenset({date(2025, 1, 1)}))
    assert calendar.days == frozenset({6, 0, 1, 2, 3})
    assert (calendar.opens, calendar.closes) == (time(8, 30), time(16))
    assert calendar.holidays == {date(2025, 1, 1)}
    assert calendar.unit_length("business_days") == timedelta(hours=7, minutes=30)


# The office's holidays as an iCalendar feed: Founders' Day every 15 March since 2010, the
# spring bank holiday (the last Monday of May, every year), a Christmas closure from 24 December
# 2024 to 1 January 2025 (DTEND is the day after, as RFC 5545 has it), and a staff meeting,
# which is not a holiday.
HOLIDAYS_ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Alumni Office//Holidays//EN
BEGIN:VEVENT
UID:founders@alumni.example.org
DTSTAMP:20240101T000000Z
DTSTART;VALUE=DATE:20100315
RRULE:FREQ=YEARLY
SUMMARY:Founders' Day
END:VEVENT
BEGIN:VEVENT
UID:spring-bank@alumni.example.org
DTSTAMP:20240101T000000Z
DTSTART;VALUE=DATE:20200525
RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO
SUMMARY:Spring bank holiday
END:VEVENT
BEGIN:VEVENT
UID:christmas-2024@alumni.example.org
DTSTAMP:20240101T000000Z
DTSTART;VALUE=DATE:20241224
DTEND;VALUE=DATE:20250102
SUMMARY:Christmas closure
END:VEVENT
BEGIN:VEVENT
UID:staff-meeting@alumni.example.org
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/London:20240304T100000
DTEND;TZID=Europe/London:20240304T120000
RRULE:FREQ=WEEKLY
SUMMARY:Staff meeting
END:VEVENT
END:VCALENDAR
"""
HOLIDAYS_2024_2025 = {
    date(2024, 3, 15),
    date(2025, 3, 15),
    date(2024, 5, 27),
    date(2025, 5, 26),
    *(date(2024, 12, 24) + timedelta(days=n) for n in range(9)),  # 24 Dec to 1 Jan
}


@pytest.fixture
def holidays_file(tmp_path: Path) -> Path:
    path = tmp_path / "holidays.ics"
    path.write_text(HOLIDAYS_ICS, encoding="utf-8")
    return path


def test_holidays_from_an_ics_file(holidays_file: Path) -> None:
    assert load_holidays(str(holidays_file), years=range(2024, 2026)) == HOLIDAYS_2024_2025
    # Only the years asked for: the closure's 2025 days alone in 2025.
    in_2025 = load_holidays(str(holidays_file), years=range(2025, 2026))
    assert in_2025 == {day for day in HOLIDAYS_2024_2025 if day.year == 2025}
    assert load_holidays(None, years=range(2024, 2026)) == frozenset()


def test_a_deadline_skips_the_feeds_holidays(holidays_file: Path) -> None:
    holidays = load_holidays(str(holidays_file), years=range(2024, 2026))
    calendar = BusinessCalendar(tz=LONDON, holidays=holidays)
    # Monday 23 December 2024 10:00 GMT: 7 h that day; closed 24 December to 1 January;
    # Thursday 2 January 09:00 + 1 h = 10:00 GMT.
    assert add_span(calendar, utc(2024, 12, 23, 10), Span(1, "business_days")) == utc(
        2025, 1, 2, 10
    )
    # Friday 24 May 2024 16:00 BST: 1 h; Monday 27 May (spring bank holiday) closed;
    # Tuesday 28 May 09:00 BST + 3 h = 12:00 BST = 11:00 UTC.
    assert add_span(calendar, at(LONDON, 2024, 5, 24, 16), Span(4, "business_hours")) == utc(
        2024, 5, 28, 11
    )


def test_the_settings_name_the_holidays_feed(
    holidays_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_HOLIDAYS_ICS", str(holidays_file))
    settings = Settings()
    assert str(holidays_file) not in repr(settings)  # a private feed's address is a secret
    calendar = BusinessCalendar.from_settings(settings)
    this_year = datetime.now(UTC).year
    # Two years back to two years ahead of today, Founders' Day in each.
    founders_days = {date(year, 3, 15) for year in range(this_year - 2, this_year + 3)}
    assert {day for day in calendar.holidays if (day.month, day.day) == (3, 15)} == founders_days


class _FeedServer(ThreadingHTTPServer):
    feed = HOLIDAYS_ICS.encode()
    requests: list[str]


class _FeedHandler(BaseHTTPRequestHandler):
    server: _FeedServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if self.path.startswith("/holidays.ics"):
            self._answer(200, self.server.feed, "text/calendar")
        elif self.path == "/moved.ics":
            self.send_response(302)
            self.send_header("Location", "http://calendar.example.org/holidays.ics")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/page.html":
            self._answer(200, b"<html><body>Our holidays</body></html>", "text/html")
        else:
            self._answer(404, b"not here", "text/plain")

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def feed_server() -> Iterator[_FeedServer]:
    """A real HTTP server on a free loopback port, serving the holidays feed."""
    server = _FeedServer(("127.0.0.1", 0), _FeedHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_holidays_served_over_http_are_read_once_per_process(feed_server: _FeedServer) -> None:
    url = f"http://127.0.0.1:{feed_server.server_port}/holidays.ics?run={uuid.uuid4()}"
    assert load_holidays(url, years=range(2024, 2026)) == HOLIDAYS_2024_2025
    assert load_holidays(url, years=range(2024, 2026)) == HOLIDAYS_2024_2025
    assert len(feed_server.requests) == 1
    localhost = url.replace("127.0.0.1", "localhost")
    assert load_holidays(localhost, years=range(2024, 2026)) == HOLIDAYS_2024_2025


def test_a_feed_that_cannot_be_read_is_named_in_a_clear_error(
    feed_server: _FeedServer, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{feed_server.server_port}"
    years = range(2024, 2026)
    with pytest.raises(HolidaysError, match=rf"{base}/missing.ics answered HTTP 404"):
        load_holidays(f"{base}/missing.ics", years=years)
    with pytest.raises(HolidaysError, match=rf"{base}/page.html is not an iCalendar feed"):
        load_holidays(f"{base}/page.html", years=years)
    # Plain http to another machine is refused before anything is sent, and so is a redirect
    # to one.
    with pytest.raises(HolidaysError, match="only https addresses are fetched"):
        load_holidays("http://calendar.example.org/holidays.ics", years=years)
    with pytest.raises(
        HolidaysError,
        match=rf"{base}/moved.ics redirects to http://calendar.example.org/holidays.ics: "
        "only https addresses are fetched",
    ):
        load_holidays(f"{base}/moved.ics", years=years)
    assert "/holidays.ics" not in feed_server.requests
    missing = tmp_path / "nowhere.ics"
    with pytest.raises(HolidaysError, match=rf"{missing}: cannot read the holidays file"):
        load_holidays(str(missing), years=years)


def test_an_error_keeps_a_private_feeds_key_secret(feed_server: _FeedServer) -> None:
    # A private calendar's address carries its key; the server speaks no TLS, so https fails.
    url = f"https://127.0.0.1:{feed_server.server_port}/calendar/private-0f1e2d3c4b5a/basic.ics"
    with pytest.raises(HolidaysError) as raised:
        load_holidays(f"{url}?token=s3cr3t", years=range(2024, 2026))
    message = str(raised.value)
    shown = f"https://127.0.0.1:{feed_server.server_port}/…/basic.ics cannot be fetched"
    assert shown in message
    assert "0f1e2d3c4b5a" not in message and "s3cr3t" not in message


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ALUMNI_OFFICE_DAYS", "Mon-Fry", "ALUMNI_OFFICE_DAYS='Mon-Fry': 'Mon-Fry' is not a day"),
        ("ALUMNI_OFFICE_DAYS", "Mon-Wed-Fri", "'Mon-Wed-Fri' is not a day or a range of days"),
        ("ALUMNI_OFFICE_DAYS", "", "write day names and ranges like Mon-Fri or Sun-Thu"),
        ("ALUMNI_OFFICE_HOURS", "9-5", "ALUMNI_OFFICE_HOURS='9-5' is not opening hours"),
        ("ALUMNI_OFFICE_HOURS", "09:00-24:00", r"\(hour must be in 0..23\); write the opening"),
        ("ALUMNI_OFFICE_HOURS", "17:00-09:00", "closes before it opens; write opening and"),
    ],
)
def test_office_days_and_hours_are_checked(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=says):
        Settings()


def test_office_days_and_hours_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALUMNI_OFFICE_DAYS", "monday-wednesday, Fri, sat-sat")
    monkeypatch.setenv("ALUMNI_OFFICE_HOURS", " 8:15 - 12:45 ")
    calendar = BusinessCalendar.from_settings(Settings(), holidays=frozenset())
    assert calendar.days == frozenset({0, 1, 2, 4, 5})
    assert (calendar.opens, calendar.closes) == (time(8, 15), time(12, 45))


def test_sla_time_never_runs_backwards() -> None:
    with pytest.raises(ValueError, match="SLA time cannot run backwards: -1 day, 23:00:00"):
        add_sla_time(BusinessCalendar(tz=LONDON), utc(2025, 6, 2, 9), timedelta(hours=-1), "hours")
