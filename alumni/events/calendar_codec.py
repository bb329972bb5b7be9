"""Calendar invites (iTIP REQUEST/CANCEL, RFC 5545/5546) and the REPLYs that come back.

An invite states its times in the event's own zone (``DTSTART;TZID=Europe/London:...``) with one
VTIMEZONE built from RRULE rules derived from the tz database, covering the event's year(s) and
one year either side. We do not use icalendar's ``add_missing_timezones()``: its VTIMEZONE lists
past onsets as comma-separated RDATEs, which ical.js and vobject read one hour off. Plain UTC
times would also parse alike everywhere, but a zoned time keeps what an in-person event means
("19:00 in London") and lets clients show the event's zone. The one exception is a time in the
hour a clock change repeats, which is written in UTC (see ``_wall_or_utc``).
tests/events/test_calendar_codec.py checks that icalendar, vobject and ical.js read the same UTC
instants.

Errors::

    InviteError   an invite that cannot be built, or a REPLY that cannot be understood
"""

from __future__ import annotations

import calendar
import dataclasses
import email
import email.message
import email.policy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.prop import vCalAddress, vText

PRODID = "-//Alumni Outreach//alumni-outreach invites//EN"
REMINDER = timedelta(days=1)  # VALARM before the start

Method = Literal["REQUEST", "CANCEL"]
Status = Literal["CONFIRMED", "CANCELLED"]
PartStat = Literal["ACCEPTED", "DECLINED", "TENTATIVE"]
_PARTSTATS: tuple[PartStat, ...] = ("ACCEPTED", "DECLINED", "TENTATIVE")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class InviteError(ValueError):
    """An invite that cannot be built, or a REPLY that cannot be understood."""


@dataclass(frozen=True)
class InviteEvent:
    """What an invite says about one event; ``uid`` never changes, ``sequence`` only rises."""

    uid: str
    sequence: int
    title: str
    description: str
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    tz: str  # IANA name of the event's zone
    location: str | None
    online_url: str | None
    organizer_email: str
    organizer_name: str
    status: Status = "CONFIRMED"

    def revised(self, **changes: Any) -> InviteEvent:
        """Return the event with ``changes`` applied and SEQUENCE one higher (RFC 5546 2.1.4)."""
        return dataclasses.replace(self, **changes, sequence=self.sequence + 1)

    def cancelled(self) -> InviteEvent:
        """Return the event as CANCELLED with SEQUENCE one higher, ready for a CANCEL."""
        return self.revised(status="CANCELLED")


@dataclass(frozen=True)
class Reply:
    """An attendee's answer (iTIP METHOD:REPLY) to one of our invites."""

    uid: str
    sequence: int
    attendee_email: str  # lower-cased, without mailto:
    partstat: PartStat
    dtstamp: datetime  # aware, UTC: when the attendee's client wrote the reply
    comment: str | None


def build_invite(
    event: InviteEvent,
    *,
    method: Method,
    attendee_email: str,
    attendee_name: str,
    now: datetime,
) -> bytes:
    """Build the iCalendar object for one attendee: REQUEST (new or updated) or CANCEL.

    Args:
        event: the event; for an update or a cancellation pass ``event.revised(...)`` or
            ``event.cancelled()`` so SEQUENCE rises, or clients ignore the change.
        method: ``"REQUEST"`` (with a reminder a day before) or ``"CANCEL"``.
        attendee_email: the invited address.
        attendee_name: shown by clients next to the address.
        now: aware; written as DTSTAMP.

    Returns:
        CRLF-terminated, folded UTF-8 bytes for a ``text/calendar; method=...`` part.

    Raises:
        InviteError: naming the event's UID and the field to fix.
    """
    where = f"event {event.uid!r}"
    _check_event(event, method, where)
    attendee = _address(attendee_email, f"{where}: attendee_email")
    organizer = _address(event.organizer_email, f"{where}: organizer_email")
    if now.tzinfo is None:
        raise InviteError(f"{where}: now must be timezone-aware (DTSTAMP is written in UTC)")
    zone = _zone(event.tz, where)
    starts_local = event.starts_at.astimezone(zone)
    ends_local = event.ends_at.astimezone(zone)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add_component(
        _vtimezone(
            event.tz,
            first=date(starts_local.year - 1, 1, 1),
            last=date(ends_local.year + 2, 1, 1),
        )
    )

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", _wall_or_utc(starts_local))
    vevent.add("dtend", _wall_or_utc(ends_local))
    vevent.add("summary", _text(event.title))
    vevent.add("description", _text(_description(event)))
    place = event.location.strip() if event.location and event.location.strip() else None
    if place is not None or event.online_url:
        vevent.add("location", _text(place if place is not None else str(event.online_url)))
    if event.online_url:
        vevent.add("url", event.online_url)
    vevent.add("organizer", _cal_address(organizer, event.organizer_name))
    guest = _cal_address(attendee, attendee_name)
    guest.params["ROLE"] = "REQ-PARTICIPANT"
    guest.params["PARTSTAT"] = "NEEDS-ACTION"
    guest.params["RSVP"] = "TRUE"
    vevent.add("attendee", guest)
    vevent.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    if method == "REQUEST":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _text(event.title))
        alarm.add("trigger", -REMINDER)
        vevent.add_component(alarm)
    cal.add_component(vevent)
    data: bytes = cal.to_ical()
    return data


def _wall_or_utc(local: datetime) -> datetime:
    """The zoned time, or UTC when the wall clock shows it twice (the hour repeated at a change).

    RFC 5545 reads a repeated wall time as its first occurrence (vobject and icalendar do, ical.js
    takes the second), so the second pass cannot be written with TZID and neither can be relied on.
    """
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return local.astimezone(UTC)
    return local


def parse_reply(data: bytes) -> Reply:
    """Read an iTIP ``METHOD:REPLY`` calendar object as any calendar client writes it.

    Raises:
        InviteError: for a calendar that is not a REPLY, has no VEVENT, UID, ATTENDEE or
            DTSTAMP, names several attendees, or answers with a PARTSTAT other than
            ACCEPTED, DECLINED or TENTATIVE.
    """
    try:
        cal = Calendar.from_ical(data)
    except ValueError as exc:
        raise InviteError(f"the reply is not an iCalendar object: {exc}") from None
    if isinstance(cal, list):  # several VCALENDARs in one body: the first is the reply
        cal = cal[0]
    method = str(cal.get("method", "")).strip().upper()
    if method != "REPLY":
        raise InviteError(
            f"the calendar has METHOD:{method or '(none)'}, not REPLY: it is not an answer to "
            "an invite; treat it as an ordinary message"
        )
    vevents = cal.walk("VEVENT")
    if not vevents:
        raise InviteError("the REPLY has no VEVENT, so it answers no event")
    vevent = vevents[0]
    uid = str(vevent.get("uid", "")).strip()
    if not uid:
        raise InviteError("the REPLY's VEVENT has no UID, so it cannot be matched to an event")
    where = f"REPLY for UID {uid!r}"
    attendees = vevent.get("attendee")
    if attendees is None:
        raise InviteError(f"{where} has no ATTENDEE, so it is not known who answered")
    if not isinstance(attendees, list):
        attendees = [attendees]
    addresses = {_reply_address(a, where) for a in attendees}
    if len(addresses) != 1:
        raise InviteError(
            f"{where} names {len(addresses)} attendees ({', '.join(sorted(addresses))}); "
            "a REPLY answers for one"
        )
    attendee = attendees[0]
    answer = str(getattr(attendee, "params", {}).get("PARTSTAT", "")).strip().upper()
    partstat = next((p for p in _PARTSTATS if p == answer), None)
    if partstat is None:
        raise InviteError(
            f"{where} from {next(iter(addresses))} has PARTSTAT={answer or '(none)'}; "
            f"expected one of {', '.join(_PARTSTATS)}"
        )
    stamp = vevent.get("dtstamp")
    if stamp is None:
        raise InviteError(f"{where} has no DTSTAMP, so it cannot be ordered against others")
    try:
        sequence = int(vevent.get("sequence", 0))
    except (TypeError, ValueError):
        raise InviteError(
            f"{where} has SEQUENCE {str(vevent.get('sequence'))!r}, not a number"
        ) from None
    return Reply(
        uid=uid,
        sequence=sequence,
        attendee_email=next(iter(addresses)),
        partstat=partstat,
        dtstamp=_utc(stamp, where),
        comment=_comment(vevent.get("comment")),
    )


def parse_reply_message(msg_bytes: bytes) -> Reply:
    """Find the calendar REPLY inside a whole RFC 5322 message and parse it.

    Looks at every ``text/calendar`` part and ``.ics`` / ``application/ics`` attachment (clients
    send the same answer in several), and returns the first that is a REPLY.

    Raises:
        InviteError: naming the message's Message-ID when no part holds a REPLY.
    """
    message = email.message_from_bytes(msg_bytes, policy=email.policy.default)
    message_id = str(message.get("Message-ID", "(no Message-ID)"))
    first_error: InviteError | None = None
    for part in _calendar_parts(message):
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            return parse_reply(payload)
        except InviteError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise InviteError(f"message {message_id}: {first_error}") from None
    raise InviteError(f"message {message_id} has no text/calendar part; it is not a calendar reply")


def _calendar_parts(message: email.message.Message) -> Iterator[email.message.Message]:
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if kind in ("text/calendar", "application/ics") or filename.endswith(".ics"):
            yield part


def _check_event(event: InviteEvent, method: Method, where: str) -> None:
    if not event.uid.strip() or any(ch.isspace() for ch in event.uid):
        raise InviteError(f"{where}: uid must be non-empty and without spaces or line breaks")
    if event.sequence < 0:
        raise InviteError(f"{where}: sequence is {event.sequence}; it starts at 0 and only rises")
    for name in ("starts_at", "ends_at"):
        value: datetime = getattr(event, name)
        if value.tzinfo is None:
            raise InviteError(f"{where}: {name} must be timezone-aware (store times in UTC)")
    if event.ends_at <= event.starts_at:
        raise InviteError(f"{where}: ends_at {event.ends_at} is not after starts_at")
    if event.status not in ("CONFIRMED", "CANCELLED"):
        raise InviteError(f"{where}: status {event.status!r} is not CONFIRMED or CANCELLED")
    if method == "REQUEST" and event.status == "CANCELLED":
        raise InviteError(f"{where} is cancelled; send it with method CANCEL, not REQUEST")
    if method not in ("REQUEST", "CANCEL"):
        raise InviteError(f"{where}: method {method!r} is not REQUEST or CANCEL")
    if event.online_url is not None:
        url = event.online_url
        if not url.lower().startswith(("https://", "http://")) or not url.isprintable():
            raise InviteError(
                f"{where}: online_url {url!r} must be an http(s) link without spaces or "
                "control characters"
            )
        if any(ch.isspace() for ch in url):
            raise InviteError(f"{where}: online_url {url!r} contains spaces; percent-encode them")


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InviteError(
            f"{where}: tz {name!r} is not an IANA time zone name (like Europe/London)"
        ) from None


def _address(value: str, where: str) -> str:
    address = value.strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    local, at, domain = address.partition("@")
    if not (local and at and domain) or not address.isprintable() or " " in address:
        raise InviteError(f"{where}: {value!r} is not an email address")
    if any(ch in address for ch in '"<>,;:\\'):
        raise InviteError(f"{where}: {value!r} has characters a calendar address cannot carry")
    return address


def _cal_address(address: str, name: str) -> vCalAddress:
    value = vCalAddress(f"mailto:{address}")
    display = _param(name)
    if display:
        value.params["CN"] = display
    return value


def _param(text: str) -> str:
    # A parameter value cannot hold a double quote or a line break (RFC 5545 3.2).
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).replace('"', "'")
    return " ".join(cleaned.split())


def _text(text: str) -> vText:
    # Line breaks become escaped \n by icalendar; other control characters are not allowed.
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n")
    return vText("".join(ch for ch in cleaned if ch in "\n\t" or ch.isprintable()))


def _description(event: InviteEvent) -> str:
    # Outlook does not show URL; a hybrid event's link must also be in the text.
    if (
        event.online_url
        and event.location
        and event.location.strip()
        and event.online_url not in event.description
    ):
        return f"{event.description}\n\nOnline: {event.online_url}".lstrip()
    return event.description


def _reply_address(attendee: object, where: str) -> str:
    value = str(attendee).strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if "@" not in value:
        raise InviteError(f"{where}: ATTENDEE {str(attendee)!r} is not a mailto: address")
    return value.lower()


def _utc(stamp: Any, where: str) -> datetime:
    try:
        value = stamp.dt
    except (AttributeError, ValueError):
        value = None
    if not isinstance(value, datetime):
        raise InviteError(f"{where}: DTSTAMP {str(stamp)!r} is not a date-time")
    if value.tzinfo is None:
        # RFC 5545 wants DTSTAMP in UTC; honour a TZID a client added, else read it as UTC.
        tzid = str(getattr(stamp, "params", {}).get("TZID", ""))
        try:
            zone: tzinfo = ZoneInfo(tzid) if tzid else UTC
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _comment(value: object) -> str | None:
    if value is None:
        return None
    parts = value if isinstance(value, list) else [value]
    text = "\n".join(str(p).strip() for p in parts if str(p).strip())
    return text or None


class _Onset(NamedTuple):
    at: datetime  # UTC instant of the change
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def local(self) -> datetime:
        """Wall-clock time of the change in the old offset, as VTIMEZONE's DTSTART wants."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    @property
    def kind(self) -> tuple[timedelta, timedelta, str, bool, int, int, int, int]:
        local = self.local
        return (
            self.offset_from,
            self.offset_to,
            self.name,
            self.daylight,
            local.month,
            local.hour,
            local.minute,
            local.second,
        )


def _state(zone: tzinfo, at: datetime) -> tuple[timedelta, str, bool]:
    local = at.astimezone(zone)
    dst = local.dst()
    return (
        local.utcoffset() or timedelta(0),
        local.tzname() or "",
        bool(dst and dst > timedelta(0)),
    )


def _onsets(zone: tzinfo, first: datetime, last: datetime) -> list[_Onset]:
    """Every change of offset, name or DST flag in ``zone`` between two UTC instants."""
    found: list[_Onset] = []
    lo = first
    while lo < last:
        hi = min(lo + timedelta(days=1), last)
        before, after = _state(zone, lo), _state(zone, hi)
        if before != after:
            left, right = lo, hi
            while right - left > timedelta(seconds=1):
                mid = left + (right - left) / 2
                if _state(zone, mid) == before:
                    left = mid
                else:
                    right = mid
            found.append(_Onset(right, before[0], after[0], after[1], after[2]))
        lo = hi
    return found


def _byday(local: datetime) -> set[str]:
    """The BYDAY values of a yearly rule that hit this day: ``2SU``, and ``-1SU`` if last."""
    weekday = _WEEKDAYS[local.weekday()]
    days = {f"{(local.day - 1) // 7 + 1}{weekday}"}
    if local.day + 7 > calendar.monthrange(local.year, local.month)[1]:
        days.add(f"-1{weekday}")
    return days


class _Rule(NamedTuple):
    onsets: tuple[_Onset, ...]  # one a year, same month, weekday rule and wall-clock time
    byday: str | None  # the RRULE's BYDAY when there are several onsets


@functools.lru_cache(maxsize=64)
def _rules(tzid: str, first: date, last: date) -> tuple[_Onset, tuple[_Rule, ...]]:
    """The state at ``first`` and the yearly rules until ``last``; cached as it takes ~10 ms."""
    zone = ZoneInfo(tzid)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    # Each group is (onsets, BYDAY values that fit them all); a rule change opens a new group.
    groups: list[tuple[list[_Onset], set[str]]] = []
    for onset in _onsets(zone, start, end):
        for onsets, days in groups:
            prior = onsets[-1]
            fits = days & _byday(onset.local)
            if prior.kind == onset.kind and prior.local.year + 1 == onset.local.year and fits:
                onsets.append(onset)
                days.intersection_update(fits)
                break
        else:
            groups.append(([onset], _byday(onset.local)))
    offset, name, daylight = _state(zone, start)
    initial = _Onset(start, offset, offset, name, daylight)
    rules = tuple(
        # A positive ordinal (2SU) where it fits every year, else the last weekday (-1SU).
        _Rule(tuple(onsets), min(days, key=lambda d: (d.startswith("-"), d)))
        if len(onsets) > 1
        else _Rule(tuple(onsets), None)
        for onsets, days in groups
    )
    return initial, rules


def _vtimezone(tzid: str, *, first: date, last: date) -> Timezone:
    """A VTIMEZONE for ``first`` to ``last``: one observance per yearly rule, with RRULE+UNTIL."""
    initial, rules = _rules(tzid, first, last)
    vtimezone = Timezone()
    vtimezone.add("tzid", tzid)
    # First the offset in force at the start of the span, so no time in it precedes every onset.
    for head, rule in [(initial, None), *((r.onsets[0], r) for r in rules)]:
        observance = TimezoneDaylight() if head.daylight else TimezoneStandard()
        observance.add("dtstart", head.local)
        observance.add("tzoffsetfrom", head.offset_from)
        observance.add("tzoffsetto", head.offset_to)
        observance.add("tzname", head.name)
        if rule is not None and rule.byday is not None:
            observance.add(
                "rrule",
                {
                    "freq": "YEARLY",
                    "bymonth": head.local.month,
                    "byday": rule.byday,
                    "until": rule.onsets[-1].at,
                },
            )
        vtimezone.add_component(observance)
    return vtimezone


__all__ = [
    "InviteError",
    "InviteEvent",
    "Method",
    "PartStat",
    "Reply",
    "Status",
    "build_invite",
    "parse_reply",
    "parse_reply_message",
]
