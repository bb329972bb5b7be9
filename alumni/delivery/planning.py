"""The one planner: the delivery rows of a campaign, an event invite or a follow-up mailing.

``plan`` writes one Delivery row per (campaign, alum, channel) in one transaction: pending with
its due time, or skipped with the reason ``alumni.delivery.audience.decide`` gives, the same
rule for every channel and mailing. A row's address is the alum's current working one on the
campaign's channel: their email, or for a direct message (channel ``mastodon``) their handle
there, with the consent and suppressions of that channel (``audience.address_kind``,
``audience.consent_channels``). Running it again writes nothing new (it only adds alumni
who joined the class since, or who were named since). Rows go in by COPY on PostgreSQL
(``alumni.db.bulk_insert``), whose statistics are refreshed first when a bulk import left
them stale. Each row gets a Message-ID fixed per
(campaign, alum, channel), so a resend after a crash carries the same one. ``plan_on`` does the
same inside a transaction the caller holds (an RSVP read from the mailbox plans its notice in
the transaction that records it). A campaign that was stopped, or an ambassador's draft that
no officer has approved (``CampaignDraft``), is refused: nothing of it is planned.

The audience is the campaign's class (and programme), narrowed by its ``audience_where``
(FIELD -> values of alumni columns; ``alumni.reach.fairness`` checks them when the campaign is
made). A campaign with a cap (``max_recipients``) keeps the first ones of ``PlanOptions.order``
pending and skips the rest as ``over_cap``: the order is data the caller passes in (reach first:
``alumni.reach.priority.reach_order``), since delivery knows nothing of reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import bulk_insert, write_transaction
from alumni.delivery.audience import (
    DIGEST_TEMPLATE,
    Budget,
    Member,
    SkipReason,
    address_kind,
    channel_chosen,
    consent_channels,
    decide,
    pause_runs,
)
from alumni.delivery.ledger import load_campaign
from alumni.delivery.request_kit import notice_of
from alumni.delivery.send_time import due_at, parse_send_at, zone
from alumni.messages.mime import message_id_maker
from alumni.models import (
    Alumnus,
    Campaign,
    CampaignDraft,
    CampaignStatus,
    Consent,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    Frequency,
    Preference,
    Purpose,
    table_of,
)
from alumni.people.suppression import suppressed_scopes
from alumni.settings import Settings

_A = table_of(Alumnus)
_C = table_of(Campaign)
_CP = table_of(ContactPoint)
_CO = table_of(Consent)
_CD = table_of(CampaignDraft)
_D = table_of(Delivery)
_P = table_of(Preference)

# What planning reads, kept analysed on PostgreSQL (``refresh_statistics``).
_READ_TABLES = (_A, _CP, _CO, _D, _P)
# Alumni planned per round of queries and inserts: memory stays flat whatever the class size.
PLAN_CHUNK = 2000


@dataclass(frozen=True)
class PlanOptions:
    """Office-wide rules that shape a plan."""

    office_timezone: str = "UTC"
    budget: Budget = field(default_factory=Budget)
    require_consent: bool = False
    message_id_domain: str = "school.example"
    # keys the Message-IDs (``make_message_id``): never in a repr or a log
    message_id_key: bytes | None = field(default=None, repr=False)
    # Ranks alumni ids as they stand at the plan's ``now``, first to get a message when a
    # campaign's cap limits who does; None: by id.
    order: Callable[[Connection, Sequence[int], datetime], Sequence[int]] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> PlanOptions:
        """The rules of ``ALUMNI_*``: office zone, contact budget, consent, the From's domain."""
        return cls(
            office_timezone=settings.office_timezone,
            budget=Budget(limit=settings.contact_budget, days=settings.contact_budget_days),
            require_consent=settings.require_consent,
            message_id_domain=settings.sender.rsplit("@", 1)[-1].strip("> "),
            message_id_key=settings.signing_key(),
        )


@dataclass(frozen=True)
class PlanSummary:
    campaign_id: int
    added: int
    pending: int
    skipped: int


def plan(
    engine: Engine,
    campaign_id: int,
    *,
    now: datetime,
    options: PlanOptions,
    only: Sequence[int] | None = None,
) -> PlanSummary:
    """Write the campaign's delivery rows (see the module docstring). Safe to run again.

    Args:
        only: plan these alumni of the class only (a follow-up mailing's audience); None: the
            whole class (and programme) of the campaign, or nobody new for a monthly digest or
            a request notice, a still-yours or a consent question (their audience is only ever
            given by their maker: ``alumni.delivery.digest.plan_digest``,
            ``alumni.requests.notices.queue_notice``, ``alumni.reach``).

    Raises:
        RuntimeError: the campaign was stopped, or is an ambassador's draft not yet approved.
    """
    with write_transaction(engine) as connection:
        return plan_on(connection, campaign_id, now=now, options=options, only=only)


def plan_on(
    connection: Connection,
    campaign_id: int,
    *,
    now: datetime,
    options: PlanOptions,
    only: Sequence[int] | None = None,
) -> PlanSummary:
    """``plan`` on a connection inside the caller's write transaction (see ``plan``).

    Raises:
        RuntimeError: the campaign was stopped, or is an ambassador's draft not yet approved.
    """
    campaign = load_campaign(connection, campaign_id, lock=True)
    if campaign.status == CampaignStatus.stopped:
        raise RuntimeError(f"campaign {campaign_id} was stopped: {campaign.note}")
    if _awaiting_approval(connection, campaign_id):
        raise RuntimeError(
            f"campaign {campaign_id} is an ambassador's draft: nothing is sent until an officer "
            f"approves it (`alumni campaign approve {campaign_id}`)"
        )
    if connection.dialect.name == "postgresql":
        refresh_statistics(connection, _READ_TABLES)
    send_at = parse_send_at(campaign.send_at)
    already = set(
        connection.execute(
            sa.select(_D.c.alumnus_id).where(
                _D.c.campaign_id == campaign_id, _D.c.channel == campaign.channel
            )
        ).scalars()
    )
    taken = _taken(connection, campaign) if campaign.max_recipients is not None else 0
    wanted = None if only is None else set(only)
    if wanted is None and _audience_named(connection, campaign):
        wanted = set()  # a digest's or a request notice's audience is named by its maker
    people = [
        p
        for p in _class_members(connection, campaign)
        if p.id not in already and (wanted is None or p.id in wanted)
    ]
    # most of a class shares a few zones: resolve each zone and its due time once
    timing: dict[str | None, tuple[str, datetime]] = {}
    message_id = message_id_maker(options.message_id_domain, key=options.message_id_key)
    added = 0
    fresh: list[int] = []  # alumni planned pending by this call, for the cap
    for start in range(0, len(people), PLAN_CHUNK):
        chunk = people[start : start + PLAN_CHUNK]
        members = _members(connection, chunk, campaign, now=now, window=options.budget.days)
        rows = []
        for person in chunk:
            member = members[person.id]
            reason = decide(
                member,
                purpose=campaign.purpose,
                budget=options.budget,
                require_consent=options.require_consent,
                digest_campaign=campaign.template == DIGEST_TEMPLATE,
            )
            zone_due = timing.get(person.timezone)
            if zone_due is None:
                tz = zone(person.timezone, options.office_timezone)
                due = due_at(now=now, send_at=send_at, tz=tz, not_before=campaign.not_before)
                zone_due = timing[person.timezone] = (tz.key, due)
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "alumnus_id": person.id,
                    "channel": campaign.channel,
                    "address": member.email if reason is None else None,
                    "locale": person.locale,
                    "timezone": zone_due[0],
                    "counts_toward_budget": campaign.purpose != Purpose.service,
                    "status": DeliveryStatus.skipped if reason else DeliveryStatus.pending,
                    "skip_reason": reason.value if reason else None,
                    "due_at": None if reason else zone_due[1],
                    "attempts": 0,
                    "maybe_duplicate": False,
                    "message_id": None
                    if reason
                    else message_id(f"{campaign_id}.{person.id}.{campaign.channel}"),
                }
            )
        bulk_insert(connection, _D, rows)
        added += len(rows)
        fresh += [row["alumnus_id"] for row in rows if row["status"] == DeliveryStatus.pending]
    if campaign.max_recipients is not None:
        slots = campaign.max_recipients - taken
        _cap(connection, campaign, fresh, slots=slots, now=now, options=options)
    if campaign.status == CampaignStatus.draft:
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id)
            .values(status=CampaignStatus.planned, planned_at=now)
        )
    counts: dict[str, int] = dict(
        connection.execute(
            sa.select(_D.c.status, sa.func.count())
            .where(_D.c.campaign_id == campaign_id)
            .group_by(_D.c.status)
        ).all()
    )
    return PlanSummary(
        campaign_id=campaign_id,
        added=added,
        pending=sum(n for s, n in counts.items() if s != DeliveryStatus.skipped),
        skipped=counts.get(DeliveryStatus.skipped, 0),
    )


def _awaiting_approval(connection: Connection, campaign_id: int) -> bool:
    """True for an ambassador's draft no officer has approved (``alumni.reach.drafts``)."""
    return (
        connection.execute(
            sa.select(_CD.c.campaign_id).where(
                _CD.c.campaign_id == campaign_id, _CD.c.approved_at.is_(None)
            )
        ).first()
        is not None
    )


def refresh_statistics(connection: Connection, tables: Sequence[sa.Table]) -> list[str]:
    """PostgreSQL: ANALYZE those of ``tables`` never analysed or changed by a fifth since;
    return their names.

    Right after a bulk import the planner has no statistics and joined a class's contact
    points by a nested loop over the whole table: 1.4 s per chunk of 2,000 instead of 4 ms.
    """
    names = [t.name for t in tables]
    stale = list(
        connection.execute(
            sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names) AND "
                "((last_analyze IS NULL AND last_autoanalyze IS NULL) "
                "OR n_mod_since_analyze > n_live_tup / 5)"
            ),
            {"names": names},
        ).scalars()
    )
    for name in stale:
        connection.exec_driver_sql(f'ANALYZE "{name}"')
    return stale


def _audience_named(connection: Connection, campaign: Any) -> bool:
    """True for a campaign whose maker names its audience (``named_audience``: hear-from-you,
    still-yours, a found alum's consent question, a class's digest to its ambassadors), a
    monthly digest (``alumni.delivery.digest``) or a notice about one alum's request
    (``RequestNotice``)."""
    return (
        campaign.named_audience
        or campaign.template == DIGEST_TEMPLATE
        or notice_of(connection, campaign.id) is not None
    )


def _taken(connection: Connection, campaign: Any) -> int:
    """The campaign's rows that count against its cap: every row not skipped."""
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(
                _D.c.campaign_id == campaign.id,
                _D.c.channel == campaign.channel,
                _D.c.status != DeliveryStatus.skipped,
            )
        ).scalar_one()
    )


def _cap(
    connection: Connection,
    campaign: Any,
    fresh: list[int],
    *,
    slots: int,
    now: datetime,
    options: PlanOptions,
) -> None:
    """Keep the first ``slots`` of ``fresh`` (in ``options.order``) pending; skip the rest as
    ``over_cap``. Rows planned before are never taken back, so a rerun changes nothing."""
    if len(fresh) <= max(slots, 0):
        return
    ranked = list(options.order(connection, fresh, now)) if options.order else sorted(fresh)
    if sorted(ranked) != sorted(fresh):
        raise ValueError("PlanOptions.order must return the alumni ids it was given, reordered")
    dropped = ranked[max(slots, 0) :]
    for start in range(0, len(dropped), PLAN_CHUNK):
        connection.execute(
            sa.update(_D)
            .where(
                _D.c.campaign_id == campaign.id,
                _D.c.channel == campaign.channel,
                _D.c.alumnus_id.in_(dropped[start : start + PLAN_CHUNK]),
            )
            .values(
                status=DeliveryStatus.skipped,
                skip_reason=SkipReason.over_cap.value,
                due_at=None,
                address=None,
                message_id=None,
            )
        )


def _where(query: sa.Select[Any], campaign: Any) -> sa.Select[Any]:
    """Narrow a query joined to alumni to the campaign's audience filter (FIELD -> values)."""
    for name, values in (campaign.audience_where or {}).items():
        if name not in _A.c:
            raise ValueError(
                f"campaign {campaign.id}: its audience filter names {name!r}, "
                "which is no alumni column: create the campaign again with a valid --where"
            )
        query = query.where(_A.c[name].in_(list(values)))
    return query


def _in_class(query: sa.Select[Any], campaign: Any, low: int, high: int) -> sa.Select[Any]:
    """Restrict a query joined to alumni to the campaign's class, alumni ids low to high.

    An id range, not a list of ids: the statement stays the same, so it is compiled once.
    """
    query = query.where(_A.c.class_year == campaign.class_year, _A.c.id.between(low, high))
    if campaign.programme:
        query = query.where(_A.c.programme == campaign.programme)
    return _where(query, campaign)


def _class_members(connection: Connection, campaign: Any) -> list[Any]:
    query = sa.select(_A.c.id, _A.c.status, _A.c.timezone, _A.c.locale).where(
        _A.c.class_year == campaign.class_year
    )
    if campaign.programme:
        query = query.where(_A.c.programme == campaign.programme)
    return list(connection.execute(_where(query, campaign).order_by(_A.c.id)))


def _members(
    connection: Connection, people: list[Any], campaign: Any, *, now: datetime, window: int
) -> dict[int, Member]:
    """Read each person's address on the campaign's channel (email, or the handle of a direct
    message: ``address_kind``), its suppressions, consent for the purpose on that channel,
    recent messages and the choices of their preference page, as they stand at ``now``
    (people by id)."""
    low, high = people[0].id, people[-1].id
    kind = address_kind(campaign.channel)
    emails: dict[int, str] = {}
    for alumnus_id, value in connection.execute(
        _in_class(
            sa.select(_CP.c.alumnus_id, _CP.c.value).join(_A, _A.c.id == _CP.c.alumnus_id),
            campaign,
            low,
            high,
        )
        .where(_CP.c.kind == kind, _CP.c.status == "ok", _CP.c.superseded_at.is_(None))
        .order_by(_CP.c.id)
    ):
        emails[alumnus_id] = value  # the newest current address wins
    consent: dict[int, bool] = {}
    for alumnus_id, granted in connection.execute(
        _in_class(
            sa.select(_CO.c.alumnus_id, _CO.c.granted).join(_A, _A.c.id == _CO.c.alumnus_id),
            campaign,
            low,
            high,
        )
        .where(
            _CO.c.purpose == campaign.purpose,
            _CO.c.channel.in_(consent_channels(campaign.channel)),
        )
        .order_by(_CO.c.at, _CO.c.id)
    ):
        consent[alumnus_id] = granted
    recent: dict[int, int] = dict(
        connection.execute(
            _in_class(
                sa.select(_D.c.alumnus_id, sa.func.count()).join(_A, _A.c.id == _D.c.alumnus_id),
                campaign,
                low,
                high,
            )
            .where(
                _D.c.counts_toward_budget.is_(True),
                sa.or_(
                    sa.and_(
                        _D.c.status == DeliveryStatus.sent,
                        _D.c.sent_at >= now - timedelta(days=window),
                    ),
                    _D.c.status.in_((DeliveryStatus.pending, DeliveryStatus.claimed)),
                ),
            )
            .group_by(_D.c.alumnus_id)
        ).all()
    )
    chosen: dict[int, Any] = {
        row.alumnus_id: row
        for row in connection.execute(
            _in_class(
                sa.select(_P.c.alumnus_id, _P.c.channels, _P.c.frequency, _P.c.paused_until).join(
                    _A, _A.c.id == _P.c.alumnus_id
                ),
                campaign,
                low,
                high,
            )
        )
    }
    wanted = [emails[p.id] for p in people if p.id in emails]
    blocked = suppressed_scopes(connection, [(kind, e) for e in wanted])
    none: frozenset[str] = frozenset()
    return {
        person.id: Member(
            alumnus_id=person.id,
            status=person.status,
            email=(email := emails.get(person.id)),
            suppressed_scopes=frozenset(blocked.get((kind, email), none)) if email else none,
            consent=consent.get(person.id),
            recent_messages=recent.get(person.id, 0),
            **_chosen(chosen.get(person.id), campaign.channel, now=now),
        )
        for person in people
    }


def _chosen(preference: Any, channel: str, *, now: datetime) -> dict[str, Any]:
    """The ``Member`` fields of a preference row at ``now``; none for an alum who never chose."""
    if preference is None:
        return {}
    return {
        "paused": pause_runs(preference.paused_until, now=now),
        "channel_off": not channel_chosen(preference.channels.split(","), channel),
        "frequency": Frequency(preference.frequency),
    }
