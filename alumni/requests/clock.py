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
`BusinessCalendar.from_settings` gives the configured office, with the holidays of
``ALUMNI_HOLIDAYS_ICS`` (read by `alumni.requests.holidays.load_holidays`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alumni.requests.holidays import HolidaysError, load_holidays
from alumni.requests.types import Span, SpanUnit
from alumni.settings import Settings, parse_office_days, parse_office_hours

__all__ = [
    "BusinessCalendar",
    "ClockStopped",
    "HolidaysError",
    "Pause",
    "add_sla_time",
    "add_span",
    "elapsed",
    "load_holidays",
]

Pause = tuple[datetime, datetime | None]  # (started, ended); ended None: still paused

_WEEK = frozenset(range(7))
_NEVER = datetime.max.replace(tzinfo=UTC)  # the end of a pause that has not ended
_SECOND = timedelta(seconds=1)  # zones change their clocks on a whole second


class ClockStopped(ValueError):
    """The span never ends: a pause with no end stops the clock before it does."""


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
    length = span.amount * calendar.unit_length(span.unit)
    return add_sla_time(calendar, start, length, span.unit, pauses)


def add_sla_time(
    calendar: BusinessCalendar,
    start: datetime,
    length: timedelta,
    unit: SpanUnit,
    pauses: Sequence[Pause] = (),
) -> datetime:
    """The instant (in UTC) at which ``length`` of SLA time, counted by the clock of ``unit``,
    has run since ``start``: any share of a span, e.g. 75% of 2 business days is
    ``0.75 * 2 * calendar.unit_length("business_days")`` (12 office hours).

    Raises:
        ClockStopped: a pause with no end stops the clock before that time has run.
        ValueError: a naive datetime was given, or a negative length.
    """
    if length < timedelta():
        raise ValueError(f"SLA time cannot run backwards: {length} given")
    remaining = length
    for piece_start, piece_end in _running(calendar, unit, _utc(start), pauses):
        run = _measure(calendar, unit, piece_start, piece_end)
        if remaining == run:
            return piece_end
        if remaining < run:
            return _after(calendar, unit, piece_start, remaining)
        remaining -= run
    raise ClockStopped(
        f"the clock is paused with no end: {length} of SLA time ({unit}) from "
        f"{start.isoformat()} never ends"
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
    stops = sorted(_pause(pause) for pause in pauses)
    for window_start, window_end in _windows(calendar, unit, start):
        cursor = max(window_start, start)
        for stop_start, stop_end in stops:
            if cursor >= window_end or stop_start >= window_end:
                break
            if stop_end <= cursor:
                continue
            if stop_start > cursor:
                yield cursor, stop_start
            if stop_end == _NEVER:
                return
            cursor = stop_end
        if cursor < window_end:
            yield cursor, window_end


def _pause(pause: Pause) -> tuple[datetime, datetime]:
    """A pause in UTC; one with no end ends at the end of time."""
    started, ended = _utc(pause[0]), None if pause[1] is None else _utc(pause[1])
    if ended is not None and ended < started:
        raise ValueError(
            f"a pause ends ({ended.isoformat()}) before it starts ({started.isoformat()})"
        )
    return started, _NEVER if ended is None else ended


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
    return _instant(calendar, _wall(calendar, start) + length)


def _at(calendar: BusinessCalendar, day: date, wall_time: time) -> datetime:
    """The first instant (UTC) the office's clocks show ``wall_time`` on ``day`` or later."""
    return _instant(calendar, datetime.combine(day, wall_time))


def _instant(calendar: BusinessCalendar, wall: datetime) -> datetime:
    """The first instant (UTC) at which the office's clocks show ``wall`` or later.

    A wall time the clocks skip (02:30 when they jump from 02:00 to 03:00) gives the instant
    of the jump; one they show twice (when they go back) gives its first showing.
    """
    first = wall.replace(tzinfo=calendar.tz, fold=0).astimezone(UTC)  # fold 0: first showing
    if _wall(calendar, first) == wall:
        return first
    # Skipped: the clocks show less than ``wall`` at ``early``, more at ``late``; the jump is
    # between them, on a whole second.
    early, late = wall.replace(tzinfo=calendar.tz, fold=1).astimezone(UTC), first
    while late - early > _SECOND:
        middle = early + (late - early) / 2
        early, late = (middle, late) if _wall(calendar, middle) < wall else (early, middle)
    return late.replace(microsecond=0)


def _wall(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """What the office's clocks show at ``instant`` (naive)."""
    return instant.astimezone(calendar.tz).replace(tzinfo=None)


def _utc(instant: datetime) -> datetime:
    # Aware values of one zone compare by wall clock in Python; in UTC they compare as instants.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()} given: give timezone-aware times")
    return instant.astimezone(UTC)
