"""The human line that says when an event is, in the reader's zone and language and in the event's.

"Saturday, June 12, 2027, 7:00 PM-10:00 PM (your time, America/New_York)" beside
"sábado, 13 de junio de 2027, 0:00-3:00 (hora del evento, Europe/London)" (with an en dash): an
alum abroad sees both, one at home sees one. Dates and times are formatted by Babel (CLDR) in
the reader's locale (``alumni.messages.locale_format``); the two labels come from the small
table below, and a language without labels is written in English throughout so a line never
mixes two languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alumni.messages.locale_format import comma, format_clock, format_day, reading_locale

FALLBACK_LOCALE = "en"
EN_DASH = "\u2013"

# (reader's own zone, the event's zone) labels, by BCP 47 tag or its language.
LABELS: dict[str, tuple[str, str]] = {
    "en": ("your time", "event time"),
    "es": ("tu hora", "hora del evento"),
    "pt": ("a sua hora", "hora do evento"),
    "pt-BR": ("seu horário", "horário do evento"),
    "fr": ("votre heure", "heure de l'événement"),
    "de": ("Ihre Zeit", "Zeit der Veranstaltung"),
    "it": ("la tua ora", "ora dell'evento"),
    "ar": ("بتوقيتك", "بتوقيت الفعالية"),
}


@dataclass(frozen=True)
class EventTimes:
    """Two lines for an email body; ``same_zone`` means they show the same clock times."""

    local_text: str  # in the reader's zone (the event's when theirs is unknown)
    event_text: str  # in the event's zone
    same_zone: bool  # True: show one line only


def describe_time(
    starts_at_utc: datetime,
    ends_at_utc: datetime,
    *,
    event_tz: str,
    viewer_tz: str | None,
    locale: str | None,
) -> EventTimes:
    """Say when an event is, for one reader.

    Args:
        starts_at_utc: aware start.
        ends_at_utc: aware end, after the start.
        event_tz: IANA name of the event's zone.
        viewer_tz: the reader's IANA zone; None or not a zone means unknown, and the reader is
            shown the event's time only.
        locale: the reader's BCP 47 tag (``pt-BR``); unknown or unlabelled falls back to English.

    Returns:
        EventTimes whose ``same_zone`` is True when the reader's clock reads like the event's at
        both ends (same zone, or zones with the same offsets then, like Paris and Berlin).

    Raises:
        ValueError: naming ``event_tz`` when it is not a zone, or a time that is not aware.
    """
    for name, value in (("starts_at_utc", starts_at_utc), ("ends_at_utc", ends_at_utc)):
        if value.tzinfo is None:
            raise ValueError(f"{name} {value} must be timezone-aware (events are stored in UTC)")
    if ends_at_utc < starts_at_utc:
        raise ValueError(f"ends_at_utc {ends_at_utc} is before starts_at_utc {starts_at_utc}")
    try:
        event_zone = ZoneInfo(event_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"event_tz {event_tz!r} is not an IANA time zone name (like Europe/London)"
        ) from None
    tag, (yours, events) = _locale(locale)
    event_text = _line(starts_at_utc, ends_at_utc, event_zone, tag, events, event_tz)
    viewer_zone = _viewer_zone(viewer_tz)
    if viewer_zone is None:
        return EventTimes(local_text=event_text, event_text=event_text, same_zone=True)
    same = all(
        moment.astimezone(viewer_zone).utcoffset() == moment.astimezone(event_zone).utcoffset()
        for moment in (starts_at_utc, ends_at_utc)
    )
    local_text = _line(starts_at_utc, ends_at_utc, viewer_zone, tag, yours, viewer_zone.key)
    return EventTimes(local_text=local_text, event_text=event_text, same_zone=same)


def _viewer_zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a bad zone on an alum's row must not stop their invite


def _locale(tag: str | None) -> tuple[str, tuple[str, str]]:
    """The tag to format in and the labels for ``tag``, or English's when it has no labels."""
    if tag:
        canonical = tag.strip().replace("_", "-")
        language = canonical.split("-")[0].lower()
        labels = LABELS.get(canonical) or LABELS.get(language)
        if labels is not None:
            return reading_locale(language, canonical), labels
    return FALLBACK_LOCALE, LABELS[FALLBACK_LOCALE]


def _line(
    starts: datetime, ends: datetime, zone: ZoneInfo, locale: str, label: str, tz_name: str
) -> str:
    start = starts.astimezone(UTC).astimezone(zone)
    end = ends.astimezone(UTC).astimezone(zone)
    start_day = format_day(start.date(), locale, width="full")
    start_time = format_clock(start, locale, zone=zone.key)
    end_time = format_clock(end, locale, zone=zone.key)
    sep = comma(locale)  # ", ", or "، " in Arabic
    if end.date() == start.date():
        when = f"{start_day}{sep}{start_time}{EN_DASH}{end_time}"
    else:
        end_day = format_day(end.date(), locale, width="full")
        when = f"{start_day}{sep}{start_time} {EN_DASH} {end_day}{sep}{end_time}"
    return f"{when} ({label}{sep}{tz_name})"
