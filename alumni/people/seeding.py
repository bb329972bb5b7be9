"""A deterministic, worldwide sample population in the CSV import format.

``generate_rows(count, seed=..., today=...)`` streams rows that ``alumni.people.importing`` reads:
class years over 55 years with classes growing over time, alumni in 28 countries with their
cities, IANA time zones, locales and native names, phone numbers that ``phonenumbers`` accepts
as valid for the country (national, international and E.164 formats mixed, as spreadsheets are),
unique emails at reserved domains, and the untidy parts of a real alumni file: old landlines from
the enrolment form, addresses at providers that closed, stale verification dates, lost and
deceased alumni. The same (count, seed, today) always gives the same rows.

Example:
    >>> from datetime import date
    >>> rows = list(generate_rows(3, seed=7, today=date(2025, 6, 1)))
    >>> sorted(rows[0]) == sorted(COLUMNS)
    True
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from functools import cache
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import NamedTuple, TypeVar

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from alumni.people.population_data import (
    BLUESKY_SUFFIX,
    COUNTRIES,
    DEAD_EMAIL_DOMAINS,
    EMAIL_DOMAINS,
    MASTODON_INSTANCES,
    PROGRAMMES,
    Country,
)
from alumni.people.validation import COLUMNS

CLASS_YEARS_BACK = 55  # class years today.year-55 .. today.year-1
CLASS_GROWTH = 1.035  # each class about 3.5% larger than the one before
STALE_DAYS = 1095  # matches the default ALUMNI_STALE_AFTER_DAYS
LANDLINE_ONLY_SHARE = 0.083  # of alumni with any contact detail
DEAD_DOMAIN_SHARE = 0.052
MOBILE_SHARE = 0.55
SOCIAL_SHARE = 0.115  # each of Mastodon and Bluesky, among alumni with an email
MIXED_CASE_EMAIL_SHARE = 0.02
SUFFIX_DIGITS = 3  # trailing phone digits drawn per row; all 1,000 endings are checked valid
PHONE_TEMPLATES = 8  # distinct number prefixes per country and line type
# Sizes (as powers of two) of the lookup tables rows draw from.
TABLE_BITS = 10  # countries, domains, consents, verification ages, phone endings
PLACE_BITS = 10  # cities x locales of one country
NAME_BITS = 8
FORMAT_BITS = 8  # phone number formats of one country and line type

_EMAIL_SOURCES = ("alumni survey", "reunion sign-up", "web form", "newsletter reply", "phone call")
_UNDATED_EMAIL_SOURCES = ("graduation form", "legacy database", "class list")
_PHONE_SOURCES = ("alumni survey", "phone call", "reunion sign-up", "web form")
_EVIDENCE = ("alumni card", "web form", "reunion sign-up", "phone call")  # + graduation form
# Letters that NFKD does not take apart.
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss"})
_FOLD.update(str.maketrans({"æ": "ae", "Æ": "AE", "\u0131": "i"}))  # dotless i
_NOT_HANDLE = re.compile(r"[^a-z0-9]")
_T = TypeVar("_T")


# Tuples rather than objects: the row loop unpacks them, which is the cheapest access in CPython.
_Name = tuple[str, str]  # (as written, ASCII key for addresses and handles)
_Place = tuple[str, str, str]  # (city, IANA time zone, BCP 47 locale)


class _CountryPlan(NamedTuple):
    """One country's tables, flattened so that a row needs one random index per choice."""

    code: str
    first_names: tuple[_Name, ...]
    last_names: tuple[_Name, ...]
    places: tuple[_Place, ...]
    mobile_formats: tuple[str, ...]
    landline_formats: tuple[str, ...]


def ascii_key(name: str) -> str:
    """Return ``name`` folded to lowercase ASCII letters and digits (``Łukasz`` -> ``lukasz``)."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_HANDLE.sub("", stripped.lower()) or "alum"


def _table(weighted: Iterable[tuple[_T, float]], bits: int) -> tuple[_T, ...]:
    """Return 2**bits entries, each item repeated in proportion to its weight.

    A row then picks with ``getrandbits(bits)``, a single C call, instead of ``int(random() * n)``
    (the rounding costs each item at most one slot in 2**bits).
    """
    items = list(weighted)
    size = 1 << bits
    total = sum(weight for _, weight in items)
    shares = [size * weight / total for _, weight in items]
    counts = [int(share) for share in shares]
    by_fraction = sorted(range(len(items)), key=lambda i: shares[i] - counts[i], reverse=True)
    for index in by_fraction[: size - sum(counts)]:
        counts[index] += 1
    return tuple(item for (item, _), times in zip(items, counts, strict=True) for _ in range(times))


def _even(items: Iterable[_T], bits: int) -> tuple[_T, ...]:
    return _table(((item, 1) for item in items), bits)


def _placeholder_tail(text: str) -> str:
    """Replace the last ``SUFFIX_DIGITS`` digits of ``text`` by ``%s`` fields."""
    chars = list(text)
    found = 0
    for index in range(len(chars) - 1, -1, -1):
        if chars[index].isdigit():
            chars[index] = "%s"
            found += 1
            if found == SUFFIX_DIGITS:
                break
    return "".join(chars)


@cache
def phone_formats(region: str, line: int) -> tuple[str, ...]:
    """Return %-format strings for valid numbers of ``region``: fill three ``%s`` with digits.

    Each comes from ``phonenumbers``' example number for the line type with two digits before
    the last three changed; a prefix is kept only if all 1,000 endings match the region's
    patterns for that line type, so any filled-in string parses as a valid number there.
    Formats are national, international and E.164 in about a 45/45/10 mix; the tuple has
    ``2**FORMAT_BITS`` entries.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    example = phonenumbers.example_number_for_type(region, line)
    if metadata is None or example is None:
        raise ValueError(f"phonenumbers has no example {line} number for region {region!r}")
    desc = metadata.mobile if line == PhoneNumberType.MOBILE else metadata.fixed_line
    assert desc is not None and metadata.general_desc is not None  # present for every region
    # One pattern per line of a block of candidates: re's C loop checks all 1,000 endings at once.
    general = re.compile(f"^(?:{metadata.general_desc.national_number_pattern})$", re.MULTILINE)
    typed = re.compile(f"^(?:{desc.national_number_pattern})$", re.MULTILINE)
    national = phonenumbers.national_significant_number(example)
    endings = [f"{ending:0{SUFFIX_DIGITS}d}" for ending in range(10**SUFFIX_DIGITS)]
    rng = Random(f"{region}-{line}")  # fixed: templates never depend on the caller's seed
    candidates = [national[:-SUFFIX_DIGITS]]
    candidates += [f"{national[: -SUFFIX_DIGITS - 2]}{rng.randrange(100):02d}" for _ in range(60)]
    formats: list[tuple[str, int]] = []
    seen: set[str] = set()
    for prefix in candidates:
        if prefix in seen or len(seen) >= PHONE_TEMPLATES:
            continue
        block = prefix + f"\n{prefix}".join(endings)
        if not len(typed.findall(block)) == len(general.findall(block)) == len(endings):
            continue
        number = phonenumbers.parse(f"+{example.country_code}{prefix}{endings[0]}")
        if not phonenumbers.is_valid_number_for_region(number, region):
            continue
        seen.add(prefix)
        for style, weight in (
            (PhoneNumberFormat.NATIONAL, 9),
            (PhoneNumberFormat.INTERNATIONAL, 9),
            (PhoneNumberFormat.E164, 2),
        ):
            formats.append((_placeholder_tail(phonenumbers.format_number(number, style)), weight))
    if not formats:
        raise RuntimeError(f"no valid {line} phone number pattern found for {region}")
    return _table(formats, FORMAT_BITS)


def _country_plan(country: Country) -> _CountryPlan:
    locales = tuple(country.locales)
    places = _table(
        (
            ((city.name, city.timezone, city.locale or locale), city.weight * locale_weight)
            for city in country.cities
            for locale, locale_weight in locales
        ),
        PLACE_BITS,
    )
    return _CountryPlan(
        code=country.code,
        first_names=_even(((name, ascii_key(name)) for name in country.first_names), NAME_BITS),
        last_names=_even(((name, ascii_key(name)) for name in country.last_names), NAME_BITS),
        places=places,
        mobile_formats=phone_formats(country.code, PhoneNumberType.MOBILE),
        landline_formats=phone_formats(country.code, PhoneNumberType.FIXED_LINE),
    )


def _consent_table() -> tuple[tuple[str, str, str], ...]:
    """(news, events, service) answers in proportion to how often they occur."""
    news = (("yes", 78), ("no", 9), ("", 13))
    events = (("yes", 75), ("no", 8), ("", 17))
    service = (("yes", 88), ("no", 2), ("", 10))
    return _table(
        (((n, e, s), nw * ew * sw) for n, nw in news for e, ew in events for s, sw in service),
        TABLE_BITS,
    )


@cache
def _country_table() -> tuple[_CountryPlan, ...]:
    return _table(((_country_plan(country), country.weight) for country in COUNTRIES), TABLE_BITS)


def class_sizes(count: int, years: int, rng: Random) -> list[int]:
    """Split ``count`` alumni over ``years`` classes, oldest first, growing by ``CLASS_GROWTH``.

    Every class gets at least one alum when ``count >= years``; below that the newest do.
    """
    weights = [CLASS_GROWTH**index * (0.9 + 0.2 * rng.random()) for index in range(years)]
    sizes = [1 if count >= years else 0] * years
    rest = count - sum(sizes)
    total = sum(weights)
    shares = [rest * weight / total for weight in weights]
    for index, share in enumerate(shares):
        sizes[index] += int(share)
    leftover = count - sum(sizes)
    by_fraction = sorted(range(years), key=lambda i: (shares[i] - int(shares[i]), i), reverse=True)
    for index in by_fraction[:leftover]:
        sizes[index] += 1
    return sizes


def generate_rows(count: int, *, seed: int = 1, today: date) -> Iterator[dict[str, str]]:
    """Yield ``count`` alumni as CSV import rows (column order ``COLUMNS``; "" is blank).

    Args:
        count: how many alumni; classes run from ``today.year - 55`` to ``today.year - 1``.
        seed: the same seed (with the same count and today) gives the same rows.
        today: the date verification dates are counted back from.

    Returns:
        An iterator; rows are made as they are read, so a million fit in little memory.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    rng = Random(seed)
    rand = rng.random
    bits = rng.getrandbits
    # Every table a row draws from has 2**bits entries (see _table).
    table_bits, place_bits, name_bits, format_bits = TABLE_BITS, PLACE_BITS, NAME_BITS, FORMAT_BITS
    source_bits, evidence_bits, programme_bits, fraction_bits = 4, 7, 6, 16
    countries = _country_table()
    domains = _table(EMAIL_DOMAINS, table_bits)
    consents = _consent_table()
    email_sources = _even(_EMAIL_SOURCES, source_bits)
    phone_sources = _even(_PHONE_SOURCES, source_bits)
    undated_sources = _even(_UNDATED_EMAIL_SOURCES, source_bits)
    dead_domains, n_dead = DEAD_EMAIL_DOMAINS, len(DEAD_EMAIL_DOMAINS)
    instances, n_instances = MASTODON_INSTANCES, len(MASTODON_INSTANCES)
    bluesky_suffix = BLUESKY_SUFFIX
    landline_share = LANDLINE_ONLY_SHARE
    dead_share = LANDLINE_ONLY_SHARE + DEAD_DOMAIN_SHARE
    social_share, mobile_share, mixed_case = SOCIAL_SHARE, MOBILE_SHARE, MIXED_CASE_EMAIL_SHARE
    stale_from = STALE_DAYS + 1
    # Days back for a recent verification, more of them close to today.
    size = 1 << table_bits
    recent_email = tuple(int((i / size) ** 1.5 * STALE_DAYS) for i in range(size))
    recent_phone = tuple(i * STALE_DAYS // size for i in range(size))
    endings = tuple(tuple(f"{i % 1000:03d}") for i in range(size))
    fromordinal = date.fromordinal
    first_year = today.year - CLASS_YEARS_BACK
    oldest_email = date(1998, 1, 1)  # hardly anyone's address was on record before then
    days_back = [
        (today - timedelta(days=days)).isoformat() for days in range((today - oldest_email).days)
    ]
    sizes = class_sizes(count, CLASS_YEARS_BACK, rng)
    serial = 0
    for offset, size in enumerate(sizes):
        if not size:
            continue
        year = first_year + offset
        class_year = str(year)
        age = today.year - year
        p_deceased = 0.002 + 0.22 * (age / CLASS_YEARS_BACK) ** 3
        p_lost = p_deceased + 0.01 + 0.06 * age / CLASS_YEARS_BACK
        p_dnc = p_lost + 0.01
        programmes = _even((name for name, since in PROGRAMMES if since <= year), programme_bits)
        ambassadors = (
            frozenset(rng.sample(range(size), min(size, rng.randint(2, 4))))
            if size >= 5
            else frozenset()
        )
        # Dates a detail can have been verified: after enrolment, never before 1998.
        max_age = min(len(days_back) - 1, (today - date(year - 4, 9, 1)).days)
        stale_span = max(0, max_age - STALE_DAYS)
        # The landline on the enrolment form; classes before 2000 were typed in 1995-2005.
        if year < 2000:
            landline_from, landline_to = date(1995, 1, 1), date(2005, 12, 31)
        else:
            landline_from, landline_to = date(year - 5, 9, 1), date(year - 3, 6, 30)
        landline_start = landline_from.toordinal()
        landline_span = landline_to.toordinal() - landline_start
        evidence_years = range(max(year, today.year - 15), today.year + 1)
        evidences = _table(
            [(f"{kind} {when}", 1) for kind in _EVIDENCE for when in evidence_years]
            + [(f"graduation form {year}", len(evidence_years))],
            evidence_bits,
        )

        for position in range(size):
            serial += 1
            code, first_names, last_names, places, mobiles, landlines = countries[bits(table_bits)]
            city, timezone, locale = places[bits(place_bits)]
            first_name, first = first_names[bits(name_bits)]
            last_name, last = last_names[bits(name_bits)]

            ambassador = position in ambassadors
            draw = rand()
            if ambassador or draw >= p_dnc:
                status = "active"
            elif draw < p_deceased:
                status = "deceased"
            elif draw < p_lost:
                status = "lost"
            else:
                status = "do_not_contact"

            email = email_status = email_verified = email_source = ""
            phone = phone_verified = phone_source = mastodon = bluesky = ""
            news = events = service = evidence = ""
            if status == "lost":
                if rand() < 0.5:
                    city = timezone = ""
            else:
                profile = 1.0 if ambassador else rand()
                if profile < landline_share:
                    phone = landlines[bits(format_bits)] % endings[bits(table_bits)]
                    when = landline_start + (bits(fraction_bits) * landline_span >> fraction_bits)
                    phone_verified = fromordinal(when).isoformat()
                    phone_source = "enrolment form"
                else:
                    draw = rand()
                    if draw < 0.4:
                        local = f"{first}.{last}{serial}"
                    elif draw < 0.6:
                        local = f"{first[0]}{last}{serial}"
                    elif draw < 0.75:
                        local = f"{first}{serial}"
                    elif draw < 0.9:
                        local = f"{first}_{last}{serial}"
                    else:
                        local = f"{last}.{first}{serial}"
                    if draw * 1000 % 1 < mixed_case:  # reuses the draw: its digits are uniform too
                        local = local.title()
                    if profile < dead_share:
                        email = f"{local}@{dead_domains[serial % n_dead]}"
                        email_status = "bouncing"
                        email_verified = days_back[max_age - int(rand() ** 2 * stale_span)]
                        email_source = f"{email_sources[serial & 15]} {email_verified[:4]}"
                    else:
                        email = f"{local}@{domains[bits(table_bits)]}"
                        email_status = "ok"
                        draw = rand()
                        if draw < 0.65 or ambassador or not stale_span:
                            email_verified = days_back[recent_email[bits(table_bits)]]
                        elif draw < 0.87:
                            email_verified = days_back[
                                stale_from + (bits(fraction_bits) * stale_span >> fraction_bits)
                            ]
                        if email_verified:
                            email_source = (
                                f"{email_sources[bits(source_bits)]} {email_verified[:4]}"
                            )
                        else:
                            email_source = undated_sources[bits(source_bits)]
                        draw = rand()
                        if draw < social_share:
                            instance = instances[serial % n_instances]
                            mastodon = f"@{first}_{last}{serial}@{instance}"
                        if draw * 1000 % 1 < social_share:
                            bluesky = f"{first}{last}{serial}.{bluesky_suffix}"
                    draw = rand()
                    if draw < mobile_share:
                        phone = mobiles[bits(format_bits)] % endings[bits(table_bits)]
                        draw = draw / mobile_share  # uniform again on [0, 1)
                        if draw < 0.55 or not stale_span:
                            phone_verified = days_back[recent_phone[bits(table_bits)]]
                        elif draw < 0.8:
                            phone_verified = days_back[
                                stale_from + (bits(fraction_bits) * stale_span >> fraction_bits)
                            ]
                        source = phone_sources[bits(source_bits)]
                        phone_source = (
                            f"{source} {phone_verified[:4]}" if phone_verified else source
                        )
                if ambassador:
                    news = events = service = "yes"
                else:
                    news, events, service = consents[bits(table_bits)]
                if news or events or service:
                    evidence = evidences[bits(evidence_bits)]

            yield {
                "external_id": f"A{serial:06d}",
                "first_name": first_name,
                "last_name": last_name,
                "class_year": class_year,
                "programme": programmes[bits(programme_bits)],
                "email": email,
                "email_status": email_status,
                "email_verified_at": email_verified,
                "email_source": email_source,
                "phone": phone,
                "phone_verified_at": phone_verified,
                "phone_source": phone_source,
                "country": code,
                "city": city,
                "timezone": timezone,
                "locale": locale,
                "mastodon": mastodon,
                "bluesky": bluesky,
                "consent_news": news,
                "consent_events": events,
                "consent_service": service,
                "consent_evidence": evidence,
                "status": status,
                "ambassador": "yes" if ambassador else "",
            }


def write_csv(path: Path, rows: Iterable[dict[str, str]]) -> int:
    """Write ``rows`` to ``path`` as UTF-8 CSV with a header of ``COLUMNS``.

    Returns:
        The number of rows written (the header not counted).

    Raises:
        KeyError: a row lacks one of ``COLUMNS``.
    """
    pick = itemgetter(*COLUMNS)
    commas = len(COLUMNS) - 1
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        write = handle.write
        writer.writerow(COLUMNS)
        for row in rows:
            values = pick(row)
            line = ",".join(values)
            # Most rows need no quoting: skip the csv module's per-field work for them.
            if (
                line.count(",") == commas
                and '"' not in line
                and "\n" not in line
                and "\r" not in line
            ):
                write(line + "\r\n")
            else:
                writer.writerow(values)
            written += 1
    return written
