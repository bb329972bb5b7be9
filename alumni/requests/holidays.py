"""The office's holidays, read from an iCalendar feed (``ALUMNI_HOLIDAYS_ICS``).

The feed is a file or an https URL (plain http only from this machine), read with
``icalendar`` and ``recurring-ical-events``: a holiday is an all-day event, a multi-day event
closes each of its days, and recurring events (``RRULE:FREQ=YEARLY``) close a day in each year.
A feed is read once per process. A private calendar's address carries its key, so errors show
only its host and file name.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import httpx
import icalendar
import recurring_ical_events

# How long reading a holidays feed may take before it is given up with an error.
FEED_TIMEOUT_SECONDS = 15.0
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class HolidaysError(ValueError):
    """The holidays feed cannot be read; the message names the source and what to do."""


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

    def refuse_plain_http(request: httpx.Request) -> None:
        if request.url != url:  # a redirect: checked as the address given was
            target = str(request.url)
            _feed_url(target, shown=f"{_shown(source)} redirects to {_shown(target)}")

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
    return f"{url.scheme}://{url.netloc.decode()}/{'…/' if hidden else ''}{name}"
