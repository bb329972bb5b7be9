"""Fairness: a campaign's audience is not narrowed by career, income, employer or giving, and
each campaign's report shows whom it reached less.

``check_audience`` is the rule for ``alumni campaign create --where FIELD=VALUE``: FIELD must be
an alumni column officers may filter by (``filterable_fields``: country, city, programme,
locale, time zone, and any column added later); a FIELD whose name matches ``SENSITIVE`` (career,
occupation, job, employer, industry, income, salary, giving, donor, donation...) is refused
unless a reason is given, which is kept on the campaign (``Campaign.audience_reason``) and
shown in its report. Whoever makes a campaign with a filter calls it first: the CLI does.

``compare_groups`` reads what one campaign did, per country, per programme and per age of the
alum's contact data (the freshest ``verified_at`` of their current details), and flags any
group reached at less than half the campaign's average (``FLAG_BELOW``). Reached means sent
and not bounced, or answered (a reply, a click, an RSVP); responded means answered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import (
    Alumnus,
    Campaign,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    Response,
    UTCDateTime,
    table_of,
)
from alumni.reach.coverage import ANSWER_KINDS, BOUNCE_KINDS

__all__ = [
    "FLAG_BELOW",
    "SENSITIVE",
    "AudienceFilter",
    "FairnessReport",
    "GroupReach",
    "SensitiveFilter",
    "check_audience",
    "compare_groups",
    "filterable_fields",
    "parse_where",
]

# Names that say career, wealth or giving: matched anywhere in a field's name, any case.
SENSITIVE = re.compile(
    r"career|occupation|job|employ|industry|profession|company|income|salary|wage|wealth|"
    r"net_?worth|giving|gift|donor|donat|pledge|philanthrop|legacy",
    re.IGNORECASE,
)
# A group reached at less than this share of the campaign's average is flagged.
FLAG_BELOW = 0.5
# Columns that say who someone is or track our own work, never an audience.
_NOT_FILTERS = frozenset(
    {
        "id",
        "external_id",
        "first_name",
        "last_name",
        "class_year",
        "status",
        "created_at",
        "updated_at",
        "last_import_id",
        "last_two_way_at",
        "last_two_way_channel",
    }
)

_A = table_of(Alumnus)
_C = table_of(Campaign)
_CP = table_of(ContactPoint)
_D = table_of(Delivery)
_R = table_of(Response)


class SensitiveFilter(ValueError):
    """A filter by career, income, employer or giving without a reason."""


@dataclass(frozen=True)
class AudienceFilter:
    """A checked audience filter: FIELD -> the values it may have, and why if sensitive."""

    where: dict[str, list[str]]
    reason: str | None
    sensitive: tuple[str, ...] = ()


def filterable_fields() -> tuple[str, ...]:
    """The alumni columns an audience may be narrowed by (sensitive ones need a reason)."""
    return tuple(c.name for c in _A.columns if c.name not in _NOT_FILTERS)


def parse_where(items: Sequence[str]) -> dict[str, list[str]]:
    """``["country=GB", "country=FR", "city=Porto"]`` -> ``{"country": ["GB", "FR"], ...}``.

    Raises:
        ValueError: an item is not FIELD=VALUE.
    """
    where: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--where {item!r}: write FIELD=VALUE, e.g. --where country=GB")
        values = where.setdefault(name.strip().lower(), [])
        if value.strip() not in values:
            values.append(value.strip())
    return where


def check_audience(
    where: Mapping[str, Sequence[str]],
    reason: str | None,
    *,
    known: Sequence[str] | None = None,
) -> AudienceFilter:
    """Check an audience filter against the fairness rule (see the module docstring).

    Args:
        known: the fields that exist (default ``filterable_fields()``, the alumni columns).

    Raises:
        SensitiveFilter: a field names career, income, employer or giving and no reason is
            given; it names the field and says how to give one.
        ValueError: a field is no alumni column officers may filter by (the known ones named).
    """
    reason = (reason or "").strip() or None
    sensitive = tuple(name for name in where if SENSITIVE.search(name))
    if sensitive and reason is None:
        names = ", ".join(sensitive)
        raise SensitiveFilter(
            f"--where {names}: a campaign's audience is not narrowed by career, income, "
            "employer or giving; every alum of the class is worth reaching. If this campaign "
            'truly needs it, say why with --reason "...": the reason is kept on the campaign '
            "and shown in its report. Nothing was created."
        )
    allowed = tuple(known) if known is not None else filterable_fields()
    for name, values in where.items():
        if name not in allowed:
            raise ValueError(
                f"--where {name}=...: no such alumni field; filter by one of {', '.join(allowed)}"
            )
        if not values:
            raise ValueError(f"--where {name}: give a value, e.g. --where {name}=VALUE")
    return AudienceFilter(
        where={name: list(values) for name, values in where.items()},
        reason=reason,
        sensitive=sensitive,
    )


@dataclass(frozen=True)
class GroupReach:
    """How one group of a campaign's audience fared."""

    by: str  # country / programme / contact_age
    group: str
    alumni: int
    reached: int
    responded: int
    flagged: bool  # reached share below FLAG_BELOW of the campaign's average

    @property
    def reached_share(self) -> float:
        return self.reached / self.alumni if self.alumni else 0.0

    @property
    def response_share(self) -> float:
        return self.responded / self.alumni if self.alumni else 0.0


@dataclass(frozen=True)
class FairnessReport:
    """A campaign's reach and response compared across groups, with its audience filter."""

    campaign_id: int
    audience_where: dict[str, list[str]] | None
    audience_reason: str | None
    alumni: int
    reached: int
    groups: list[GroupReach] = field(default_factory=list)

    @property
    def average(self) -> float:
        return self.reached / self.alumni if self.alumni else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "audience_where": self.audience_where,
            "audience_reason": self.audience_reason,
            "alumni": self.alumni,
            "reached": self.reached,
            "average": round(self.average, 4),
            "groups": [
                {
                    "by": g.by,
                    "group": g.group,
                    "alumni": g.alumni,
                    "reached": g.reached,
                    "responded": g.responded,
                    "reached_share": round(g.reached_share, 4),
                    "response_share": round(g.response_share, 4),
                    "flagged": g.flagged,
                }
                for g in self.groups
            ],
        }

    def lines(self) -> list[str]:
        """The report as plain lines (the CLI prints them; ``markdown`` for artifacts)."""
        out = []
        if self.audience_where:
            shown = "; ".join(f"{k} = {' or '.join(v)}" for k, v in self.audience_where.items())
            out.append(f"audience narrowed to: {shown}")
        if self.audience_reason:
            out.append(f"reason given: {self.audience_reason}")
        out.append(
            f"reached {self.reached} of {self.alumni} ({100 * self.average:.0f}%); groups "
            f"below {100 * FLAG_BELOW:.0f}% of that are flagged"
        )
        for g in self.groups:
            mark = "  << reached less than half the average" if g.flagged else ""
            out.append(
                f"{g.by:<12} {g.group:<22} {g.reached:>6}/{g.alumni:<6} "
                f"reached {100 * g.reached_share:3.0f}%  responded "
                f"{100 * g.response_share:3.0f}%{mark}"
            )
        return out

    def markdown(self) -> str:
        head = [f"# Fairness of campaign {self.campaign_id}", ""]
        if self.audience_where:
            shown = "; ".join(f"{k} = {' or '.join(v)}" for k, v in self.audience_where.items())
            head.append(f"Audience narrowed to: {shown}.")
        if self.audience_reason:
            head.append(f"Reason given: {self.audience_reason}")
        head += [
            f"Reached {self.reached} of {self.alumni} ({100 * self.average:.0f}%).",
            "",
            "| by | group | alumni | reached % | responded % | flag |",
            "|---|---|---|---|---|---|",
        ]
        body = [
            f"| {g.by} | {g.group} | {g.alumni} | {100 * g.reached_share:.0f}% | "
            f"{100 * g.response_share:.0f}% | {'below half the average' if g.flagged else ''} |"
            for g in self.groups
        ]
        return "\n".join(head + body) + "\n"


def _age(verified: Any, now: datetime) -> Any:
    """The contact-age group of a verified-at time, in SQL (each row of a class is grouped
    by the database, not in Python)."""
    year, three_years = now - timedelta(days=365), now - timedelta(days=3 * 365)
    return sa.case(
        (verified.is_(None), "never verified"),
        (verified >= sa.literal(year, UTCDateTime()), "verified < 1 year"),
        (verified >= sa.literal(three_years, UTCDateTime()), "verified 1-3 years"),
        else_="verified > 3 years",
    )


def compare_groups(connection: Connection, campaign_id: int, *, now: datetime) -> FairnessReport:
    """Compare the campaign's reach and response across countries, programmes and contact age.

    Raises:
        LookupError: no campaign with that id.
    """
    campaign = connection.execute(sa.select(_C).where(_C.c.id == campaign_id)).first()
    if campaign is None:
        raise LookupError(f"no campaign with id {campaign_id}")
    bounced = sa.exists().where(_R.c.delivery_id == _D.c.id, _R.c.kind.in_(BOUNCE_KINDS))
    answered = sa.exists().where(_R.c.delivery_id == _D.c.id, _R.c.kind.in_(ANSWER_KINDS))
    verified = (
        sa.select(sa.func.max(_CP.c.verified_at, type_=UTCDateTime()))
        .where(_CP.c.alumnus_id == _D.c.alumnus_id, _CP.c.superseded_at.is_(None))
        .scalar_subquery()
    )
    each = (
        sa.select(
            _A.c.country,
            _A.c.programme,
            verified.label("verified"),
            sa.and_(_D.c.status == DeliveryStatus.sent, ~bounced).label("delivered"),
            answered.label("answered"),
        )
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .where(_D.c.campaign_id == campaign_id)
        .subquery()
    )
    keys = (each.c.country, each.c.programme, _age(each.c.verified, now))
    counted = connection.execute(
        sa.select(*keys, each.c.delivered, each.c.answered, sa.func.count()).group_by(
            *keys, each.c.delivered, each.c.answered
        )
    ).all()
    tallies: dict[tuple[str, str], list[int]] = {}
    total = [0, 0]
    for country, programme, age, delivered, responded, n in counted:
        reached = n if delivered or responded else 0
        total[0] += n
        total[1] += reached
        for key in (
            ("country", country or "unknown"),
            ("programme", programme or "none"),
            ("contact_age", age),
        ):
            tally = tallies.setdefault(key, [0, 0, 0])
            tally[0] += n
            tally[1] += reached
            tally[2] += n if responded else 0
    average = total[1] / total[0] if total[0] else 0.0
    groups = [
        GroupReach(
            by=by,
            group=group,
            alumni=n,
            reached=reached,
            responded=responded,
            flagged=n > 0 and reached / n < FLAG_BELOW * average,
        )
        for (by, group), (n, reached, responded) in sorted(tallies.items())
    ]
    return FairnessReport(
        campaign_id=campaign_id,
        audience_where=campaign.audience_where,
        audience_reason=campaign.audience_reason,
        alumni=total[0],
        reached=total[1],
        groups=groups,
    )
