"""Stale or doubtful contact details, each with the rule that found it and why, in words.

Every rule is a pure function over rows already read (``Point``: one current contact point and
its alum) and a given ``now``; ``doubts`` reads the rows, one query per kind of row, and runs
them all. The rules (``RULES``):

- ``shared_phone``: the same phone number is a current detail of alumni with different surnames
  (a family's landline shared by siblings of one surname is not flagged);
- ``enrolment_landline``: a landline whose source says it was recorded at enrolment and that was
  never verified after the class graduated. The source marks it: the import's ``phone_source``
  column (``enrolment form``, ``enrollment``...) or the import file's name, as kept in
  ``ContactPoint.source`` (``import #3 (enrolment_2010.csv)``); any source containing
  ``enrol`` (either spelling) counts;
- ``phone_country``: a phone whose country calling code is not one of the alum's country;
- ``bouncing_domain``: an email at a domain where at least ``bouncing_domain_threshold``
  alumni have an address that bounced (status ``bouncing`` or ``invalid``);
- ``school_address``: an email at one of the school's own domains (``ALUMNI_SCHOOL_DOMAINS``,
  subdomains included) once the class has graduated (``graduated``: 1 July of the class year);
- ``unverified``: not verified within ``stale_after_days`` (never verified counts), the same
  rule as the class report's ``stale_contacts``.

Only current points (not superseded, not already ``invalid``) of contactable alumni (active or
lost) are looked at. A point may be doubtful for several reasons: each is listed. A point the
alum vouched for themselves (confirmed or corrected on the still-yours page: its source says
``confirmed by alum`` or ``alum:web``) within ``stale_after_days`` is doubted by no rule but
``unverified``: they told us it is theirs.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import phonenumbers
import sqlalchemy as sa

from alumni.models import Alumnus, ContactKind, ContactPoint, ContactStatus, table_of
from alumni.people.contact_details import CONFIRMED, SOURCE
from alumni.reach.channels import CONTACTABLE
from alumni.settings import Settings

__all__ = [
    "RULES",
    "Doubt",
    "FreshnessRules",
    "Point",
    "bouncing_domain_doubts",
    "doubts",
    "doubts_by_class",
    "enrolment_landline_doubts",
    "graduated",
    "phone_country_doubts",
    "school_address_doubts",
    "shared_phone_doubts",
    "unverified_doubts",
    "vouched",
]

RULES: Final = (
    "shared_phone",
    "enrolment_landline",
    "phone_country",
    "bouncing_domain",
    "school_address",
    "unverified",
)
BOUNCED: Final = (ContactStatus.bouncing.value, ContactStatus.invalid.value)
GRADUATION_MONTH: Final = 7  # a class of year Y has left school by 1 July of Y
_A = table_of(Alumnus)
_CP = table_of(ContactPoint)


@dataclass(frozen=True, slots=True)
class Point:
    """One current contact point and what the rules need of its alum."""

    id: int
    alumnus_id: int
    class_year: int
    first_name: str
    last_name: str
    country: str | None
    kind: str
    value: str
    label: str | None
    source: str
    verified_at: datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class Doubt:
    """A contact point one rule doubts, and why (in words for an officer)."""

    point: Point
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class FreshnessRules:
    """The office's thresholds for the rules."""

    stale_after_days: int = 3 * 365
    school_domains: frozenset[str] = frozenset()
    bouncing_domain_threshold: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> FreshnessRules:
        """The thresholds of ``ALUMNI_STALE_AFTER_DAYS``, ``ALUMNI_SCHOOL_DOMAINS`` and
        ``ALUMNI_BOUNCING_DOMAIN_THRESHOLD``."""
        return cls(
            stale_after_days=settings.stale_after_days,
            school_domains=settings.school_domains,
            bouncing_domain_threshold=settings.bouncing_domain_threshold,
        )


def graduated(class_year: int, now: datetime) -> bool:
    """True once the class of ``class_year`` has left school (1 July of that year, UTC)."""
    return now >= datetime(class_year, GRADUATION_MONTH, 1, tzinfo=UTC)


def _surname(point: Point) -> str:
    decomposed = unicodedata.normalize("NFKD", point.last_name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def shared_phone_doubts(phones: Iterable[Point]) -> list[Doubt]:
    """Phones that are a current detail of alumni with different surnames (all of them)."""
    by_number: dict[str, list[Point]] = defaultdict(list)
    for point in phones:
        if point.kind == ContactKind.phone:
            by_number[point.value].append(point)
    found = []
    for holders in by_number.values():
        surnames = {_surname(p) for p in holders}
        if len({p.alumnus_id for p in holders}) < 2 or len(surnames) < 2:
            continue
        for point in holders:
            others = len({p.alumnus_id for p in holders if _surname(p) != _surname(point)})
            found.append(
                Doubt(
                    point,
                    "shared_phone",
                    f"the same number is held for {others} other "
                    f"{'alum' if others == 1 else 'alumni'} with a different surname",
                )
            )
    return found


def _from_enrolment(source: str) -> bool:
    return "enrol" in source.casefold()


def enrolment_landline_doubts(points: Iterable[Point]) -> list[Doubt]:
    """Landlines recorded at enrolment and never verified after the class graduated."""
    found = []
    for point in points:
        if point.kind != ContactKind.phone or point.label != "landline":
            continue
        if not _from_enrolment(point.source):
            continue
        left = datetime(point.class_year, GRADUATION_MONTH, 1, tzinfo=UTC)
        if point.verified_at is None or point.verified_at < left:
            when = "never verified" if point.verified_at is None else "not verified"
            found.append(
                Doubt(
                    point,
                    "enrolment_landline",
                    f"a landline recorded at enrolment ({point.source}), {when} since the "
                    f"class of {point.class_year} graduated",
                )
            )
    return found


def phone_country_doubts(points: Iterable[Point]) -> list[Doubt]:
    """Phones whose country calling code does not belong to the alum's country."""
    found = []
    for point in points:
        if point.kind != ContactKind.phone or not point.country:
            continue
        try:
            number = phonenumbers.parse(point.value, None)
        except phonenumbers.NumberParseException:
            continue  # stored values are E.164; an unreadable one is for the import to refuse
        if number.country_code is None:
            continue
        regions = phonenumbers.region_codes_for_country_code(number.country_code)
        if point.country.upper() not in regions:
            found.append(
                Doubt(
                    point,
                    "phone_country",
                    f"the number's country code +{number.country_code} "
                    f"({', '.join(regions) or 'unknown'}) is not that of {point.country.upper()}, "
                    "where the alum lives",
                )
            )
    return found


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].casefold()


def bouncing_domain_doubts(
    points: Iterable[Point], bounced_alumni: Mapping[str, int], *, threshold: int
) -> list[Doubt]:
    """Emails at a domain where ``bounced_alumni[domain]`` (alumni whose address there bounced)
    reaches ``threshold``."""
    found = []
    for point in points:
        if point.kind != ContactKind.email:
            continue
        domain = _domain(point.value)
        count = bounced_alumni.get(domain, 0)
        if count >= threshold:
            found.append(
                Doubt(
                    point,
                    "bouncing_domain",
                    f"addresses at {domain} bounced for {count} alumni",
                )
            )
    return found


def school_address_doubts(
    points: Iterable[Point], school_domains: frozenset[str], *, now: datetime
) -> list[Doubt]:
    """Emails at the school's own domains (or their subdomains) after the class graduated."""
    found = []
    for point in points:
        if point.kind != ContactKind.email or not graduated(point.class_year, now):
            continue
        domain = _domain(point.value)
        school = next(
            (d for d in sorted(school_domains) if domain == d or domain.endswith(f".{d}")), None
        )
        if school is not None:
            found.append(
                Doubt(
                    point,
                    "school_address",
                    f"an address of the school ({school}), usually closed after graduation "
                    f"(class of {point.class_year})",
                )
            )
    return found


def unverified_doubts(
    points: Iterable[Point], *, now: datetime, stale_after_days: int
) -> list[Doubt]:
    """Points never verified, or last verified more than ``stale_after_days`` before ``now``."""
    cutoff = now - timedelta(days=stale_after_days)
    found = []
    for point in points:
        if point.verified_at is None:
            found.append(Doubt(point, "unverified", "never verified"))
        elif point.verified_at < cutoff:
            days = (now - point.verified_at).days
            found.append(Doubt(point, "unverified", f"last verified {days} days ago"))
    return found


def vouched(point: Point, *, now: datetime, stale_after_days: int) -> bool:
    """True when the alum confirmed or corrected the point themselves within the window."""
    by_alum = point.source.startswith(CONFIRMED) or point.source == SOURCE
    recent = point.verified_at is not None and point.verified_at >= now - timedelta(
        days=stale_after_days
    )
    return by_alum and recent


def _point_query() -> sa.Select[Any]:
    return (
        sa.select(
            _CP.c.id,
            _CP.c.alumnus_id,
            _A.c.class_year,
            _A.c.first_name,
            _A.c.last_name,
            _A.c.country,
            _CP.c.kind,
            _CP.c.value,
            _CP.c.label,
            _CP.c.source,
            _CP.c.verified_at,
            _CP.c.status,
        )
        .join(_A, _A.c.id == _CP.c.alumnus_id)
        .where(
            _A.c.status.in_(CONTACTABLE),
            _CP.c.superseded_at.is_(None),
            _CP.c.status != ContactStatus.invalid.value,
        )
    )


def _points(connection: sa.Connection, query: sa.Select[Any]) -> list[Point]:
    return [Point(**row._mapping) for row in connection.execute(query.order_by(_CP.c.id))]


def _shared_phones(connection: sa.Connection) -> list[Point]:
    """Current phones held by two alumni or more, of every class (a classmate may share a
    number with someone of another class)."""
    current = _point_query().where(_CP.c.kind == ContactKind.phone.value)
    shared = (
        sa.select(_CP.c.value)
        .join(_A, _A.c.id == _CP.c.alumnus_id)
        .where(
            _A.c.status.in_(CONTACTABLE),
            _CP.c.superseded_at.is_(None),
            _CP.c.kind == ContactKind.phone.value,
            _CP.c.status != ContactStatus.invalid.value,
        )
        .group_by(_CP.c.value)
        .having(sa.func.count(sa.distinct(_CP.c.alumnus_id)) > 1)
    )
    return _points(connection, current.where(_CP.c.value.in_(shared)))


def _bounced_alumni_by_domain(connection: sa.Connection) -> dict[str, int]:
    """Domain -> how many alumni have (or had) an address there that bounced."""
    seen: dict[str, set[int]] = defaultdict(set)
    for alumnus_id, value in connection.execute(
        sa.select(_CP.c.alumnus_id, _CP.c.value).where(
            _CP.c.kind == ContactKind.email.value, _CP.c.status.in_(BOUNCED)
        )
    ):
        seen[_domain(value)].add(alumnus_id)
    return {domain: len(alumni) for domain, alumni in seen.items()}


def doubts(
    connection: sa.Connection,
    *,
    now: datetime,
    rules: FreshnessRules,
    class_year: int | None = None,
    only: Sequence[str] = RULES,
) -> list[Doubt]:
    """Every stale or doubtful current detail (of the class; all classes when None), by alum,
    then contact point, then rule (in ``RULES`` order).

    Args:
        only: the rules to run (default all of ``RULES``).

    Raises:
        ValueError: a rule not in ``RULES``.
    """
    unknown = sorted(set(only) - set(RULES))
    if unknown:
        raise ValueError(f"unknown freshness rule {unknown[0]!r}: use one of {', '.join(RULES)}")
    query = _point_query()
    if class_year is not None:
        query = query.where(_A.c.class_year == class_year)
    points = _points(connection, query)
    found: list[Doubt] = []
    if "shared_phone" in only:
        shared = shared_phone_doubts(_shared_phones(connection))
        found += [d for d in shared if class_year is None or d.point.class_year == class_year]
    if "enrolment_landline" in only:
        found += enrolment_landline_doubts(points)
    if "phone_country" in only:
        found += phone_country_doubts(points)
    if "bouncing_domain" in only:
        found += bouncing_domain_doubts(
            points,
            _bounced_alumni_by_domain(connection),
            threshold=rules.bouncing_domain_threshold,
        )
    if "school_address" in only:
        found += school_address_doubts(points, rules.school_domains, now=now)
    if "unverified" in only:
        found += unverified_doubts(points, now=now, stale_after_days=rules.stale_after_days)
    found = [
        d
        for d in found
        if d.rule == "unverified"
        or not vouched(d.point, now=now, stale_after_days=rules.stale_after_days)
    ]
    order = {rule: place for place, rule in enumerate(RULES)}
    return sorted(found, key=lambda d: (d.point.alumnus_id, d.point.id, order[d.rule]))


def doubts_by_class(
    connection: sa.Connection, *, now: datetime, rules: FreshnessRules
) -> dict[int, int]:
    """Class year -> how many current details of its alumni are doubtful by any rule but
    ``unverified`` (the class report counts age already as ``stale_contacts``)."""
    counted: dict[int, set[int]] = defaultdict(set)
    chosen = tuple(rule for rule in RULES if rule != "unverified")
    for doubt in doubts(connection, now=now, rules=rules, only=chosen):
        counted[doubt.point.class_year].add(doubt.point.id)
    return {year: len(ids) for year, ids in sorted(counted.items())}
