"""The owners' daily digest: one email a day to each officer who owns open requests, listing
them by deadline, breaches first (the ``desk-digest`` deployment, weekdays 08:00 office time;
``alumni request digest`` by hand). The requests nobody owns go in the desk lead's digest.

Each digest is a row of the ledger's office notices, one per owner and office day (the day in
``ALUMNI_OFFICE_TIMEZONE``), so a rerun, two runs at once or a second run that day send it once.
Its text is made when it is sent. A confidential request (welfare) is listed by its id, type,
age, status and deadline only; other requests show the start of their summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from alumni.db import write_transaction
from alumni.models import NoticeMedium, utcnow
from alumni.requests import officer_mail
from alumni.requests.clock import BusinessCalendar
from alumni.requests.ladder import Officers, OnTheClock, desk_rules, open_requests
from alumni.requests.office_notices import (
    DIGEST,
    ClaimedNotice,
    Compose,
    new_row,
    plan_rows,
    send_due,
)
from alumni.requests.types import RequestType
from alumni.requests.views import open_requests_seen_by_nobody
from alumni.settings import Settings

DAY = "day"  # the deadline kind of a digest row: its deadline_at is the start of the office day


def office_day(now: datetime, zone: ZoneInfo) -> datetime:
    """The start (midnight, office time) of the office's day that holds ``now``, as the
    instant a digest row is unique by (pure)."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def recipients(items: list[OnTheClock], *, lead: str) -> dict[str, list[OnTheClock]]:
    """Each digest's requests by recipient: owners get theirs; the lead also those nobody
    owns (pure)."""
    found: dict[str, list[OnTheClock]] = {}
    for item in items:
        found.setdefault(item.request.owner or lead, []).append(item)
    return found


def plan_digests(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    calendar: BusinessCalendar,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Plan today's digest for each owner of open requests (once per owner and office day);
    return how many this call planned.

    Raises:
        ValueError: ALUMNI_FROM has no address.
    """
    _, domain = settings.sender_address()
    lead = Officers.from_settings(settings).lead
    with engine.connect() as connection:
        items = open_requests(connection, now=now)
    day = office_day(now, calendar.tz)
    rows = [
        new_row(
            topic=DIGEST,
            request_id=None,
            deadline_kind=DAY,
            deadline_at=day,
            rung=DIGEST,
            level=0,
            medium=NoticeMedium.email,
            recipient=owner,
            due_at=now,
            domain=domain,
            now=clock(),
        )
        for owner in sorted(recipients(items, lead=lead))
    ]
    with write_transaction(engine) as connection:
        return plan_rows(connection, rows)


def composer(
    engine: Engine,
    *,
    settings: Settings,
    types: Mapping[str, RequestType],
    calendar: BusinessCalendar,
) -> Compose:
    """What makes a digest row's email when it is sent: (row, now) -> (subject, body), from
    the recipient's open requests at that moment (``views.open_requests_seen_by_nobody``:
    no confidential content is in them)."""
    lead = Officers.from_settings(settings).lead

    def compose(notice: ClaimedNotice, now: datetime) -> tuple[str, str]:
        with engine.connect() as connection:
            views = open_requests_seen_by_nobody(
                connection, now=now, types=types, calendar=calendar
            )
        mine = [v for v in views if (v["owner"] or lead) == notice.recipient]
        subject = officer_mail.digest_subject(mine, now=now, zone=calendar.tz)
        body = officer_mail.digest_body(
            mine, now=now, zone=calendar.tz, unowned=notice.recipient == lead
        )
        return subject, body

    return compose


@dataclass(frozen=True, slots=True)
class DigestSummary:
    """What one digest run did: digests planned by it, and notice rows sent by it."""

    planned: int
    sent: int
    retrying: int
    failed: int


def send_digests(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    worker: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DigestSummary:
    """Plan today's digests and send every office notice that is due (digests, and any rung
    email or chat message waiting for a retry).

    Raises:
        RequestTypesError, HolidaysError: the desk's rules cannot be read (nothing changed).
        SmtpConnectError: no connection to the SMTP server (the digests stay planned).
    """
    types, calendar = desk_rules(settings)
    planned = plan_digests(engine, now=now, settings=settings, calendar=calendar, clock=clock)
    counts = send_due(
        engine,
        settings=settings,
        types=types,
        calendar=calendar,
        compose_digest=composer(engine, settings=settings, types=types, calendar=calendar),
        worker=worker,
        clock=clock,
    )
    return DigestSummary(planned, counts["sent"], counts["transient"], counts["permanent"])
