"""The still-yours question: each alum with a stale or doubtful detail is asked, by email, to
confirm or correct their details on the "still yours?" page (``alumni.web.details``).

Who is asked: an alum with at least one detail that ``alumni.reach.freshness.doubts`` lists,
not asked about in the last ``every_months`` months (``DetailCheck``), who has email among their
working channels (``alumni.reach.channels``: the ledger's per-alum channel; handles reach a class,
not a person) and who is not waiting to answer the consent question of a tip
(``alumni.reach.tips``: nothing but that question until they say yes).

A run asks at most ``ALUMNI_STILL_YOURS_PER_RUN`` alumni (``choose_run``: across all classes,
doubtful details first, then the longest unverified: ``first_asked``); the rest are asked by the
next runs, so the first run on an old file does not write to everyone at once.

How: per class year, one campaign of the ``still_yours`` template (its audience named, like a
digest's), purpose ``service``: it is about the alum's own record, which the office must keep
accurate, so it is not capped by the news budget and a news or events unsubscribe or a pause
does not hold it back; a suppression for all mail or a refused service consent does. Making the
campaign, recording what it asks about and planning it happen in one transaction, under a lock
per class, so a rerun or two runs at once never ask anyone twice. The message carries the signed
link to the alum's details page (``links.details``), where each detail is confirmed (verified
now, source ``confirmed by alum``) or corrected (the old value kept as history).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import lock_named, write_transaction
from alumni.delivery.audience import STILL_YOURS_TEMPLATE
from alumni.delivery.planning import PlanOptions, PlanSummary, plan_on
from alumni.models import (
    Campaign,
    CampaignStatus,
    DetailCheck,
    Purpose,
    ReachTip,
    TipStatus,
    table_of,
)
from alumni.reach.channels import working_channels
from alumni.reach.freshness import Doubt, FreshnessRules, doubts

__all__ = ["Asked", "ask_class", "choose_run", "first_asked", "months_before", "to_ask"]

_C = table_of(Campaign)
_DC = table_of(DetailCheck)
_T = table_of(ReachTip)
_NEVER = datetime.min.replace(tzinfo=UTC)  # never verified sorts before any verification


@dataclass(frozen=True)
class Asked:
    """One class's still-yours campaign: what it asks about and how its plan came out."""

    campaign_id: int
    class_year: int
    alumni: int
    details: int
    plan: PlanSummary


def months_before(now: datetime, months: int) -> datetime:
    """``now`` moved back ``months`` calendar months (the day clamped to the month's end)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (now.day, 30, 29, 28):
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def to_ask(
    connection: Connection,
    *,
    now: datetime,
    rules: FreshnessRules,
    every_months: int,
    class_year: int | None = None,
) -> dict[int, dict[int, list[Doubt]]]:
    """Class year -> alum -> the doubts to ask them about now (see the module docstring)."""
    found = doubts(connection, now=now, rules=rules, class_year=class_year)
    if not found:
        return {}
    by_email = {
        alumnus_id
        for alumnus_id, channels in working_channels(connection, class_year=class_year).items()
        if "email" in channels
    }
    since = months_before(now, every_months)
    recently = set(
        connection.execute(
            sa.select(_DC.c.contact_point_id).where(_DC.c.asked_at > since).distinct()
        ).scalars()
    )
    waiting = set(
        connection.execute(
            sa.select(_T.c.lost_alumnus_id).where(
                _T.c.status == TipStatus.verified.value, _T.c.consent_answer.is_(None)
            )
        ).scalars()
    )
    chosen: dict[int, dict[int, list[Doubt]]] = defaultdict(lambda: defaultdict(list))
    for doubt in found:
        point = doubt.point
        if point.alumnus_id not in by_email or point.alumnus_id in waiting:
            continue
        if point.id in recently:
            continue
        chosen[point.class_year][point.alumnus_id].append(doubt)
    return {year: dict(alumni) for year, alumni in sorted(chosen.items())}


def first_asked(alumni: Mapping[int, Sequence[Doubt]]) -> list[int]:
    """The alumni in the order they are asked when a run cannot ask everyone: those with a
    doubtful detail (any rule but ``unverified``) first, then the longest unverified (never
    verified first), then by id."""

    def order(alumnus_id: int) -> tuple[bool, datetime, int]:
        found = alumni[alumnus_id]
        doubtful = any(d.rule != "unverified" for d in found)
        checked = [d.point.verified_at for d in found]
        oldest = min((c for c in checked if c is not None), default=_NEVER)
        return (not doubtful, _NEVER if None in checked else oldest, alumnus_id)

    return sorted(alumni, key=order)


def choose_run(
    connection: Connection,
    *,
    now: datetime,
    rules: FreshnessRules,
    every_months: int,
    limit: int,
    class_year: int | None = None,
) -> dict[int, list[int]]:
    """Class year -> the alumni one run asks: at most ``limit`` of all those due, in
    ``first_asked`` order across every class (so no class waits behind another's backlog)."""
    due = to_ask(connection, now=now, rules=rules, every_months=every_months, class_year=class_year)
    every = {a: found for alumni in due.values() for a, found in alumni.items()}
    year_of = {a: year for year, alumni in due.items() for a in alumni}
    chosen: dict[int, list[int]] = defaultdict(list)
    for alumnus_id in first_asked(every)[: max(limit, 0)]:
        chosen[year_of[alumnus_id]].append(alumnus_id)
    return {year: sorted(alumni) for year, alumni in sorted(chosen.items())}


def ask_class(
    engine: Engine,
    class_year: int,
    *,
    now: datetime,
    rules: FreshnessRules,
    every_months: int,
    options: PlanOptions,
    among: Collection[int] | None = None,
) -> Asked | None:
    """Make, record and plan the class's still-yours campaign; None when nobody is to be asked.

    Safe to run again and two at once: what was asked within ``every_months`` is not asked again.

    Args:
        among: ask only these alumni (``choose_run``'s choice for the class); None: everyone
            due.
    """
    with write_transaction(engine) as connection:
        lock_named(connection, f"alumni still-yours {class_year}")
        chosen = to_ask(
            connection, now=now, rules=rules, every_months=every_months, class_year=class_year
        ).get(class_year, {})
        if among is not None:
            wanted = set(among)
            chosen = {a: found for a, found in chosen.items() if a in wanted}
        if not chosen:
            return None
        campaign_id: int = connection.execute(
            sa.insert(_C)
            .values(
                name=f"Still yours? Class of {class_year}, {now:%Y-%m-%d}",
                class_year=class_year,
                channel="email",
                template=STILL_YOURS_TEMPLATE,
                named_audience=True,
                purpose=Purpose.service.value,
                status=CampaignStatus.draft.value,
                created_at=now,
            )
            .returning(_C.c.id)
        ).scalar_one()
        by_point: dict[int, list[Doubt]] = defaultdict(list)
        for found in chosen.values():
            for doubt in found:
                by_point[doubt.point.id].append(doubt)
        connection.execute(
            sa.insert(_DC),
            [
                {
                    "contact_point_id": point_id,
                    "alumnus_id": found[0].point.alumnus_id,
                    "campaign_id": campaign_id,
                    "reasons": "\n".join(d.reason for d in found)[:2000],
                    "asked_at": now,
                }
                for point_id, found in sorted(by_point.items())
            ],
        )
        summary = plan_on(connection, campaign_id, now=now, options=options, only=sorted(chosen))
    return Asked(
        campaign_id=campaign_id,
        class_year=class_year,
        alumni=len(chosen),
        details=len(by_point),
        plan=summary,
    )
