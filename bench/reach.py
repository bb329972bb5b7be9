"""Reach benchmark: a year of the office's routine on the seeded worldwide population, with and
without the coverage rules, the same seed and the same budget of messages.

The routine, month by month over the twelve months to today: each class in a reunion year
(5, 10, 15, 20, 25, 30, 40 or 50 years out) and the five newest classes get a news campaign,
capped so that the office sends at most ``--budget`` messages a year (a twelfth a month, never
past what is left of the year). With the rules, the shipped ones run: the monthly hear-from-you
(``alumni.reach.hear_from_you.plan_hear_from_you``: everyone unreached for twelve months,
within consent), its messages counted against the same budget first, and every capped campaign
planned with ``alumni.reach.priority.plan_options`` (longest-unreached first). Without them, the
same campaigns are planned in the planner's default order.

Planning, the audience rules and the ledger rows are the real ones (``alumni.delivery.planning``).
Only the transport is simulated, per channel quality: a planned message to a working address is
delivered (97%) or bounces hard (the address is then marked bouncing, as tracking would). Shares
are of contactable alumni (active or lost) reached in the twelve months (``coverage_rows``,
``reached_since``); "least" is over groups of at least ``--min-group`` alumni, since a country of
five is one person from any share. A ceiling line says what sending can reach at all: the share
of contactable alumni who are active, have a working address and did not refuse news (lost
alumni, refusals and dead addresses are for the fresh-details and lost-alumni work). Run:

    .venv/bin/python bench/reach.py [--alumni 3000] [--seed 1] [--budget 3000]

The last line is one JSON object: {"with_rules": {...}, "without_rules": {...}}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from alumni.db import engine_for, upgrade, write_transaction
from alumni.delivery.planning import PlanOptions, plan
from alumni.models import (
    Alumnus,
    Campaign,
    Consent,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    Response,
    table_of,
    utcnow,
)
from alumni.people import importing, seeding
from alumni.people.validation import COLUMNS
from alumni.reach.channels import CONTACTABLE
from alumni.reach.coverage import WINDOW, CoverageRow, coverage_rows, reached_since
from alumni.reach.hear_from_you import class_years_to_ask, plan_hear_from_you
from alumni.reach.priority import reach_order

MILESTONES = (5, 10, 15, 20, 25, 30, 40, 50)
NEWEST = 5  # the newest classes get news every month: the easy, eager ones
DELIVERED = 0.97  # a message to a working address arrives; else it bounces hard

_A = table_of(Alumnus)
_C = table_of(Campaign)
_CP = table_of(ContactPoint)
_D = table_of(Delivery)
_R = table_of(Response)


def populate(url: str, count: int, seed: int, today: date) -> None:
    upgrade(url)
    rows = seeding.generate_rows(count, seed=seed, today=today)
    result = importing.import_rows(
        engine_for(url),
        enumerate(rows, start=2),
        header=list(COLUMNS),
        filename=f"bench --alumni {count} --seed {seed}",
        sha256="",
        today=today,
    )
    if not result.committed:
        raise SystemExit(f"the seeded population did not import: {result.problems[:3]}")


def routine_classes(years: list[int], month_index: int, today: date) -> list[int]:
    """The classes the office writes to in month ``month_index`` (0-11) of the year."""
    reunion = [y for y in years if today.year - y in MILESTONES]
    # reunion classes spread over the year; the newest classes every month
    chosen = {y for i, y in enumerate(reunion) if i % 12 == month_index}
    chosen |= set(sorted(years)[-NEWEST:])
    return sorted(chosen)


def deliver(url: str, campaign_id: int, at: datetime, rng: Random) -> int:
    """The simulated transport: every pending row sent at ``at``; some bounce hard."""
    sent = 0
    with write_transaction(engine_for(url)) as connection:
        rows = connection.execute(
            sa.select(_D.c.id, _D.c.alumnus_id, _D.c.address).where(
                _D.c.campaign_id == campaign_id, _D.c.status == DeliveryStatus.pending
            )
        ).all()
        for delivery_id, alumnus_id, address in rows:
            connection.execute(
                sa.update(_D)
                .where(_D.c.id == delivery_id)
                .values(status=DeliveryStatus.sent, sent_at=at, attempts=1)
            )
            sent += 1
            if rng.random() >= DELIVERED:
                connection.execute(
                    sa.insert(_R).values(
                        kind="bounce_hard",
                        source="email",
                        remote_id=f"bench-{delivery_id}",
                        delivery_id=delivery_id,
                        alumnus_id=alumnus_id,
                        at=at,
                        needs_attention=False,
                        created_at=at,
                    )
                )
                connection.execute(
                    sa.update(_CP)
                    .where(_CP.c.alumnus_id == alumnus_id, _CP.c.value == address)
                    .values(status="bouncing")
                )
    return sent


def news_campaign(url: str, class_year: int, cap: int, at: datetime) -> int:
    with write_transaction(engine_for(url)) as connection:
        campaign_id: int = connection.execute(
            sa.insert(_C)
            .values(
                name=f"news {class_year} {at:%Y-%m}",
                class_year=class_year,
                channel="email",
                template="newsletter",
                purpose="news",
                status="draft",
                created_at=at,
                max_recipients=cap,
            )
            .returning(_C.c.id)
        ).scalar_one()
    return campaign_id


def simulate(url: str, *, rules: bool, budget: int, start: datetime, seed: int) -> int:
    """A year of the routine; returns the messages sent."""
    engine = engine_for(url)
    rng = Random(seed)
    order: Callable[..., Any] | None = reach_order if rules else None
    options = replace(PlanOptions(message_id_domain="school.example"), order=order)
    today = (start + timedelta(days=365)).date()
    with engine.connect() as connection:
        years = class_years_to_ask(connection)
    spent = 0
    for month in range(12):
        at = start + timedelta(days=30 * month + 1)
        if rules:
            for year in years:
                campaign_id = plan_hear_from_you(engine, year, now=at, options=options)
                if campaign_id is not None:
                    spent += deliver(url, campaign_id, at, rng)
        allowance = min(budget // 12, max(0, budget - spent))
        chosen = routine_classes(years, month, today)
        if not chosen or not allowance:
            continue
        cap = max(1, allowance // len(chosen))
        for year in chosen:
            if spent + cap > budget:
                break
            campaign_id = news_campaign(url, year, cap, at)
            plan(engine, campaign_id, now=at, options=options)
            spent += deliver(url, campaign_id, at, rng)
    return spent


def shares(url: str, now: datetime, min_group: int) -> tuple[dict[str, float], dict[str, str]]:
    """The four shares, and which group is the least reached of each kind."""
    with engine_for(url).connect() as connection:
        rows = coverage_rows(connection, now=now)
        reached = reached_since(connection, now - WINDOW)
        programmes: dict[str, list[int]] = {}
        for alumnus_id, programme in connection.execute(
            sa.select(_A.c.id, _A.c.programme).where(_A.c.status.in_(CONTACTABLE))
        ):
            tally = programmes.setdefault(programme or "none", [0, 0])
            tally[0] += 1
            tally[1] += alumnus_id in reached

    def least(by: str) -> CoverageRow:
        return min(
            (r for r in rows if r.by == by and r.alumni >= min_group),
            key=lambda r: r.reached_share,
        )

    everyone = next(r for r in rows if r.by == "all")
    country, year = least("country"), least("class")
    programme = min(
        ((name, hit / n) for name, (n, hit) in programmes.items() if n >= min_group),
        key=lambda item: item[1],
    )
    figures = {
        "overall": round(everyone.reached_share, 4),
        "least_country": round(country.reached_share, 4),
        "least_class": round(year.reached_share, 4),
        "least_programme": round(programme[1], 4),
    }
    names = {
        "least_country": f"{country.group} ({country.alumni})",
        "least_class": f"{year.group} ({year.alumni})",
        "least_programme": f"{programme[0]} ({programmes[programme[0]][0]})",
    }
    return figures, names


def ceiling(url: str, min_group: int) -> tuple[float, float, str]:
    """Of contactable alumni, the share any email could reach at the start: active, a current
    address with status ok, news not refused; overall and for the class where it is lowest."""
    co = table_of(Consent)
    email_ok = sa.exists().where(
        _CP.c.alumnus_id == _A.c.id,
        _CP.c.kind == "email",
        _CP.c.status == "ok",
        _CP.c.superseded_at.is_(None),
    )
    refused = sa.exists().where(
        co.c.alumnus_id == _A.c.id, co.c.purpose == "news", co.c.granted.is_(False)
    )
    plannable = sa.and_(_A.c.status == "active", email_ok, ~refused)
    with engine_for(url).connect() as connection:
        rows = connection.execute(
            sa.select(
                _A.c.class_year,
                sa.func.count(),
                sa.func.sum(sa.case((plannable, 1), else_=0)),
            )
            .where(_A.c.status.in_(CONTACTABLE))
            .group_by(_A.c.class_year)
        ).all()
    total = sum(n for _, n, _ in rows)
    year, n, ok = min((r for r in rows if r[1] >= min_group), key=lambda r: r[2] / r[1])
    return sum(ok for _, _, ok in rows) / total, ok / n, str(year)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alumni", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=int, default=0, help="messages a year; 0: one per alum")
    parser.add_argument("--min-group", type=int, default=20)
    args = parser.parse_args()
    budget = args.budget or args.alumni
    end = utcnow()
    start = end - timedelta(days=365)
    results: dict[str, dict[str, float]] = {}
    least: dict[str, dict[str, str]] = {}
    spent: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reach-") as folder:
        os.environ["ALUMNI_SECRET_KEY_FILE"] = str(Path(folder) / "secret")
        for name, rules in (("with_rules", True), ("without_rules", False)):
            url = f"sqlite:///{Path(folder) / name}.db"
            began = time.perf_counter()
            populate(url, args.alumni, args.seed, start.date())
            if rules:
                reachable = ceiling(url, args.min_group)
            spent[name] = simulate(url, rules=rules, budget=budget, start=start, seed=args.seed)
            results[name], least[name] = shares(url, end, args.min_group)
            engine_for(url).dispose()
            print(f"{name}: simulated in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    print(
        f"{args.alumni} alumni, seed {args.seed}, budget {budget} messages a year; sent: "
        f"with rules {spent['with_rules']}, without {spent['without_rules']}"
    )
    print(f"{'share reached in 12 months':<28}{'with rules':>12}{'without':>12}")
    for key in ("overall", "least_country", "least_class", "least_programme"):
        print(
            f"{key.replace('_', ' '):<28}"
            f"{results['with_rules'][key]:>12.1%}{results['without_rules'][key]:>12.1%}"
        )
    for key in ("least_country", "least_class", "least_programme"):
        print(
            f"  {key.replace('_', ' ')} (alumni): with rules {least['with_rules'][key]}, "
            f"without {least['without_rules'][key]}"
        )
    print(f"groups of fewer than {args.min_group} alumni are left out of the least shares")
    print(
        f"ceiling (active, a working address, news not refused): overall {reachable[0]:.1%}, "
        f"lowest class {reachable[2]} {reachable[1]:.1%}"
    )
    for name in ("with_rules", "without_rules"):
        r = results[name]
        floor = min(r["least_country"], r["least_class"], r["least_programme"])
        ratio = floor / r["overall"] if r["overall"] else 0.0
        print(f"{name.replace('_', ' ')}: least group / average = {ratio:.2f} (bar: 0.80)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
