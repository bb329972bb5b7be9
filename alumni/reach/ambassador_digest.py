"""The monthly digest to each class's ambassadors: one email to each of them, through the
ledger, telling their class's coming events, how many the office can reach, the classmates
nobody can reach (names and class only) with a plea for help and the tip form's link, and the
open ideas; it carries their class-page link.

Per class with ambassadors and per month (UTC; the month the digest goes out in),
``plan_ambassador_digest`` makes one campaign (template ``ambassador_digest``, purpose
service: an ambassador's own role, not news) with an ``AmbassadorDigest`` row that fixes what
it tells, and plans it for the class's ambassadors only. A rerun in the same month, or two runs
at once, find it and plan nobody twice; an ambassador added since is planned then.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery.ambassador_kit import AMBASSADOR_DIGEST_TEMPLATE
from alumni.delivery.planning import PlanOptions, plan
from alumni.models import Ambassador, AmbassadorDigest, Campaign, CampaignStatus, table_of
from alumni.reach.ambassadors import ambassadors_of
from alumni.reach.class_view import class_view, digest_context

__all__ = ["digest_class_years", "digest_month", "plan_ambassador_digest"]

_AD = table_of(AmbassadorDigest)
_AM = table_of(Ambassador)
_C = table_of(Campaign)
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def digest_month(month: str | None, *, now: datetime) -> str:
    """The month a digest run is for: ``month`` (``YYYY-MM``), or the month of ``now`` (UTC).

    Raises:
        ValueError: ``month`` is not ``YYYY-MM``.
    """
    if month is None:
        return f"{now.astimezone(UTC):%Y-%m}"
    if _MONTH.fullmatch(month.strip()) is None:
        raise ValueError(f"month {month!r} is not a month: write it as YYYY-MM, e.g. 2026-12")
    return month.strip()


def digest_class_years(connection: Connection) -> list[int]:
    """The class years with at least one ambassador."""
    return list(
        connection.execute(
            sa.select(_AM.c.class_year).distinct().order_by(_AM.c.class_year)
        ).scalars()
    )


def _make_once(engine: Engine, class_year: int, *, month: str, now: datetime) -> int:
    """The class's digest campaign of ``month``, made with what it tells if it was not yet."""
    with write_transaction(engine) as connection:
        found = connection.execute(
            sa.select(_AD.c.campaign_id).where(_AD.c.class_year == class_year, _AD.c.month == month)
        ).scalar()
        if found is not None:
            return int(found)
        told = digest_context(class_view(connection, class_year, now=now))
        campaign_id = int(
            connection.execute(
                sa.insert(_C)
                .values(
                    name=f"Ambassador digest {month} · class of {class_year}",
                    class_year=class_year,
                    channel="email",
                    template=AMBASSADOR_DIGEST_TEMPLATE,
                    named_audience=True,
                    purpose="service",
                    status=CampaignStatus.draft,
                    created_at=now,
                )
                .returning(_C.c.id)
            ).scalar_one()
        )
        connection.execute(
            sa.insert(_AD).values(
                campaign_id=campaign_id,
                class_year=class_year,
                month=month,
                context=told,
                created_at=now,
            )
        )
        return campaign_id


def plan_ambassador_digest(
    engine: Engine, class_year: int, *, month: str, now: datetime, options: PlanOptions
) -> int | None:
    """Make (once per class and month) and plan the class's ambassador digest; return its
    campaign id, or None when the class has no ambassador who may act.

    Raises:
        RuntimeError: the digest campaign was stopped (its preflight failed; see its note).
    """
    with engine.connect() as connection:
        audience = ambassadors_of(connection, class_year)
    if not audience:
        return None
    try:
        found = _make_once(engine, class_year, month=month, now=now)
    except sa.exc.IntegrityError:  # another run made it at the same moment: use theirs
        found = _make_once(engine, class_year, month=month, now=now)
    campaign_id = int(found)
    plan(engine, campaign_id, now=now, options=options, only=audience)
    return campaign_id
