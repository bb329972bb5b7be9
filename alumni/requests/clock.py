"""The SLA clock: how much SLA time lies between two instants, and when a span of it ends.

Business days and hours count only the office's opening hours (``ALUMNI_OFFICE_HOURS``, wall-clock
time in ``ALUMNI_OFFICE_TIMEZONE``) on its business days (``ALUMNI_OFFICE_DAYS``) that are not
holidays; a business day is one day's opening hours (8 hours for 09:00-17:00), so an office day
that a daylight-saving change makes 23 or 25 hours long still has its 8 office hours. ``hours``
run on every day in real time; ``days`` are calendar days of the office (14 days after Monday
10:00 is Monday 10:00, summer time or not). A start outside office hours counts from the next
opening. Paused intervals (the office waiting on the alum) do not count; a pause with no end
stops the clock for good.

`add_span` and `elapsed` are pure: every instant is given (timezone-aware), nothing is read.
`load_holidays` reads the office's holidays from an iCalendar feed (``ALUMNI_HOLIDAYS_ICS``, a
file or an https URL), recurring ones included, once per process.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import icalendar
import recurring_ical_events

from alumni.requests.types import Span, SpanUnit
from alumni.settings import Settings, parse_office_days, parse_office_hours

Pause = tuple[datetime, datetime | None]  # (started, ended); ended None: still paused

# How long reading a holidays feed may take before it is given up with an error.
FEED_TIMEOUT_SECONDS = 15.0
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_WEEK = frozenset(range(7))


class ClockStopped(ValueError):
    """The span never ends: a pause with no end stops the clock before it does."""


class HolidaysError(ValueError):
    """The holidays feed cannot be read; the message names the source and what to do."""


@dataclass(frozen=True)
class BusinessCalendar:
    """When the office is open: its zone, business days (0 = Monday), hours and holidays."""

    tz: ZoneInfo
    days: frozenset[int] = frozenset(range(5))
    opens: time = time(9)
    closes: time = time(17)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.days or not self.days <= _WEEK:
            raise ValueError(f"business days must be some of 0 (Monday) to 6, not {self.days}")
        if self.closes <= self.opens:
            raise ValueError(f"the office closes ({self.closes}) before it opens ({self.opens})")

    @classmethod
    def from_settings(
        cls, settings: Settings, *, holidays: frozenset[date] | None = None
    ) -> BusinessCalendar:
        """The office's calendar as configured.

        Args:
            settings: gives the zone, days and hours, and ``holidays_ics``.
            holidays: the holidays to use; None: those of ``ALUMNI_HOLIDAYS_ICS`` from two
                years back to two years ahead (read once per process; none when unset).

        Raises:
            HolidaysError: the holidays feed cannot be read.
        """
        if holidays is None:
            feed = settings.holidays_ics
            year = datetime.now(UTC).year
            source = None if feed is None else feed.get_secret_value()
            holidays = load_holidays(source, years=range(year - 2, year + 3))
        opens, closes = parse_office_hours(settings.office_hours)
        return cls(
            tz=ZoneInfo(settings.office_timezone),
            days=parse_office_days(settings.office_days),
            opens=opens,
            closes=closes,
            holidays=holidays,
        )

    def is_business_day(self, day: date) -> bool:
        """Whether the office opens on ``day`` (a date of its own calendar)."""
        return day.weekday() in self.days and day not in self.holidays

    def unit_length(self, unit: SpanUnit) -> timedelta:
        """The SLA time one ``unit`` stands for: a business day is one day's opening hours."""
        if unit == "business_days":
            return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)
        return timedelta(days=1) if unit == "days" else timedelta(hours=1)


def add_span(
    calendar: BusinessCalendar, start: datetime, span: Span, pauses: Sequence[Pause] = ()
) -> datetime:
    """The instant (in UTC) at which ``span`` of SLA time has run since ``start``.

    A span of business time that ends exactly at closing ends then (not at the next opening).

    Raises:
        ClockStopped: a pause with no end stops the clock before the span has run.
        ValueError: a naive datetime was given.
    """
    remaining = span.amount * calendar.unit_length(span.unit)
    for piece_start, piece_end in _running(calendar, span.unit, _utc(start), pauses):
        length = _measure(calendar, span.unit, piece_start, piece_end)
        if remaining == length:
            return piece_end
        if remaining < length:
            return _after(calendar, span.unit, piece_start, remaining)
        remaining -= length
    raise ClockStopped(
        f"the clock is paused with no end: {span} from {start.isoformat()} never ends"
    )


def elapsed(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    unit: SpanUnit,
    pauses: Sequence[Pause] = (),
) -> float:
    """The SLA time between ``start`` and ``end``, in ``unit`` (negative when end is earlier).

    The inverse of `add_span`: ``elapsed(c, s, add_span(c, s, span, p), span.unit, p)`` is
    ``span.amount``.

    Raises:
        ValueError: a naive datetime was given.
    """
    start, end = _utc(start), _utc(end)
    if end < start:
        return -elapsed(calendar, end, start, unit, pauses)
    total = timedelta()
    for piece_start, piece_end in _running(calendar, unit, start, pauses):
        if piece_start >= end:
            break
        total += _measure(calendar, unit, piece_start, min(piece_end, end))
    return total / calendar.unit_length(unit)


def _running(
    calendar: BusinessCalendar, unit: SpanUnit, start: datetime, pauses: Sequence[Pause]
) -> Iterator[tuple[datetime, datetime]]:
    """The intervals from ``start`` on (UTC, in order) in which the clock of ``unit`` runs.

    Endless, unless a pause with no end stops it.
    """
    stops = sorted((_utc(begun), None if ended is None else _utc(ended)) for begun, ended in pauses)
    for window_start, window_end in _windows(calendar, unit, start):
        cursor = max(window_start, start)
        for stop_start, stop_end in stops:
            if cursor >= window_end or stop_start >= window_end:
                break
            if stop_end is not None and stop_end <= cursor:
                continue
            if stop_start > cursor:
                yield cursor, stop_start
            if stop_end is None:
                return
            cursor = stop_end
        if cursor < window_end:
            yield cursor, window_end


def _windows(
    calendar: BusinessCalendar, unit: SpanUnit, start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The office's opening hours (business units) or whole days, from the day of ``start``."""
    day = _wall(calendar, start).date()
    business = unit.startswith("business_")
    while True:
        if not business:
            yield _at(calendar, day, time()), _at(calendar, day + timedelta(days=1), time())
        elif calendar.is_business_day(day):
            yield _at(calendar, day, calendar.opens), _at(calendar, day, calendar.closes)
        day += timedelta(days=1)


def _measure(
    calendar: BusinessCalendar, unit: SpanUnit, start: datetime, end: datetime
) -> timedelta:
    """The SLA time of a running interval: real time for hours, wall-clock time otherwise."""
    if unit == "hours":
        return end - start
    return _wall(calendar, end) - _wall(calendar, start)


def _after(
    calendar: BusinessCalendar, unit: SpanUnit, start: datetime, length: timedelta
) -> datetime:
    """The instant ``length`` of SLA time after ``start``, inside one running interval."""
    if unit == "hours":
        return start + length
    return (_wall(calendar, start) + length).replace(tzinfo=calendar.tz).astimezone(UTC)


def _at(calendar: BusinessCalendar, day: date, wall_time: time) -> datetime:
    """The instant (UTC) the office's clocks show ``wall_time`` on ``day``."""
    return datetime.combine(day, wall_time, tzinfo=calendar.tz).astimezone(UTC)


def _wall(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """What the office's clocks show at ``instant`` (naive)."""
    return instant.astimezone(calendar.tz).replace(tzinfo=None)


def _utc(instant: datetime) -> datetime:
    # Aware values of one zone compare by wall clock in Python; in UTC they compare as instants.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()} given: give timezone-aware times")
    return instant.astimezone(UTC)


@lru_cache(maxsize=16)
def load_holidays(source: str | None, *, years: range) -> frozenset[date]:
    """The holidays of an iCalendar feed falling in ``years``: the days of its all-day events.

    Recurring events (a yearly RRULE) count in each year; a multi-day event counts each of its
    days; timed events (a meeting) are not holidays. Read once per process for each source
    and range of years.

    Args:
        source: a file path, or an https URL (http only to localhost); None: no holidays.
        years: the years wanted, e.g. ``range(2025, 2027)``.

    Raises:
        HolidaysError: the feed cannot be fetched or read, or is not iCalendar; the message
            names the source (an URL without its secret parts) and what to do.
    """
    if source is None or not years:
        return frozenset()
    data = _fetch(source) if "://" in source else _read(source)
    first, last = date(min(years), 1, 1), date(max(years) + 1, 1, 1)
    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = recurring_ical_events.of(calendar).between(first, last)
    except (ValueError, KeyError, TypeError) as exc:
        raise HolidaysError(
            f"ALUMNI_HOLIDAYS_ICS {_shown(source)} is not an iCalendar feed ({exc}); give the "
            "path or address of the office's holidays calendar (.ics)"
        ) from exc
    days: set[date] = set()
    for event in events:
        begins, ends = event.start, event.end
        if isinstance(begins, datetime) or not isinstance(begins, date):
            continue  # a timed event: the office is open around it
        ends = ends if isinstance(ends, date) and ends > begins else begins + timedelta(days=1)
        days.update(begins + timedelta(days=n) for n in range((ends - begins).days))
    return frozenset(day for day in days if first <= day < last)


def _read(source: str) -> bytes:
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise HolidaysError(
            f"ALUMNI_HOLIDAYS_ICS {source}: cannot read the holidays file ({exc.strerror}); "
            "give the path of an .ics file or an https URL"
        ) from exc


def _fetch(source: str) -> bytes:
    url = _feed_url(source)

    def refuse_plain_http(request: httpx.Request) -> None:  # a redirect too
        _feed_url(str(request.url), shown=_shown(source))

    try:
        with httpx.Client(
            timeout=FEED_TIMEOUT_SECONDS,
            follow_redirects=True,
            event_hooks={"request": [refuse_plain_http]},
        ) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        raise HolidaysError(
            f"ALUMNI_HOLIDAYS_ICS {_shown(source)} cannot be fetched ({type(exc).__name__}); "
            "check the address and that this machine can reach it"
        ) from exc
    if response.status_code != httpx.codes.OK:
        raise HolidaysError(
            f"ALUMNI_HOLIDAYS_ICS {_shown(source)} answered HTTP {response.status_code}; "
            "check the address of the holidays feed"
        )
    return response.content


def _feed_url(source: str, *, shown: str | None = None) -> httpx.URL:
    """``source`` as an URL that may be fetched: https, or http to this machine."""
    try:
        url = httpx.URL(source)
    except httpx.InvalidURL as exc:
        raise HolidaysError(f"ALUMNI_HOLIDAYS_ICS {shown or _shown(source)} is not an URL") from exc
    if url.scheme == "https" or (url.scheme == "http" and url.host in _LOOPBACK_HOSTS):
        return url
    raise HolidaysError(
        f"ALUMNI_HOLIDAYS_ICS {shown or _shown(source)}: only https addresses are fetched (http "
        "only from localhost); give the feed's https address or a file path"
    )


def _shown(source: str) -> str:
    """An URL as errors show it: a private calendar's key may sit in its path or query."""
    try:
        url = httpx.URL(source)
    except httpx.InvalidURL:
        return "(an address that is not an URL)"
    name = url.path.rsplit("/", 1)[-1]
    hidden = url.path.count("/") > 1 or url.query
    return f"{url.scheme}://{url.host}/{'…/' if hidden else ''}{name}"
