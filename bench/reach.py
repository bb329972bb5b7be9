"""Reach benchmark: a year of the office's routine on the seeded worldwide population, with and
without the coverage rules, the same seed and the same budget of messages.

The office's routine (both runs), month by month over the twelve months to today:

- each class's event (the office's practice, "one or two events a class a year"), made with the
  shipped functions at the start of the year: the milestone classes' reunions
  (``alumni.events.schedule.plan_reunions``, accepted as proposed: June), the other classes'
  events (``create_event``) one month after the other in class order. Its invitation goes out
  through the shipped event-mailing planner and the ledger (``alumni.events.mailings.
  plan_mailing``, key ``invite``, purpose events: the alumni who said yes to events, whatever
  they said to news) in the month ``INVITE_LEAD`` before the event, capped
  (``max_recipients``) at ``EVENT_SHARE`` of the class and at its part of the month's budget;
  an event whose invitation the month's budget has no room for is counted as unfunded.
  Follow-ups (reminders, thank-yous) go only to those the invitation reached, as service: they
  add no reach and are left out;
- news campaigns: each class in a reunion year (5, 10, 15, 20, 25, 30, 40 or 50 years out) and
  the five newest classes.

The office sends at most ``--budget`` messages a year: each month's part is what is left of
the year's budget spread over the months left, taken in turn by the month's steps. Without the
rules, the steps are the invitations, then the news with what is left, planned in the
planner's default order (by id). With the rules, every capped mailing (invitations and news)
goes longest-unreached first (``alumni.reach.priority.reach_order``), and the shipped routine
of issue 13 joins in, its messages counted against the same budget:

1. the hear-from-you (``alumni.reach.hear_from_you.plan_hear_from_you``: everyone unreached for
   twelve months, within consent), by email, or by direct message on the office's networks
   that have them (``plan_direct``; ``DIRECT_NETWORKS``: the office has a Mastodon account)
   for those with no working email but a handle there; before the month's part is set: it
   has no cap;
2. the month's event invitations: dated, so before what can wait;
3. the lost-alumni drive (``drive_month``): each class's ambassador digest
   (``alumni.reach.ambassador_digest``) lists the classmates with no working channel; a
   classmate names one on the tip form (``alumni.reach.tips.submit_tip``); the officer verifies
   tips, those of the least-reached classes first (``alumni.reach.tip_order``), which sends the
   found alum the one consent question (``verify_tip``); they answer (``answer_consent``);
4. the still-yours question (``alumni.reach.still_yours``) to alumni with stale or doubtful
   details, as many as the month's part leaves;
5. the news with what is left.

The ambassadors' digests are outside the budget (mail to volunteers about their role, not to
alumni as alumni); a line counts the alumni they alone reached. The same rules run once more
with the drive switched off (tip chance 0): what the ordering, hear-from-you and still-yours do
without anyone giving a tip.

The events, each a constant printed on its own line:

- ``EVENTS_A_CLASS`` (1): events a class a year, the low end of the practice (the shipped
  event budget allows two); a milestone class's reunion is its event.
- ``INVITE_LEAD`` (6 weeks): how long before the event its invitation goes out.
- ``EVENT_SHARE`` (50%): the part of a class's contactable alumni one invitation may go to. The
  budget is one message an alum a year: inviting every class whole would spend it all on
  events, so the office gives the invitations at most half, and the rest to news (and, with
  the rules, the issue's routine). Chosen before any run, not fitted to the bar.

Planning, the audience rules and the ledger rows are the real ones (``alumni.delivery.planning``).
Only the transport and the people are simulated. The transport, per channel quality: a planned
message to a working address or handle is delivered (``DELIVERED``, 97%) or bounces hard (it
is then marked bouncing, as tracking would). The people of the drive, each a constant (and an
option), printed on its own line; chosen on the low side, so the drive is not credited with
more than it is likely to find:

- ``TIP_CHANCE`` (2% a month): a lost alum listed in their class's digest is named by a
  classmate, with an email address, within the month; about one in five of those listed over a
  year. Low because only the class's two to four ambassadors get the list, and a tip needs
  someone who knows an address today and takes the step. Phone tips are left out: nothing sends
  on a phone, so they add no reach here.
- ``TIP_WORKS`` (60%): the tipped address is the alum's and works; otherwise the consent
  question bounces (an old address a classmate remembers).
- ``ANSWERS`` (50%) and ``SAYS_YES`` (60%): a found alum whose consent question arrived answers
  within the month, and says yes. The arrival alone counts as reach; the answer decides what
  they get next.
- ``OFFICER_CHECKS`` (8 a month): tips an officer verifies, two a week beside their other
  work; the rest wait for next month, least-reached classes first.

Shares are of contactable alumni (active or lost) reached in the twelve months
(``coverage_rows``, ``reached_since``); "least" is over groups of at least ``--min-group``
alumni, since a country of five is one person from any share. For each run, a line names the
least-reached group and why each of its unreached alumni was not reached (``why_unreached``:
lost, bounced, no working channel at all, a social handle only, left out by a cap or the
contact budget, consent or preferences, or nothing written to them). Two ceiling lines say
what sending can reach at all: the share of contactable alumni who are active, have a working
address and did not refuse news (news alone), or did not refuse both news and events (the
routine). Run:

    .venv/bin/python bench/reach.py [--alumni 3000] [--seed 1] [--budget 3000] [--tip-chance 0.02]

The last line is one JSON object: {"with_rules": {...}, "without_rules": {...}}; with_rules is
the full routine, drive included.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from alumni.db import engine_for, upgrade, write_transaction
from alumni.delivery.ambassador_kit import AMBASSADOR_DIGEST_TEMPLATE
from alumni.delivery.planning import PlanOptions, plan
from alumni.events.mailings import plan_mailing
from alumni.events.schedule import accept_event, create_event, plan_reunions, reunion_proposals
from alumni.models import (
    Alumnus,
    Campaign,
    Consent,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    ReachTip,
    Response,
    table_of,
    utcnow,
)
from alumni.people import importing, seeding
from alumni.people.validation import COLUMNS
from alumni.reach.ambassador_digest import digest_class_years, digest_month, plan_ambassador_digest
from alumni.reach.channels import CONTACTABLE, lost_classmates, working_channels
from alumni.reach.coverage import WINDOW, CoverageRow, coverage_rows, reached_since
from alumni.reach.freshness import FreshnessRules
from alumni.reach.hear_from_you import class_years_to_ask, plan_direct, plan_hear_from_you
from alumni.reach.priority import reach_order
from alumni.reach.still_yours import ask_class, choose_run
from alumni.reach.tip_order import pending_tips_by_reach
from alumni.reach.tips import TipAlreadyGiven, answer_consent, submit_tip, verify_tip
from alumni.settings import get_settings

MILESTONES = (5, 10, 15, 20, 25, 30, 40, 50)
NEWEST = 5  # the newest classes get news every month: the easy, eager ones
DELIVERED = 0.97  # a message to a working address arrives; else it bounces hard

# The office's events (both runs); see the module docstring for why.
EVENTS_A_CLASS = 1  # each class's event a year: the low end of the practice's "one or two"
EVENT_SHARE = 0.5  # an invitation goes to at most this share of the class's contactable alumni
INVITE_LEAD = timedelta(weeks=6)  # invitations go out this long before the event
# The office's accounts with direct messages (with rules: the hear-from-you's second channel)
DIRECT_NETWORKS = ("mastodon",)

# The people of the lost-alumni drive (with rules only); see the module docstring for why.
TIP_CHANCE = 0.02  # a listed lost alum is named, with an email address, by a classmate in a month
TIP_WORKS = 0.6  # the tipped address is theirs and works (else the consent question bounces)
ANSWERS = 0.5  # a found alum whose consent question arrived answers it within the month
SAYS_YES = 0.6  # of those who answer, the share who say yes (the rest say no)
OFFICER_CHECKS = 8  # tips an officer verifies a month (two a week), least-reached classes first
TIP_DOMAIN, DEAD_TIP_DOMAIN = "tipped.example", "gone.example"  # a tipped address that works / not

SENT_KINDS = ("hear_from_you", "still_yours", "digest", "consent", "event", "news")
# not the ambassadors' digest
BUDGETED = ("hear_from_you", "still_yours", "consent", "event", "news")
DRIVE_COUNTS = ("tips", "verified", "answered")
EVENT_COUNTS = ("invited", "unfunded")  # events whose invitation went / the budget left no room

_A = table_of(Alumnus)
_C = table_of(Campaign)
_CP = table_of(ContactPoint)
_D = table_of(Delivery)
_R = table_of(Response)
_T = table_of(ReachTip)


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


def month_at(start: datetime, month_index: int) -> datetime:
    """The moment the routine runs in month ``month_index`` (0-11) of the simulated year."""
    return start + timedelta(days=30 * month_index + 1)


def reunion_year(start: datetime) -> int:
    """The calendar year whose reunions (second Saturday of June, ``reunion_proposals``) are
    the first ones invited to on or after ``start``."""
    for year in (start.year, start.year + 1):
        held = reunion_proposals(year, [year - MILESTONES[0]], {})[0].starts_at
        if held - INVITE_LEAD >= start:
            return year
    return start.year + 1


def plan_events(url: str, years: list[int], start: datetime) -> dict[int, list[tuple[int, int]]]:
    """The office's events of the year, made with the shipped functions at ``start``: this
    year's reunions (``plan_reunions``, accepted as proposed: the second Saturday of June) for
    the classes at a milestone, and for every class ``EVENTS_A_CLASS`` events in all (the other
    classes in class order, one month after the other, a class's further events spread evenly
    over the year), each ``INVITE_LEAD`` after the month its invitation goes out in. Returns
    month index (0-11) -> the (event id, class year) whose invitation goes out that month."""
    engine = engine_for(url)
    due: dict[int, list[tuple[int, int]]] = {}

    def add(month: int, class_year: int, event_id: int) -> None:
        due.setdefault(min(11, max(0, month)), []).append((event_id, class_year))

    reunions = plan_reunions(engine, reunion_year(start), now=start)
    held: Counter[int] = Counter()
    for event_id, proposal in reunions:
        accept_event(engine, event_id, now=start)
        add((proposal.starts_at - INVITE_LEAD - start).days // 30, proposal.class_year, event_id)
        held[proposal.class_year] += 1
    for index, year in enumerate(sorted(years)):
        for n in range(held[year], EVENTS_A_CLASS):
            month = (index + n * 12 // EVENTS_A_CLASS) % 12
            event_id = create_event(
                engine,
                class_year=year,
                title=f"Class of {year}: the year's gathering",
                starts_at=month_at(start, month) + INVITE_LEAD,
                tz="UTC",
                now=start,
            )
            add(month, year, event_id)
    return due


def deliver(url: str, campaign_id: int, at: datetime, rng: Random) -> int:
    """The simulated transport: every pending row sent at ``at``; some bounce hard (always when
    the address is a tipped one that does not work)."""
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
            dead = address.endswith(f"@{DEAD_TIP_DOMAIN}")
            if rng.random() >= DELIVERED or dead:
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


@dataclass(frozen=True)
class People:
    """What the simulated people of the lost-alumni drive do (the constants above)."""

    tip_chance: float = TIP_CHANCE
    tip_works: float = TIP_WORKS
    answers: float = ANSWERS
    says_yes: float = SAYS_YES
    officer_checks: int = OFFICER_CHECKS


def _arrived(url: str, campaign_id: int) -> list[int]:
    """The alumni a campaign's message reached (sent, not bounced)."""
    bounced = sa.exists().where(_R.c.delivery_id == _D.c.id, _R.c.kind == "bounce_hard")
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(_D.c.alumnus_id).where(
                    _D.c.campaign_id == campaign_id, _D.c.status == DeliveryStatus.sent, ~bounced
                )
            ).scalars()
        )


def still_yours_month(
    url: str, at: datetime, options: PlanOptions, rng: Random, *, limit: int
) -> int:
    """The monthly still-yours run (``alumni.reach.still_yours``, the shipped rules) asking at
    most ``limit`` alumni (the office's ALUMNI_STILL_YOURS_PER_RUN, set to what is left of the
    month's budget); returns the messages sent. Whether the asked confirm is not simulated."""
    if limit <= 0:
        return 0
    engine = engine_for(url)
    settings = get_settings()
    rules = FreshnessRules.from_settings(settings)
    with engine.connect() as connection:
        chosen = choose_run(
            connection,
            now=at,
            rules=rules,
            every_months=settings.still_yours_every_months,
            limit=min(limit, settings.still_yours_per_run),
        )
    sent = 0
    for year, alumni in chosen.items():
        asked = ask_class(
            engine,
            year,
            now=at,
            rules=rules,
            every_months=settings.still_yours_every_months,
            options=options,
            among=alumni,
        )
        if asked is not None:
            sent += deliver(url, asked.campaign_id, at, rng)
    return sent


def drive_month(
    url: str,
    at: datetime,
    options: PlanOptions,
    people: People,
    rng: Random,
    folks: Random,
    *,
    budget_left: int,
) -> dict[str, int]:
    """One month of the lost-alumni drive, with the shipped functions: each class's ambassador
    digest (``plan_ambassador_digest``) is sent; an ambassador it reached names a lost classmate
    it listed with ``people.tip_chance`` (``submit_tip``, as the tip form does); the officer
    verifies up to ``people.officer_checks`` pending tips (no more than ``budget_left``: each
    sends a message), least-reached classes first (``pending_tips_by_reach``, ``verify_tip``),
    which sends each found alum the consent
    question; who got it answers (``answer_consent``) with ``people.answers``, yes with
    ``people.says_yes``. ``rng`` is the transport's, ``folks`` the people's. Returns the
    messages sent (``digest``, ``consent``) and the tips given, verified and answered."""
    engine = engine_for(url)
    done = {"digest": 0, "consent": 0, "tips": 0, "verified": 0, "answered": 0}
    month = digest_month(None, now=at)
    with engine.connect() as connection:
        years = digest_class_years(connection)
    for year in years:
        campaign_id = plan_ambassador_digest(engine, year, month=month, now=at, options=options)
        if campaign_id is None:
            continue
        done["digest"] += deliver(url, campaign_id, at, rng)
        readers = sorted(set(_arrived(url, campaign_id)))
        if not readers or not people.tip_chance:
            continue
        with engine.connect() as connection:
            listed = lost_classmates(connection, year)
        for lost in listed:
            if folks.random() >= people.tip_chance:
                continue
            works = folks.random() < people.tip_works
            domain = TIP_DOMAIN if works else DEAD_TIP_DOMAIN
            try:
                with write_transaction(engine) as connection:
                    submit_tip(
                        connection,
                        tipster_id=folks.choice(readers),
                        lost_alumnus_id=lost.alumnus_id,
                        kind="email",
                        value=f"found{lost.alumnus_id}@{domain}",
                        how_known="We are still in touch.",
                        now=at,
                    )
            except TipAlreadyGiven:
                continue  # this reader named them before; the office has it already
            done["tips"] += 1
    with engine.connect() as connection:
        queue = pending_tips_by_reach(connection, now=at)
    queue = queue[: max(0, min(people.officer_checks, budget_left))]
    for tip in queue:
        with write_transaction(engine) as connection:
            verified = verify_tip(connection, tip.id, officer="bench", now=at, options=options)
        done["verified"] += 1
        if verified.campaign_id is None:
            continue
        done["consent"] += deliver(url, verified.campaign_id, at, rng)
        for alumnus_id in _arrived(url, verified.campaign_id):
            if folks.random() < people.answers:
                with write_transaction(engine) as connection:
                    answer_consent(
                        connection, alumnus_id, yes=folks.random() < people.says_yes, now=at
                    )
                done["answered"] += 1
    return done


def invite_month(
    url: str,
    invites: list[tuple[int, int]],
    at: datetime,
    options: PlanOptions,
    rng: Random,
    *,
    sizes: dict[int, int],
    left: int,
) -> dict[str, int]:
    """Send the month's event invitations through the shipped planner (``plan_mailing``, key
    ``invite``, purpose events), each capped at ``EVENT_SHARE`` of its class's contactable
    alumni (``sizes``) and at its even part of ``left``, the month's budget (the first ones
    take what does not divide), in ``options.order``. Returns the messages sent (``event``),
    the events invited to and those the budget left no room for (``unfunded``)."""
    done = {"event": 0, "invited": 0, "unfunded": 0}
    part, rest = divmod(left, len(invites))
    for index, (event_id, year) in enumerate(invites):
        cap = min(math.ceil(EVENT_SHARE * sizes.get(year, 0)), part + (index < rest))
        if cap < 1:
            done["unfunded"] += 1
            continue
        planned = plan_mailing(
            engine_for(url), event_id, "invite", now=at, options=options, max_recipients=cap
        )
        done["event"] += deliver(url, planned.campaign_id, at, rng)
        done["invited"] += 1
    return done


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


def simulate(
    url: str, *, rules: bool, budget: int, start: datetime, seed: int, people: People
) -> dict[str, int]:
    """A year of the routine; returns the messages sent by kind and what the drive did."""
    engine = engine_for(url)
    rng = Random(seed)
    folks = Random(f"people {seed}")  # the people's draws never shift the transport's
    order: Callable[..., Any] | None = reach_order if rules else None
    options = replace(PlanOptions(message_id_domain="school.example"), order=order)
    today = (start + timedelta(days=365)).date()
    with engine.connect() as connection:
        years = class_years_to_ask(connection)
        sizes: dict[int, int] = dict(
            connection.execute(
                sa.select(_A.c.class_year, sa.func.count())
                .where(_A.c.status.in_(CONTACTABLE))
                .group_by(_A.c.class_year)
            ).all()
        )
    events = plan_events(url, years, start)
    tally = dict.fromkeys(SENT_KINDS + DRIVE_COUNTS + EVENT_COUNTS, 0)

    def spent() -> int:
        return sum(tally[kind] for kind in BUDGETED)

    month_ends = 0  # spent() at which the month's part of the budget is used up

    def allowance() -> int:  # what is left of the month's part of the budget
        return max(0, month_ends - spent())

    for month in range(12):
        at = month_at(start, month)
        if rules:
            for year in years:
                campaign_id = plan_hear_from_you(engine, year, now=at, options=options)
                if campaign_id is not None:
                    tally["hear_from_you"] += deliver(url, campaign_id, at, rng)
                for direct_id in plan_direct(
                    engine, year, now=at, options=options, networks=DIRECT_NETWORKS
                ):
                    tally["hear_from_you"] += deliver(url, direct_id, at, rng)
        # the month's part: what is left of the year's budget spread over the months left,
        # shared in turn by what follows (the hear-from-you, uncapped, has had its part)
        month_ends = spent() + max(0, budget - spent()) // (12 - month)
        # the office's calendar: an invitation is dated, so it goes before what can wait
        invites = events.get(month, [])
        if invites:
            sent = invite_month(url, invites, at, options, rng, sizes=sizes, left=allowance())
            for key, count in sent.items():
                tally[key] += count
        if rules:
            drive = drive_month(url, at, options, people, rng, folks, budget_left=allowance())
            for key, count in drive.items():
                tally[key] += count
            tally["still_yours"] += still_yours_month(url, at, options, rng, limit=allowance())
        left = allowance()
        chosen = routine_classes(years, month, today)
        if not chosen or not left:
            continue
        cap = max(1, left // len(chosen))
        for year in chosen:
            if spent() + cap > budget:
                break
            campaign_id = news_campaign(url, year, cap, at)
            plan(engine, campaign_id, now=at, options=options)
            tally["news"] += deliver(url, campaign_id, at, rng)
    return tally


def shares(
    url: str, now: datetime, min_group: int
) -> tuple[dict[str, float], dict[str, str], dict[str, sa.ColumnElement[bool]]]:
    """The four shares, which group is the least reached of each kind, and who is in it."""
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
    members = {
        "least_country": _A.c.country.is_(None)
        if country.group == "unknown"
        else _A.c.country == country.group,
        "least_class": _A.c.class_year == int(year.group),
        "least_programme": sa.func.coalesce(_A.c.programme, "") == ""
        if programme[0] == "none"
        else _A.c.programme == programme[0],
    }
    return figures, names, members


# Why a contactable alum was not reached, the first that holds: status lost (no channel the
# office trusts); a message arrived nowhere (bounced); no working channel at all (the drive's
# list), or only a social handle (no mail can go); left out by a campaign's cap or the
# contact budget (the routine could have reached them); refused what was sent (consent, an
# unsubscribe, their preferences); or no mailing of the year was for them at all.
WHY = ("lost", "bounced", "no channel", "social only", "budget", "consent", "not written to")
_BUDGET_SKIPS = ("over_cap", "over_budget")


def why_unreached(url: str, now: datetime, members: sa.ColumnElement[bool]) -> Counter[str]:
    """The contactable alumni of a group (``members``) not reached within ``WINDOW`` of
    ``now``, counted by why (``WHY``), from their status, addresses and ledger rows."""
    since = now - WINDOW
    with engine_for(url).connect() as connection:
        group = dict(
            connection.execute(
                sa.select(_A.c.id, _A.c.status).where(_A.c.status.in_(CONTACTABLE), members)
            ).all()
        )
        unreached = set(group) - set(reached_since(connection, since, among=list(group)))
        rows: dict[int, set[str]] = {alumnus_id: set() for alumnus_id in unreached}
        bounced = sa.exists().where(_R.c.delivery_id == _D.c.id, _R.c.kind == "bounce_hard")
        for alumnus_id, skip, was_bounced in connection.execute(
            sa.select(_D.c.alumnus_id, _D.c.skip_reason, bounced)
            .join(_C, _C.c.id == _D.c.campaign_id)
            .where(_D.c.alumnus_id.in_(sorted(unreached)), _C.c.created_at >= since)
        ):
            rows[alumnus_id].add("bounced" if was_bounced else skip or "pending")
        channels = working_channels(connection)
    why: Counter[str] = Counter()
    for alumnus_id, seen in rows.items():
        # a bouncing address still "works" for coverage; the planner skips it as no_email
        works = channels.get(alumnus_id, frozenset()) - ({"email"} if "no_email" in seen else set())
        if group[alumnus_id] == "lost" or "lost" in seen:
            why["lost"] += 1
        elif "bounced" in seen:
            why["bounced"] += 1
        elif not works:
            why["no channel"] += 1
        elif "email" not in works:
            why["social only"] += 1
        elif seen & set(_BUDGET_SKIPS):
            why["budget"] += 1
        elif seen - {"pending"}:
            why["consent"] += 1
        else:
            why["not written to"] += 1
    return why


def digest_only(url: str, now: datetime) -> int:
    """Alumni counted reached whose only message that arrived in the window was an ambassador
    digest and who gave no tip in it: what the digests, outside the budget, add by themselves."""
    since = now - WINDOW
    bounced = sa.exists().where(_R.c.delivery_id == _D.c.id, _R.c.kind == "bounce_hard")
    arrived = sa.select(_D.c.alumnus_id, _C.c.template).join(_C, _C.c.id == _D.c.campaign_id)
    arrived = arrived.where(_D.c.status == DeliveryStatus.sent, _D.c.sent_at >= since, ~bounced)
    with engine_for(url).connect() as connection:
        reached = reached_since(connection, since)
        by_digest: set[int] = set()
        by_other: set[int] = set()
        for alumnus_id, template in connection.execute(arrived):
            (by_digest if template == AMBASSADOR_DIGEST_TEMPLATE else by_other).add(alumnus_id)
        tipsters = set(
            connection.execute(sa.select(_T.c.tipster_id).where(_T.c.created_at >= since)).scalars()
        )
    return len((by_digest & set(reached)) - by_other - tipsters)


def ceiling(url: str, min_group: int, purposes: tuple[str, ...]) -> tuple[float, float, str]:
    """Of contactable alumni, the share any email of ``purposes`` could reach at the start:
    active, a current address with status ok, not every one of ``purposes`` refused; overall
    and for the class where it is lowest."""
    co = table_of(Consent)
    email_ok = sa.exists().where(
        _CP.c.alumnus_id == _A.c.id,
        _CP.c.kind == "email",
        _CP.c.status == "ok",
        _CP.c.superseded_at.is_(None),
    )
    refused = [
        sa.exists().where(
            co.c.alumnus_id == _A.c.id, co.c.purpose == purpose, co.c.granted.is_(False)
        )
        for purpose in purposes
    ]
    plannable = sa.and_(_A.c.status == "active", email_ok, ~sa.and_(*refused))
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


RUNS = (
    ("with_rules", True, True),
    ("rules_no_drive", True, False),  # the rules with nobody tipping: what the ordering alone does
    ("without_rules", False, False),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alumni", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=int, default=0, help="messages a year; 0: one per alum")
    parser.add_argument("--min-group", type=int, default=20)
    parser.add_argument("--tip-chance", type=float, default=TIP_CHANCE)
    parser.add_argument("--tip-works", type=float, default=TIP_WORKS)
    parser.add_argument("--answers", type=float, default=ANSWERS)
    parser.add_argument("--says-yes", type=float, default=SAYS_YES)
    parser.add_argument("--officer-checks", type=int, default=OFFICER_CHECKS)
    args = parser.parse_args()
    budget = args.budget or args.alumni
    people = People(
        tip_chance=args.tip_chance,
        tip_works=args.tip_works,
        answers=args.answers,
        says_yes=args.says_yes,
        officer_checks=args.officer_checks,
    )
    end = utcnow()
    start = end - timedelta(days=365)
    results: dict[str, dict[str, float]] = {}
    least: dict[str, dict[str, str]] = {}
    floor: dict[str, tuple[str, Counter[str]]] = {}
    tally: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reach-") as folder:
        os.environ["ALUMNI_SECRET_KEY_FILE"] = str(Path(folder) / "secret")
        for name, rules, drive in RUNS:
            url = f"sqlite:///{Path(folder) / name}.db"
            began = time.perf_counter()
            populate(url, args.alumni, args.seed, start.date())
            if name == "with_rules":
                reachable = {
                    kinds: ceiling(url, args.min_group, kinds)
                    for kinds in (("news",), ("news", "events"))
                }
            behaviour = people if drive else replace(people, tip_chance=0.0)
            tally[name] = simulate(
                url, rules=rules, budget=budget, start=start, seed=args.seed, people=behaviour
            )
            results[name], least[name], members = shares(url, end, args.min_group)
            lowest = min(members, key=lambda key: results[name][key])
            floor[name] = (lowest, why_unreached(url, end, members[lowest]))
            tally[name]["digest_only"] = digest_only(url, end)
            engine_for(url).dispose()
            print(f"{name}: simulated in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    print(f"{args.alumni} alumni, seed {args.seed}, budget {budget} messages a year")
    print(f"people of the drive: tip chance {people.tip_chance:.0%} a month per listed lost alum")
    print(f"people of the drive: a tipped address works {people.tip_works:.0%}")
    print(f"people of the drive: a found alum answers {people.answers:.0%} within the month")
    print(f"people of the drive: of those who answer, {people.says_yes:.0%} say yes")
    print(f"people of the drive: the officer verifies {people.officer_checks} tips a month")
    print(f"hear-from-you by direct message on: {', '.join(DIRECT_NETWORKS) or 'none'}")
    print(
        f"events: {EVENTS_A_CLASS} a class a year (reunions at the milestones in June), "
        f"invited {INVITE_LEAD.days // 7} weeks ahead, each invitation to at most "
        f"{EVENT_SHARE:.0%} of the class and its part of the month's budget"
    )
    for name, _, _ in RUNS:
        sent = ", ".join(f"{kind.replace('_', ' ')} {tally[name][kind]}" for kind in SENT_KINDS)
        total = sum(tally[name][kind] for kind in BUDGETED)
        print(f"sent {name.replace('_', ' ')}: {total} in the budget ({sent})")
    print(
        "events invited / left unfunded by the budget: "
        + ", ".join(
            f"{name.replace('_', ' ')} {tally[name]['invited']}/{tally[name]['unfunded']}"
            for name, _, _ in RUNS
        )
    )
    t = tally["with_rules"]
    print(
        f"the drive with rules: {t['tips']} tips, {t['verified']} verified, "
        f"{t['answered']} answered"
    )
    print(
        "reached only by an ambassador digest (outside the budget): "
        + ", ".join(f"{name.replace('_', ' ')} {tally[name]['digest_only']}" for name, _, _ in RUNS)
    )
    heads = "".join(f"{name.replace('_', ' '):>15}" for name, _, _ in RUNS)
    print(f"{'share reached in 12 months':<28}{heads}")
    for key in ("overall", "least_country", "least_class", "least_programme"):
        cells = "".join(f"{results[name][key]:>15.1%}" for name, _, _ in RUNS)
        print(f"{key.replace('_', ' '):<28}{cells}")
    for key in ("least_country", "least_class", "least_programme"):
        groups = ", ".join(f"{name.replace('_', ' ')} {least[name][key]}" for name, _, _ in RUNS)
        print(f"  {key.replace('_', ' ')} (alumni): {groups}")
    print(f"groups of fewer than {args.min_group} alumni are left out of the least shares")
    for kinds, (everyone, lowest_class, year) in reachable.items():
        print(
            f"ceiling of sending {' or '.join(kinds)} (active, a working address, not refused): "
            f"overall {everyone:.1%}, lowest class {year} {lowest_class:.1%}"
        )
    for name, _, _ in RUNS:
        key, why = floor[name]
        reasons = ", ".join(f"{why[w]} {w}" for w in WHY if why[w]) or "none"
        print(
            f"least group {name.replace('_', ' ')}: {key.removeprefix('least_')} "
            f"{least[name][key]} at {results[name][key]:.1%}; "
            f"{sum(why.values())} unreached: {reasons}"
        )
    for name, _, _ in RUNS:
        r = results[name]
        least_share = min(r["least_country"], r["least_class"], r["least_programme"])
        ratio = least_share / r["overall"] if r["overall"] else 0.0
        print(f"{name.replace('_', ' ')}: least group / average = {ratio:.2f} (bar: 0.80)")
    print(json.dumps({name: results[name] for name in ("with_rules", "without_rules")}))


if __name__ == "__main__":
    main()
