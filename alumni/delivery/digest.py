"""The monthly digest: one email a month to each alum who chose it on their preference page,
gathering the news they were skipped for.

A news campaign skips an alum whose ``Preference.frequency`` is ``digest`` with the reason
``digest`` (``alumni.delivery.audience``); those skipped rows are the digest's items. Per class
year and month (UTC), ``plan_digest`` makes one campaign with the template ``digest`` and the
purpose news (so it passes every other skip rule, and counts as one message toward the contact
budget however many items it holds), planned for the alumni of the class with at least one
item: a news email campaign planned during that month that skipped them for their digest. The
digest itself is never skipped for ``digest``, and no run of the campaign flow widens its
audience to the whole class (``alumni.delivery.planning``).

A month's digest goes out once the month is over: the campaign's ``not_before`` is the first
instant after the month, and that is what finds it again, so a rerun returns the same campaign
and plans nobody twice. ``alumni.delivery.digest_kit.DigestKit`` renders each alum's items into
their email.

Example:
    >>> plan_digest(engine, 2016, month="2026-11", now=utcnow(), options=options)  # doctest: +SKIP
    7
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import lock_named, write_transaction
from alumni.delivery.audience import DIGEST_TEMPLATE, SkipReason
from alumni.delivery.planning import PlanOptions, plan
from alumni.models import Alumnus, Campaign, CampaignStatus, Delivery, DeliveryStatus, table_of

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)
_MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month in UTC, written ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read ``YYYY-MM`` (e.g. ``2026-11``).

        Raises:
            ValueError: naming the value and the form to write it in.
        """
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found["month"]) <= 12 or int(found["year"]) < 1900:
            raise ValueError(f"month {text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
        return cls(int(found["year"]), int(found["month"]))

    @classmethod
    def before(cls, now: datetime) -> Month:
        """The calendar month before the one ``now`` is in (UTC): the default digest month."""
        now = now.astimezone(UTC)
        return cls(now.year - 1, 12) if now.month == 1 else cls(now.year, now.month - 1)

    @classmethod
    def ending_at(cls, end: datetime) -> Month:
        """The month whose ``end`` this is (a digest campaign's ``not_before``)."""
        end = end.astimezone(UTC)
        return cls.before(end)

    @property
    def start(self) -> datetime:
        """Its first instant, UTC."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after it, UTC."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One news campaign an alum was skipped for, to be told in their digest."""

    campaign_id: int
    name: str
    template: str


def _items_query(month: Month) -> sa.Select[Any]:
    """(alumnus id, campaign id, name, template, class year) of every digest item of
    ``month``, in the order the campaigns were planned."""
    return (
        sa.select(_D.c.alumnus_id, _C.c.id, _C.c.name, _C.c.template, _A.c.class_year)
        .join(_C, _C.c.id == _D.c.campaign_id)
        .join(_A, _A.c.id == _D.c.alumnus_id)
        .where(
            _D.c.status == DeliveryStatus.skipped,
            _D.c.skip_reason == SkipReason.digest,
            _C.c.purpose == "news",
            _C.c.channel == "email",
            _C.c.template != DIGEST_TEMPLATE,
            _C.c.planned_at >= month.start,
            _C.c.planned_at < month.end,
        )
        .order_by(_D.c.alumnus_id, _C.c.planned_at, _C.c.id)
    )


def digest_items(
    connection: Connection, class_year: int, month: Month
) -> dict[int, list[DigestItem]]:
    """Each alum of the class with something for their digest of ``month``, by alumnus id,
    with the news campaigns they were skipped for, in the order those were planned."""
    items: dict[int, list[DigestItem]] = {}
    for row in connection.execute(_items_query(month).where(_A.c.class_year == class_year)):
        items.setdefault(row.alumnus_id, []).append(DigestItem(row.id, row.name, row.template))
    return items


def digest_class_years(connection: Connection, month: Month) -> list[int]:
    """The class years with at least one alum who has something for their digest of ``month``."""
    query = _items_query(month).order_by(None).subquery()
    return list(
        connection.execute(
            sa.select(query.c.class_year).distinct().order_by(query.c.class_year)
        ).scalars()
    )


def digest_name(class_year: int, month: Month) -> str:
    """What officers see in ``alumni campaign list``."""
    return f"Monthly digest {month} · class of {class_year}"


def find_digest(connection: Connection, class_year: int, month: Month) -> int | None:
    """The digest campaign of ``class_year`` and ``month``, if it was made."""
    found = connection.execute(
        sa.select(_C.c.id)
        .where(
            _C.c.template == DIGEST_TEMPLATE,
            _C.c.class_year == class_year,
            _C.c.not_before == month.end,
        )
        .order_by(_C.c.id)
    ).first()
    return None if found is None else int(found[0])


def plan_digest(
    engine: Engine, class_year: int, *, month: str, now: datetime, options: PlanOptions
) -> int | None:
    """Make (once) and plan the digest campaign of ``class_year`` for ``month``; return its id,
    or None when nobody in the class has anything for it. Safe to run again, also two at once:
    the same campaign, no alum planned twice.

    Raises:
        ValueError: ``month`` is not ``YYYY-MM``, or is not over at ``now`` (its digest would
            miss the news still to come that month).
        RuntimeError: the digest campaign was stopped (its preflight failed; see its note).
    """
    wanted = month_to_send(month, now=now)
    with engine.connect() as connection:
        audience: Sequence[int] = sorted(digest_items(connection, class_year, wanted))
    with write_transaction(engine) as connection:
        _lock_digest(connection, class_year, wanted)
        campaign_id = find_digest(connection, class_year, wanted)
        if campaign_id is None:
            if not audience:
                return None
            campaign_id = connection.execute(
                sa.insert(_C)
                .values(
                    name=digest_name(class_year, wanted),
                    class_year=class_year,
                    channel="email",
                    template=DIGEST_TEMPLATE,
                    purpose="news",
                    not_before=wanted.end,
                    status=CampaignStatus.draft,
                    created_at=now,
                )
                .returning(_C.c.id)
            ).scalar_one()
    plan(engine, campaign_id, now=now, options=options, only=audience)
    return campaign_id


def check_month_over(month: Month, *, now: datetime) -> None:
    """Raise ValueError, saying from when it can, when ``month``'s digest cannot go out yet."""
    if now < month.end:
        raise ValueError(
            f"month {month} is not over yet: its digest can go out from "
            f"{month.end:%Y-%m-%d %H:%M} UTC"
        )


def month_to_send(text: str | None, *, now: datetime) -> Month:
    """The month a digest run is for: ``text`` (``YYYY-MM``), or by default the calendar month
    before ``now``'s.

    Raises:
        ValueError: ``text`` is not ``YYYY-MM``, or the month is not over at ``now``.
    """
    month = Month.parse(text) if text is not None else Month.before(now)
    check_month_over(month, now=now)
    return month


def _lock_digest(connection: Connection, class_year: int, month: Month) -> None:
    """Serialise makers of one class's digest of one month (``lock_named``)."""
    lock_named(connection, f"alumni digest {class_year} {month}")
