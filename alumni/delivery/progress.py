"""Where a campaign's rows stand, and what a run does next: the one rule every flow on the
ledger shares.

``read_progress`` counts a campaign's unfinished rows by what a run can do with them now (due,
held by another live run, due later); ``next_step`` decides, purely, whether a run sends, waits
(for a later group, or for rows another run holds until that run records them or its lease
lapses) or stops; ``finish`` marks the campaign done when nothing is pending or claimed; and
``due_campaigns`` lists the campaigns a scheduled run has something to send for.

Stopped is stopped: ``refuse_stopped`` is the one check every flow makes before it plans or
sends a batch of a campaign, and ``start_sending`` moves a campaign to sending unless it was
stopped meanwhile; ``due_campaigns`` never lists a stopped one. Only
``alumni.delivery.campaigns.resume`` takes a campaign out of stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alumni.db import write_transaction
from alumni.delivery.ledger import Channel, due_conditions, load_campaign, takeover_cutoff
from alumni.models import Campaign, CampaignStatus, DeliveryStatus, UTCDateTime, table_of

_C = table_of(Campaign)


class CampaignStopped(RuntimeError):
    """A flow was asked to plan or send a stopped campaign; nothing was sent.

    Attributes:
        campaign_id: the campaign.
        note: why it was stopped (the grouped preflight report, or an officer's reason).
    """

    def __init__(self, campaign_id: int, note: str | None) -> None:
        self.campaign_id = campaign_id
        self.note = note
        why = (note or "no reason was noted").splitlines()[0].removesuffix(":")
        super().__init__(
            f"campaign {campaign_id} is stopped ({why}); nothing was sent: fix that, then "
            f"`alumni campaign resume {campaign_id}`"
        )


def refuse_stopped(connection: Connection, campaign_id: int) -> None:
    """Raise ``CampaignStopped`` if the campaign is stopped (LookupError if there is none)."""
    campaign = load_campaign(connection, campaign_id)
    if campaign.status == CampaignStatus.stopped:
        raise CampaignStopped(campaign_id, campaign.note)


def start_sending(engine: Engine, campaign_id: int) -> None:
    """Move a campaign whose preflight passed to sending (clearing an earlier run's note).

    Raises:
        CampaignStopped: it was stopped meanwhile (another run's preflight, an officer); it
            stays stopped.
    """
    with write_transaction(engine) as connection:
        campaign = load_campaign(connection, campaign_id, lock=True)
        if campaign.status == CampaignStatus.stopped:
            raise CampaignStopped(campaign_id, campaign.note)
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id)
            .values(status=CampaignStatus.sending, note=None)
        )


@dataclass(frozen=True)
class Progress:
    """Where a campaign's rows stand at one instant.

    Attributes:
        due: rows a claim would take now (pending and due, or held under a lapsed lease).
        held: rows a live worker holds (its lease renewed within the lease).
        held_until: when the soonest of those lapses unless its worker renews it.
        later: pending rows due after now.
        next_due: when the first of those falls due.
    """

    due: int
    held: int
    held_until: datetime | None
    later: int
    next_due: datetime | None

    @property
    def done(self) -> bool:
        """The one rule of every flow: a campaign is done when no row is pending or claimed."""
        return not (self.due or self.held or self.later)


def read_progress(
    connection: Connection,
    channel: Channel,
    campaign_id: int,
    *,
    now: datetime,
    lease: timedelta,
) -> Progress:
    """Count the campaign's unfinished rows by what a run can do with them at ``now``."""
    t = channel.table
    cutoff = takeover_cutoff(now=now, lease=lease)
    due_now, later, next_due = connection.execute(
        sa.select(
            sa.func.count().filter(t.c.due_at <= now),
            sa.func.count().filter(t.c.due_at > now),
            sa.func.min(t.c.due_at, type_=UTCDateTime()).filter(t.c.due_at > now),
        ).where(t.c.campaign_id == campaign_id, t.c.status == DeliveryStatus.pending)
    ).one()
    lapsed, held, soonest = connection.execute(
        sa.select(
            sa.func.count().filter(t.c.claimed_at < cutoff),
            sa.func.count().filter(t.c.claimed_at >= cutoff),
            sa.func.min(t.c.claimed_at, type_=UTCDateTime()).filter(t.c.claimed_at >= cutoff),
        ).where(t.c.campaign_id == campaign_id, t.c.status == DeliveryStatus.claimed)
    ).one()
    return Progress(
        due=int(due_now) + int(lapsed),
        held=int(held),
        held_until=soonest + lease if soonest is not None else None,
        later=int(later),
        next_due=next_due,
    )


@dataclass(frozen=True)
class Step:
    """What a run does next: ``send`` now, ``wait`` until ``until``, or ``stop``; ``why`` is the
    line to log."""

    action: Literal["send", "wait", "stop"]
    until: datetime | None = None
    why: str = ""


# While another run holds rows, look again this often: it may record them before they lapse.
HELD_POLL = timedelta(seconds=2)


def next_step(
    state: Progress,
    *,
    now: datetime,
    wait: bool,
    window_ends_at: datetime | None = None,
    poll: timedelta = HELD_POLL,
) -> Step:
    """Decide what a run does after a claim found nothing (pure).

    Rows held by another run are waited for whatever ``wait`` says: they were due, and either
    that run records them or their lease lapses and this run takes them over. ``wait`` is
    about rows due later (each alum's local send time, a retry's back-off); none is waited for
    past ``window_ends_at``.
    """
    if state.due:
        return Step("send")
    if state.held:
        assert state.held_until is not None
        return Step(
            "wait",
            min(state.held_until, now + poll),
            f"{state.held} rows held by another run; waiting for its lease (it lapses at "
            f"{state.held_until:%H:%M:%S} UTC unless that run renews it)",
        )
    if state.next_due is None:
        return Step("stop", why="nothing left to send")
    if window_ends_at is not None and state.next_due > window_ends_at:
        return Step(
            "stop",
            why=f"the next row is due at {state.next_due:%Y-%m-%d %H:%M} UTC, after the window "
            f"closes at {window_ends_at:%Y-%m-%d %H:%M} UTC: stopping",
        )
    if not wait:
        return Step(
            "stop",
            why=f"{state.later} rows are due from {state.next_due:%Y-%m-%d %H:%M} UTC; a later "
            "run sends them",
        )
    return Step(
        "wait",
        state.next_due,
        f"the next group ({state.later} rows) is due at {state.next_due:%Y-%m-%d %H:%M:%S} UTC",
    )


def finish(
    engine: Engine, channel: Channel, campaign_id: int, *, now: datetime, lease: timedelta
) -> str:
    """At the end of a run that stopped by itself: mark the campaign done if nothing is left
    (``Progress.done``), else sending, and clear the note of an earlier run that stopped short.
    A stopped campaign stays stopped. Returns the campaign's status."""
    with write_transaction(engine) as connection:
        campaign = load_campaign(connection, campaign_id, lock=True)
        if campaign.status in (CampaignStatus.stopped, CampaignStatus.draft):
            return str(campaign.status)
        done = read_progress(connection, channel, campaign_id, now=now, lease=lease).done
        status = CampaignStatus.done if done else CampaignStatus.sending
        connection.execute(
            sa.update(_C)
            .where(_C.c.id == campaign_id)
            .values(status=status, finished_at=now if done else None, note=None)
        )
    return str(status)


def due_campaigns(
    engine: Engine,
    channel: Channel,
    *,
    kinds: Sequence[str],
    now: datetime,
    lease: timedelta,
) -> list[int]:
    """Planned or sending campaigns of the campaign channels ``kinds`` (email, calendar,
    social) with a row due at ``now``: pending and due, or left under a lapsed lease."""
    t = channel.table
    query = (
        sa.select(t.c.campaign_id)
        .join(_C, _C.c.id == t.c.campaign_id)
        .where(
            _C.c.status.in_((CampaignStatus.planned, CampaignStatus.sending)),
            _C.c.channel.in_(list(kinds)),
            sa.or_(*due_conditions(channel, now=now, lease=lease)),
        )
        .distinct()
        .order_by(t.c.campaign_id)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())
