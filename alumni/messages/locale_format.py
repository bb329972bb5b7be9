"""Dates, times, numbers and lists as each language writes them (Babel, CLDR), and the template
filters of the one template store (``alumni.messages.rendering``) that write them.

Every function takes the reader's BCP 47 tag (``ar-EG``, ``pt_BR``); a tag Babel does not know,
or none, is written in English, so a message is never refused for a locale. A datetime is read in
the IANA ``zone`` given (None or not a zone: UTC) before it is written; a date is written as is.
Digits are the Latin ones everywhere (Babel's default), as the office's dates and years are.

In templates (the store registers these filters on its environments)::

    {{ opened_at|format_date }}                  "June 12, 2027" / "12 يونيو 2027"
    {{ opened_at|format_date("full", zone) }}    "Saturday, June 12, 2027"
    {{ starts_at|format_time(zone) }}            "7:00 PM" / "19:00"
    {{ starts_at|format_datetime(zone) }}        "Saturday, June 12, 2027, 7:00 PM (Europe/London)"
    {{ cohort.classmates|format_number }}        "1,234" / "1 234" / "1.234"
    {{ cities|format_list }}                     "Lima, Oslo, and Cairo" / "ليما وأوسلو والقاهرة"

The filters write in the language of the template being rendered (``ar`` for
``email/reunion/ar.html.j2``), refined by the alum's own tag when it is the same language
(``ar-EG``, ``en-GB``: "12 June 2027"), so a message never mixes two languages.

Example:
    >>> format_number(1234567.5, "fr")
    '1\\u202f234\\u202f567,5'
    >>> text_direction("ar-EG")
    'rtl'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_skeleton
from babel.dates import format_time as _babel_time
from babel.lists import format_list as _babel_list
from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context

__all__ = [
    "FALLBACK",
    "READER_KEY",
    "babel_locale",
    "comma",
    "format_clock",
    "format_day",
    "format_moment",
    "format_month",
    "format_number",
    "format_words",
    "reading_locale",
    "template_filters",
    "text_direction",
    "zone_of",
]

FALLBACK: Final = "en"
# The render-time variable that carries the alum's own tag to the filters (the store sets it).
READER_KEY: Final = "_reader_locale"
# Languages written in Arabic script, which use the Arabic comma.
_ARABIC_COMMA: Final = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug"})
DateWidth = Literal["short", "medium", "long", "full"]
# ``email/reunion/pt-BR.html.j2`` -> ``pt-BR``: the language a template is written in.
_TEMPLATE_LOCALE = re.compile(r"(?:^|/)(?P<locale>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\.[a-z]+\.j2$")


# Parsing a tag costs more than most formatting: a campaign asks for its few locales per message.
@lru_cache(maxsize=512)
def babel_locale(tag: str | None) -> Locale:
    """Babel's locale for a BCP 47 tag (``pt-BR``, ``pt_BR``), or English's when it is blank,
    malformed or unknown to CLDR. Kept per tag: treat it as read-only."""
    if tag and tag.strip():
        try:
            return Locale.parse(tag.strip().replace("_", "-"), sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return Locale.parse(FALLBACK)


@lru_cache(maxsize=1024)
def reading_locale(written_in: str, reader: str | None) -> str:
    """The tag to format with for text written in ``written_in`` and read by an alum of
    ``reader``: the alum's own when it is the same language and Babel knows it (``ar-EG`` for
    ``ar``, ``en-GB`` for ``en``), else ``written_in``."""
    if reader and reader.strip():
        language = written_in.replace("_", "-").split("-")[0].lower()
        theirs = reader.strip().replace("_", "-")
        if theirs.split("-")[0].lower() == language:
            try:
                Locale.parse(theirs, sep="-")
            except (UnknownLocaleError, ValueError, TypeError):
                return written_in
            return theirs
    return written_in


def zone_of(name: str | None) -> tzinfo:
    """The IANA zone ``name``, or UTC when it is blank or not a zone (a bad zone on an alum's
    row must not stop their message)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def _local(moment: datetime, zone: str | None) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone: give an aware datetime (stored in UTC)")
    return moment.astimezone(zone_of(zone))


def format_day(
    moment: date | datetime, tag: str | None, *, zone: str | None = None, width: DateWidth = "long"
) -> str:
    """The day of ``moment`` as ``tag`` writes it: "June 12, 2027", "12 juin 2027",
    "12 يونيو 2027" (``width`` "full" adds the weekday). A datetime is read in ``zone``.

    Raises:
        ValueError: a naive datetime (which zone it is in is unknown).
    """
    day = _local(moment, zone).date() if isinstance(moment, datetime) else moment
    return str(_babel_date(day, format=width, locale=babel_locale(tag)))


def format_clock(moment: datetime, tag: str | None, *, zone: str | None = None) -> str:
    """The time of day of ``moment`` in ``zone`` as ``tag`` writes it: "7:00 PM", "19:00",
    "7:00 م".

    Raises:
        ValueError: a naive datetime.
    """
    return str(_babel_time(_local(moment, zone), format="short", locale=babel_locale(tag)))


def format_moment(moment: datetime, tag: str | None, *, zone: str | None = None) -> str:
    """The day (with its weekday) and time of ``moment`` in ``zone``, joined the way ``tag``
    joins them, and the zone's name: "Monday, March 3, 2025, 5:00 PM (Europe/London)".

    Raises:
        ValueError: a naive datetime.
    """
    locale = babel_locale(tag)
    local = _local(moment, zone)
    day = str(_babel_date(local.date(), format="full", locale=locale))
    hour = str(_babel_time(local, format="short", locale=locale))
    joined = str(locale.datetime_formats["full"]).format(hour, day)
    return f"{joined} ({local.tzinfo})"


def format_month(day: date, tag: str | None) -> str:
    """The month and year of ``day`` as ``tag`` names a month: "November 2026",
    "novembre 2026", "نوفمبر 2026"."""
    return str(format_skeleton("yMMMM", day, locale=babel_locale(tag)))


def format_number(value: int | float | Decimal, tag: str | None) -> str:
    """A number with the grouping and decimal signs of ``tag``: "1,234.5", "1 234,5"."""
    if type(value) is int:  # a count: the same few per campaign, written in every message
        return _format_count(value, tag)
    return str(format_decimal(value, locale=babel_locale(tag)))


@lru_cache(maxsize=1024)
def _format_count(value: int, tag: str | None) -> str:
    return str(format_decimal(value, locale=babel_locale(tag)))


def format_words(items: Iterable[object], tag: str | None) -> str:
    """Items joined as ``tag`` writes a list: "a, b, and c", "a, b et c", "a وb وc"."""
    return str(_babel_list([str(item) for item in items], locale=babel_locale(tag)))


def comma(tag: str | None) -> str:
    """The comma (and space) ``tag`` puts between the parts of a phrase: ", ", or the Arabic
    comma "، " in the languages written in Arabic script (CLDR has no pattern for it alone)."""
    return "\u060c " if babel_locale(tag).language in _ARABIC_COMMA else ", "


def text_direction(tag: str | None) -> Literal["ltr", "rtl"]:
    """``rtl`` for a language written right to left (Arabic, Hebrew, Persian, Urdu), else
    ``ltr``: the ``dir`` of a page or an HTML email in that language."""
    return "rtl" if babel_locale(tag).text_direction == "rtl" else "ltr"


def _context_locale(context: Context) -> str:
    """The tag a filter writes in: the template's language, refined by the alum's own tag."""
    reader = context.get(READER_KEY)
    return _filter_locale(context.name or "", reader if isinstance(reader, str) else None)


@lru_cache(maxsize=1024)
def _filter_locale(template: str, reader: str | None) -> str:
    found = _TEMPLATE_LOCALE.search(template)
    return reading_locale(found["locale"] if found else FALLBACK, reader)


@pass_context
def _date_filter(
    context: Context, moment: date | datetime, width: DateWidth = "long", zone: str | None = None
) -> str:
    return format_day(moment, _context_locale(context), zone=zone, width=width)


@pass_context
def _time_filter(context: Context, moment: datetime, zone: str | None = None) -> str:
    return format_clock(moment, _context_locale(context), zone=zone)


@pass_context
def _datetime_filter(context: Context, moment: datetime, zone: str | None = None) -> str:
    return format_moment(moment, _context_locale(context), zone=zone)


@pass_context
def _number_filter(context: Context, value: int | float | Decimal) -> str:
    return format_number(value, _context_locale(context))


@pass_context
def _list_filter(context: Context, items: Iterable[object]) -> str:
    return format_words(items, _context_locale(context))


def template_filters() -> dict[str, Callable[..., Any]]:
    """The filters the template store registers: ``format_date``, ``format_time``,
    ``format_datetime``, ``format_number`` and ``format_list`` (see the module docstring).
    They read only the value given and return text, so they are safe in the sandbox."""
    return {
        "format_date": _date_filter,
        "format_time": _time_filter,
        "format_datetime": _datetime_filter,
        "format_number": _number_filter,
        "format_list": _list_filter,
    }
