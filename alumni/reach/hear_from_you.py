"""Hear from you: one gentle "we would like to hear from you" message to each alum nobody has
reached in twelve months, through the ledger, within their consent, on a channel that works.

Per class year and calendar year there is one email campaign (``series_key``
``hear-from-you:<class>:<year>``, unique in the database, so two runs at once make one) with
a named audience: the class's contactable alumni not reached within ``WINDOW``
(``alumni.reach.coverage.reached_since``). The ledger's one row per (campaign, alum, channel)
makes it once: a rerun that year plans only alumni newly unreached, and ``audience.decide``
applies every rule of any news campaign (consent for news, unsubscribes, preferences, the
contact budget).

An alum that campaign skipped as ``no_email`` (no current email that works: it bounces, it is
invalid, or there is none) and who has a working handle on a network with direct messages
(``alumni.social.direct.direct_networks``: Mastodon; Bluesky has none) gets the message there
instead: ``plan_direct`` makes one direct-message campaign per class, year and network
(``hear-from-you:<class>:<year>:<network>``), planned by the same planner with that channel's
consent (``any``, ``social`` or the network) and sent by ``alumni.social.direct``. Nobody gets
both, nor a message on two networks. Whoever has neither stays ``no_email`` and is counted in
the coverage report, where the lost-alumni drive picks them up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery.audience import SkipReason
from alumni.delivery.planning import PlanOptions, plan
from alumni.delivery.report import campaign_report
from alumni.models import Alumnus, Campaign, CampaignStatus, Delivery, Purpose, table_of
from alumni.reach.channels import CONTACTABLE, working_channels
from alumni.reach.coverage import WINDOW, reached_since

__all__ = [
    "TEMPLATE",
    "ChannelCounts",
    "class_years_to_ask",
    "counts_by_channel",
    "direct_series_key",
    "plan_direct",
    "plan_hear_from_you",
    "series_key",
    "unreached",
]

TEMPLATE = "hear_from_you"

_A = table_of(Alumnus)
_C = table_of(Campaign)
_D = table_of(Delivery)


def series_key(class_year: int, *, now: datetime) -> str:
    """The key of the class's hear-from-you campaign for ``now``'s calendar year (UTC)."""
    return f"hear-from-you:{class_year}:{now.year}"


def direct_series_key(class_year: int, network: str, *, now: datetime) -> str:
    """The key of the class's hear-from-you direct messages on ``network`` for ``now``'s year."""
    return f"{series_key(class_year, now=now)}:{network}"


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


def plan_direct(
    engine: Engine,
    class_year: int,
    *,
    now: datetime,
    options: PlanOptions,
    networks: Sequence[str],
) -> list[int]:
    """Make (once a year) and plan the class's hear-from-you direct messages on each of
    ``networks`` (those with direct messages, in the office's order); return the ids of the
    campaigns that planned someone new.

    The audience on a network: alumni still unreached whom this year's email campaign skipped
    as ``no_email``, with a working handle there, and no message planned on an earlier network.
    Run it after ``plan_hear_from_you``; safe to run again, also two at once.

    Raises:
        RuntimeError: a campaign was stopped (its preflight failed; see its note).
        WrongHashKey: the suppression list was made with another secret key.
    """
    with engine.connect() as connection:
        email_campaign = _find(connection, series_key(class_year, now=now))
        if email_campaign is None or not networks:
            return []
        no_email = set(
            connection.execute(
                sa.select(_D.c.alumnus_id).where(
                    _D.c.campaign_id == email_campaign,
                    _D.c.skip_reason == SkipReason.no_email.value,
                )
            ).scalars()
        )
        candidates = no_email & set(unreached(connection, class_year, now=now))
        if not candidates:
            return []
        channels = working_channels(connection, class_year=class_year)
        given: dict[int, str] = {}  # alum -> the network this year's message is planned on
        for network in networks:
            found = _find(connection, direct_series_key(class_year, network, now=now))
            if found is not None:
                for alumnus_id in connection.execute(
                    sa.select(_D.c.alumnus_id).where(_D.c.campaign_id == found)
                ).scalars():
                    given.setdefault(alumnus_id, network)
    planned: list[int] = []
    for network in networks:
        audience = sorted(
            alumnus_id
            for alumnus_id in candidates
            if network in channels.get(alumnus_id, frozenset())
            and given.setdefault(alumnus_id, network) == network
        )
        if not audience:
            continue
        key = direct_series_key(class_year, network, now=now)
        with write_transaction(engine) as connection:
            campaign_id = _find(connection, key) or _make(
                connection, class_year, key, now=now, channel=network
            )
        if plan(engine, campaign_id, now=now, options=options, only=audience).added:
            planned.append(campaign_id)
    return planned


def _find(connection: Connection, key: str) -> int | None:
    found = connection.execute(sa.select(_C.c.id).where(_C.c.series_key == key)).scalar()
    return None if found is None else int(found)


def _make(
    connection: Connection, class_year: int, key: str, *, now: datetime, channel: str = "email"
) -> int:
    """Insert the campaign, or find the one a concurrent run just made (the unique key)."""
    by = "" if channel == "email" else f" ({channel} direct messages)"
    try:
        with connection.begin_nested():
            made: int = connection.execute(
                sa.insert(_C)
                .values(
                    name=f"We would like to hear from you: class of {class_year}, {now.year}{by}",
                    class_year=class_year,
                    channel=channel,
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


@dataclass
class ChannelCounts:
    """One class's hear-from-you messages of a year on one channel (email, mastodon, ...).

    ``outcomes``: alumni by outcome, as a campaign report names them (``sent``, ``pending``,
    ``failed``, ``skipped:<reason>``).
    """

    class_year: int
    channel: str
    campaign_id: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.outcomes.get("sent", 0)

    def as_dict(self) -> dict[str, object]:
        return {
            "class_year": self.class_year,
            "channel": self.channel,
            "campaign_id": self.campaign_id,
            "outcomes": dict(sorted(self.outcomes.items())),
        }


def counts_by_channel(
    connection: Connection, *, year: int, class_year: int | None = None
) -> list[ChannelCounts]:
    """This ``year``'s hear-from-you messages per class and channel (email first, then each
    network), each with its alumni by outcome (``alumni.delivery.report.campaign_report``)."""
    prefix = "hear-from-you:" if class_year is None else f"hear-from-you:{class_year}:"
    found = [
        ChannelCounts(
            row.class_year, row.channel, row.id, campaign_report(connection, row.id).outcomes
        )
        for row in connection.execute(
            sa.select(_C.c.id, _C.c.class_year, _C.c.channel, _C.c.series_key).where(
                _C.c.series_key.like(f"{prefix}%")
            )
        )
        if row.series_key.split(":")[2] == str(year)
    ]
    return sorted(found, key=lambda c: (c.class_year, c.channel != "email", c.channel))
