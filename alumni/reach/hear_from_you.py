"""Hear from you: one gentle "we would like to hear from you" message to each alum nobody has
reached in twelve months, through the ledger, within their consent.

Per class year and calendar year there is one campaign (``series_key``
``hear-from-you:<class>:<year>``, unique in the database, so two runs at once make one) with
a named audience: the class's contactable alumni not reached within ``WINDOW``
(``alumni.reach.coverage.reached_since``). The ledger's one row per (campaign, alum, channel)
makes it once: a rerun that year plans only alumni newly unreached, and ``audience.decide``
applies every rule of any news campaign (consent for news, unsubscribes, preferences, the
contact budget). Email is the channel that carries a personal message; an alum whose only
working channel is a social handle is skipped as ``no_email`` and counted in the coverage
report, where the lost-alumni drive picks them up.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery.planning import PlanOptions, plan
from alumni.models import Alumnus, Campaign, CampaignStatus, Purpose, table_of
from alumni.reach.channels import CONTACTABLE
from alumni.reach.coverage import WINDOW, reached_since

__all__ = ["TEMPLATE", "class_years_to_ask", "plan_hear_from_you", "series_key", "unreached"]

TEMPLATE = "hear_from_you"

_A = table_of(Alumnus)
_C = table_of(Campaign)


def series_key(class_year: int, *, now: datetime) -> str:
    """The key of the class's hear-from-you campaign for ``now``'s calendar year (UTC)."""
    return f"hear-from-you:{class_year}:{now.year}"


def unreached(connection: Connection, class_year: int, *, now: datetime) -> list[int]:
    """Contactable alumni of the class nobody reached within ``WINDOW`` of ``now``, by id."""
    everyone = connection.execute(
        sa.select(_A.c.id)
        .where(_A.c.class_year == class_year, _A.c.status.in_(CONTACTABLE))
        .order_by(_A.c.id)
    ).scalars()
    ids = list(everyone)
    reached = reached_since(connection, now - WINDOW, among=ids)
    return [alumnus_id for alumnus_id in ids if alumnus_id not in reached]


def class_years_to_ask(connection: Connection) -> list[int]:
    """Class years with contactable alumni, oldest first (each is asked about separately)."""
    return list(
        connection.execute(
            sa.select(_A.c.class_year)
            .where(_A.c.status.in_(CONTACTABLE))
            .distinct()
            .order_by(_A.c.class_year)
        ).scalars()
    )


def plan_hear_from_you(
    engine: Engine, class_year: int, *, now: datetime, options: PlanOptions
) -> int | None:
    """Make (once a year) and plan the class's hear-from-you campaign; return its id, or None
    when it planned nobody new (everyone was reached within twelve months, or those who were
    not already have their row this year, sent or skipped with its reason).

    Safe to run again, also two at once: one campaign, nobody planned twice.

    Raises:
        RuntimeError: the campaign was stopped (its preflight failed; see its note).
    """
    with engine.connect() as connection:
        audience = unreached(connection, class_year, now=now)
    if not audience:
        return None
    key = series_key(class_year, now=now)
    with write_transaction(engine) as connection:
        campaign_id = _find(connection, key) or _make(connection, class_year, key, now=now)
    summary = plan(engine, campaign_id, now=now, options=options, only=audience)
    return campaign_id if summary.added else None


def _find(connection: Connection, key: str) -> int | None:
    found = connection.execute(sa.select(_C.c.id).where(_C.c.series_key == key)).scalar()
    return None if found is None else int(found)


def _make(connection: Connection, class_year: int, key: str, *, now: datetime) -> int:
    """Insert the campaign, or find the one a concurrent run just made (the unique key)."""
    try:
        with connection.begin_nested():
            made: int = connection.execute(
                sa.insert(_C)
                .values(
                    name=f"We would like to hear from you: class of {class_year}, {now.year}",
                    class_year=class_year,
                    channel="email",
                    template=TEMPLATE,
                    purpose=Purpose.news,
                    status=CampaignStatus.draft,
                    created_at=now,
                    named_audience=True,
                    series_key=key,
                )
                .returning(_C.c.id)
            ).scalar_one()
            return made
    except sa.exc.IntegrityError:
        found = _find(connection, key)
        assert found is not None
        return found
