"""Checks one CSV row of alumni data and turns it into clean values, or says what is wrong.

Pure functions over strings: no database, no I/O, so rows can be checked in another process.
Every problem names the column, the value and what to do about it.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberFormat, PhoneNumberType

REQUIRED_COLUMNS = ("external_id", "first_name", "last_name", "class_year")
OPTIONAL_COLUMNS = (
    "programme",
    "email",
    "email_status",
    "email_verified_at",
    "email_source",
    "phone",
    "phone_verified_at",
    "phone_source",
    "country",
    "city",
    "timezone",
    "locale",
    "mastodon",
    "bluesky",
    "consent_news",
    "consent_events",
    "consent_service",
    "consent_evidence",
    "status",
    "ambassador",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
PURPOSES = ("news", "events", "service")
STATUSES = ("active", "lost", "do_not_contact", "deceased")
CONTACT_STATUSES = ("ok", "bouncing", "invalid", "suspect")
FIRST_CLASS_YEAR = 1900

_YES = frozenset({"yes", "y", "true", "1", "x"})
_NO = frozenset({"no", "n", "false", "0"})
# Common ASCII addresses are checked by this strict subset of RFC 5322; anything it does not
# match goes to email-validator. It keeps a million-row import within a minute.
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_LOCALE = re.compile(
    r"(?P<lang>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|\d{3}))?"
    r"(?P<rest>(?:-[A-Za-z0-9]{5,8}|-\d[A-Za-z0-9]{3})*)"
)
_MASTODON = re.compile(r"@?([A-Za-z0-9_]{1,30})@([A-Za-z0-9.-]+\.[A-Za-z]{2,63})")
_BLUESKY = re.compile(r"@?((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})")
# C0 and C1 control characters and DEL: never part of a name, an address or a note, and a
# terminal or spreadsheet may act on them. NUL is among them (a damaged file, or not a CSV).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHOWN_VALUE = 80  # characters of a value shown in a problem
CONTACT_VALUE_LIMIT = 320  # ContactPoint.value
LOCALE_LIMIT = 35  # Alumnus.locale
_PHONE_LABELS = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline_or_mobile",
    PhoneNumberType.VOIP: "voip",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cell (or a whole row when ``column`` is empty)."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        if len(self.value) > _SHOWN_VALUE:
            shown = f" {self.value[:_SHOWN_VALUE]!r}... ({len(self.value)} characters)"
        else:
            shown = f" {self.value!r}" if self.value else ""
        return f"{where}:{shown} {self.message}"


# Contact and CleanRow are named tuples: a big import sends them back from the checking
# processes, and tuples pickle several times faster than dataclass instances.
class Contact(NamedTuple):
    """A validated contact detail from a row."""

    kind: str
    value: str
    label: str | None
    status: str
    verified_at: datetime | None
    source: str | None


class CleanRow(NamedTuple):
    """A row that passed every check, with values normalised for storage."""

    row: int
    external_id: str
    first_name: str
    last_name: str
    class_year: int
    programme: str | None
    country: str | None
    city: str | None
    timezone: str | None
    locale: str | None
    status: str
    contacts: list[Contact]
    consents: dict[str, bool]
    consent_evidence: str | None
    ambassador: bool | None


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def _regions() -> frozenset[str]:
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def normalise_email(value: str) -> str:
    """Return the address in the form it is stored in, or raise ValueError saying why."""
    match = _SIMPLE_EMAIL.fullmatch(value)
    if match and len(value) <= 254 and value.index("@") <= 64:
        domain = match.group(1)
        if domain.rsplit(".", 1)[-1].lower() not in _SPECIAL_USE_TLDS:
            return value[: match.start(1)] + domain.lower()
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        message = f"is not a valid email address ({exc}); correct it or leave it blank"
        raise ValueError(message) from None


def normalise_phone(value: str, country: str | None) -> tuple[str, str | None]:
    """Return (E.164 number, label such as 'mobile' or 'landline'), or raise ValueError."""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException as exc:
        hint = "" if country else " (no country on this row: write it as +<country code> ...)"
        raise ValueError(f"is not a phone number: {exc}{hint}") from None
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        where = f"for country {country}" if country else "anywhere"
        raise ValueError(
            f"is not a valid phone number {where}; check the digits, or write it in "
            "international form (+<country code> <number>)"
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), _PHONE_LABELS.get(kind)


def normalise_mastodon(value: str) -> str:
    """Return a Mastodon handle as stored (``@name@instance.social``), or raise ValueError."""
    if len(value) > CONTACT_VALUE_LIMIT:
        raise ValueError(f"is longer than {CONTACT_VALUE_LIMIT} characters; shorten it")
    match = _MASTODON.fullmatch(value)
    if match is None:
        raise ValueError("is not a Mastodon handle; write it as @name@instance.social")
    return f"@{match[1]}@{match[2].lower()}"


def normalise_bluesky(value: str) -> str:
    """Return a Bluesky handle as stored (``name.bsky.social``), or raise ValueError."""
    if len(value) > CONTACT_VALUE_LIMIT:
        raise ValueError(f"is longer than {CONTACT_VALUE_LIMIT} characters; shorten it")
    match = _BLUESKY.fullmatch(value)
    if match is None:
        raise ValueError("is not a Bluesky handle; write it as name.bsky.social")
    return match[1].lower()


def normalise_locale(value: str) -> str:
    """Return a BCP 47 tag in canonical case (``pt_br`` -> ``pt-BR``), or raise ValueError."""
    match = _LOCALE.fullmatch(value.replace("_", "-"))
    if match is None:
        raise ValueError("is not a BCP 47 language tag; use forms like en, pt-BR or zh-Hant-TW")
    parts = [match["lang"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["rest"]


def _flag(value: str) -> bool | None:
    lowered = value.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise ValueError("must be yes or no (or blank for unknown)")


def _when(value: str, today: date) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a date; write it as YYYY-MM-DD") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed.date() > today:
        raise ValueError("is in the future; write the date the detail was last confirmed")
    return parsed


class _Checker:
    """Collects the problems of one row while its cells are checked.

    A cell holding a control character is reported once and then read as blank, so that no
    other check reports it again.
    """

    def __init__(self, row: int, values: dict[str, str]) -> None:
        self.row = row
        self.cells = {column: (values.get(column) or "").strip() for column in COLUMNS}
        self.problems: list[Problem] = []
        self.unreadable: set[str] = set()
        if _CONTROL.search("".join(self.cells.values())) is None:
            return  # the usual row: no cell to look at one by one
        for column, value in self.cells.items():
            if found := _CONTROL.search(value):
                self.problems.append(Problem(row, column, value, _control_message(found[0])))
                self.unreadable.add(column)

    def get(self, column: str) -> str:
        return "" if column in self.unreadable else self.cells[column]

    def fail(self, column: str, message: str) -> None:
        if column not in self.unreadable:
            self.problems.append(Problem(self.row, column, self.get(column), message))

    def text(self, column: str, limit: int, *, required: bool = False) -> str | None:
        value = self.get(column)
        if not value:
            if required:
                self.fail(column, "is required; fill it in")
            return None
        if len(value) > limit:
            self.fail(column, f"is longer than {limit} characters; shorten it")
            return None
        return value


def _control_message(character: str) -> str:
    code = f"U+{ord(character):04X}"
    name = "a NUL byte" if character == "\x00" else f"the control character {code}"
    return (
        f"contains {name}, which no name or address has; remove it in the spreadsheet (it came "
        "from a damaged file or a paste from another program)"
    )


def check_row(row: int, values: dict[str, str], *, today: date) -> CleanRow | list[Problem]:
    """Check one row; return it cleaned, or every problem found in it.

    Args:
        row: the row's number as a spreadsheet shows it (the header is row 1).
        values: the row's cells by column name.
        today: the date that bounds class years and verification dates.
    """
    c = _Checker(row, values)
    external_id = c.text("external_id", 64, required=True)
    first_name = c.text("first_name", 200)
    last_name = c.text("last_name", 200)
    reported = {p.column for p in c.problems}
    if not first_name and not last_name and not {"first_name", "last_name"} & reported:
        c.fail("first_name", "and last_name are both blank; give at least one name")

    class_year = 0
    raw_year = c.get("class_year")
    if not raw_year:
        c.fail("class_year", "is required; give the year the class graduated, like 2016")
    elif not raw_year.isdigit() or not FIRST_CLASS_YEAR <= int(raw_year) <= today.year + 1:
        c.fail("class_year", f"must be a year from {FIRST_CLASS_YEAR} to {today.year + 1}")
    else:
        class_year = int(raw_year)

    country = c.get("country").upper() or None
    if country is not None and country not in _regions():
        c.fail("country", "is not an ISO 3166 two-letter country code; use codes like GB, BR, IN")
        country = None

    timezone = c.get("timezone") or None
    if timezone is not None and timezone not in _zones():
        c.fail("timezone", "is not an IANA time zone; use names like Europe/London")
        timezone = None

    locale = None
    if raw_locale := c.get("locale"):
        try:
            locale = normalise_locale(raw_locale)
        except ValueError as exc:
            c.fail("locale", str(exc))
        else:
            if len(locale) > LOCALE_LIMIT:
                c.fail("locale", f"is longer than {LOCALE_LIMIT} characters; shorten it")
                locale = None

    status = c.get("status").lower() or "active"
    if status not in STATUSES:
        c.fail("status", f"must be one of {', '.join(STATUSES)} (blank means active)")

    contacts = _contacts(c, country, today)

    consents: dict[str, bool] = {}
    for purpose in PURPOSES:
        column = f"consent_{purpose}"
        if raw := c.get(column):
            try:
                flag = _flag(raw)
            except ValueError as exc:
                c.fail(column, str(exc))
            else:
                if flag is not None:
                    consents[purpose] = flag
    ambassador = None
    if raw := c.get("ambassador"):
        try:
            ambassador = _flag(raw)
        except ValueError as exc:
            c.fail("ambassador", str(exc))
    programme = c.text("programme", 200)
    city = c.text("city", 200)
    consent_evidence = c.text("consent_evidence", 500)

    if c.problems:
        return c.problems
    assert external_id is not None
    return CleanRow(
        row=row,
        external_id=external_id,
        first_name=first_name or "",
        last_name=last_name or "",
        class_year=class_year,
        programme=programme,
        country=country,
        city=city,
        timezone=timezone,
        locale=locale,
        status=status,
        contacts=contacts,
        consents=consents,
        consent_evidence=consent_evidence,
        ambassador=ambassador,
    )


def _contacts(c: _Checker, country: str | None, today: date) -> list[Contact]:
    found: list[Contact] = []
    if raw := c.get("email"):
        try:
            email = normalise_email(raw)
        except ValueError as exc:
            c.fail("email", str(exc))
        else:
            status = c.get("email_status").lower() or "ok"
            if status not in CONTACT_STATUSES:
                c.fail("email_status", f"must be one of {', '.join(CONTACT_STATUSES)}")
            found.append(
                Contact(
                    "email",
                    email,
                    None,
                    status,
                    _verified(c, "email", today),
                    c.text("email_source", 200),
                )
            )
    if raw := c.get("phone"):
        try:
            phone, label = normalise_phone(raw, country)
        except ValueError as exc:
            c.fail("phone", str(exc))
        else:
            found.append(
                Contact(
                    "phone",
                    phone,
                    label,
                    "ok",
                    _verified(c, "phone", today),
                    c.text("phone_source", 200),
                )
            )
    for kind, normalise in (("mastodon", normalise_mastodon), ("bluesky", normalise_bluesky)):
        if raw := c.get(kind):
            try:
                found.append(Contact(kind, normalise(raw), None, "ok", None, None))
            except ValueError as exc:
                c.fail(kind, str(exc))
    return found


def _verified(c: _Checker, kind: str, today: date) -> datetime | None:
    column = f"{kind}_verified_at"
    raw = c.get(column)
    if not raw:
        return None
    try:
        return _when(raw, today)
    except ValueError as exc:
        c.fail(column, str(exc))
        return None
