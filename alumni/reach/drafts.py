"""Campaigns an ambassador drafts for their class, and an officer's approval of them.

A draft is an email campaign of the ambassador's own class (the class always comes from their
``AmbassadorIdentity``), status ``draft``, with a ``CampaignDraft`` row saying who drafted it.
Until an officer approves it (``approve``: ``alumni campaign approve ID``) the planner refuses
it (``alumni.delivery.planning``), so no flow, rerun or schedule can send it. The ambassador may
withdraw their class's draft before then; a campaign of another class is refused like a draft
that does not exist would be, naming only that it is not theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery.send_time import parse_send_at
from alumni.messages.rendering import TemplateStore
from alumni.models import Alumnus, Campaign, CampaignDraft, CampaignStatus, table_of
from alumni.reach.ambassadors import AmbassadorError, AmbassadorIdentity, check_scope

__all__ = [
    "DRAFTABLE_TEMPLATES",
    "NAME_LIMIT",
    "Draft",
    "approve",
    "draft_campaign",
    "drafts_awaiting_approval",
    "drafts_of_class",
    "withdraw",
]

# The class campaigns an ambassador may draft; digests and notices are the office's own.
DRAFTABLE_TEMPLATES: Final = ("newsletter", "reunion")
NAME_LIMIT: Final = 200  # Campaign.name
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_A = table_of(Alumnus)
_C = table_of(Campaign)
_CD = table_of(CampaignDraft)


@dataclass(frozen=True)
class Draft:
    """A drafted campaign as the class page and officers see it."""

    campaign_id: int
    class_year: int
    name: str
    template: str
    send_at: str | None
    not_before: datetime | None
    drafted_at: datetime
    approved_at: datetime | None
    status: str


def draft_campaign(
    connection: Connection,
    identity: AmbassadorIdentity,
    *,
    name: str,
    template: str,
    send_at: str | None,
    send_on: str | None,
    store: TemplateStore,
    office_timezone: str,
    now: datetime,
) -> int:
    """Store a campaign for the ambassador's class that waits for an officer's approval;
    return its id.

    Args:
        name: the message's title, as officers see it (1 to 200 characters).
        template: one of ``DRAFTABLE_TEMPLATES`` that ``store`` has.
        send_at: ``HH:MM`` on each alum's own clock, or None (as soon as allowed).
        send_on: ``YYYY-MM-DD``, not before that day (in the ambassador's zone, else the
            office's), or None.

    Raises:
        AmbassadorError: naming the field and what to give instead.
    """
    name = name.strip()
    if not name:
        raise AmbassadorError("the title is empty: give the message a title")
    if len(name) > NAME_LIMIT:
        raise AmbassadorError(f"the title has {len(name)} characters, more than {NAME_LIMIT}")
    if template not in DRAFTABLE_TEMPLATES or not store.locales(template):
        raise AmbassadorError(
            f"template {template!r} cannot be drafted: use one of {', '.join(DRAFTABLE_TEMPLATES)}"
        )
    try:
        parse_send_at(send_at)
    except ValueError:
        raise AmbassadorError(f"send time {send_at!r} is not a time like 09:30") from None
    not_before = None
    if send_on:
        try:
            if _DAY.fullmatch(send_on) is None:
                raise ValueError(send_on)
            day = date.fromisoformat(send_on)
        except ValueError:
            raise AmbassadorError(f"send day {send_on!r} is not a day like 2027-05-01") from None
        tz = ZoneInfo(identity.timezone or office_timezone)
        not_before = datetime.combine(day, time(0, 0), tzinfo=tz)
        if day < now.astimezone(tz).date():
            raise AmbassadorError(f"send day {send_on} has passed: choose today or later")
    campaign_id = int(
        connection.execute(
            sa.insert(_C)
            .values(
                name=name,
                class_year=identity.class_year,
                channel="email",
                template=template,
                purpose="news",
                send_at=send_at or None,
                not_before=not_before,
                status=CampaignStatus.draft,
                created_at=now,
            )
            .returning(_C.c.id)
        ).scalar_one()
    )
    connection.execute(
        sa.insert(_CD).values(
            campaign_id=campaign_id, drafted_by=identity.alumnus_id, drafted_at=now
        )
    )
    return campaign_id


def _draft_row(connection: Connection, campaign_id: int) -> sa.Row[tuple[int, int, str]] | None:
    return connection.execute(  # type: ignore[return-value]
        sa.select(_C.c.id, _C.c.class_year, _C.c.status, _CD.c.approved_at)
        .join(_CD, _CD.c.campaign_id == _C.c.id)
        .where(_C.c.id == campaign_id)
    ).first()


def withdraw(connection: Connection, identity: AmbassadorIdentity, campaign_id: int) -> None:
    """Delete a draft of the ambassador's class that no officer has approved yet.

    Raises:
        ScopeError: the campaign belongs to another class (nothing changed).
        AmbassadorError: no such draft, or it was approved already.
    """
    row = _draft_row(connection, campaign_id)
    if row is None:
        campaign_class = connection.execute(
            sa.select(_C.c.class_year).where(_C.c.id == campaign_id)
        ).scalar()
        if campaign_class is not None:
            check_scope(identity, int(campaign_class), f"campaign {campaign_id}")
        raise AmbassadorError(f"campaign {campaign_id} is not a draft of your class")
    check_scope(identity, row.class_year, f"campaign {campaign_id}")
    if row.approved_at is not None:
        raise AmbassadorError(
            f"campaign {campaign_id} was approved already: ask the office to stop it"
        )
    connection.execute(sa.delete(_C).where(_C.c.id == campaign_id))


def approve(connection: Connection, campaign_id: int, *, officer: str, now: datetime) -> None:
    """An officer approves an ambassador's draft: from now on it may be planned and sent
    (``alumni campaign run``). Approving again changes nothing.

    Raises:
        LookupError: no campaign with that id.
        ValueError: the campaign is not an ambassador's draft, or it was stopped.
    """
    status = connection.execute(sa.select(_C.c.status).where(_C.c.id == campaign_id)).scalar()
    if status is None:
        raise LookupError(f"no campaign with id {campaign_id}; `alumni campaign list` shows them")
    row = _draft_row(connection, campaign_id)
    if row is None:
        raise ValueError(
            f"campaign {campaign_id} was not drafted by an ambassador: it needs no approval"
        )
    if status == CampaignStatus.stopped:
        raise ValueError(f"campaign {campaign_id} was stopped: it cannot be approved")
    if row.approved_at is None:
        connection.execute(
            sa.update(_CD)
            .where(_CD.c.campaign_id == campaign_id)
            .values(approved_by=officer[:320], approved_at=now)
        )


def drafts_of_class(connection: Connection, class_year: int) -> list[Draft]:
    """The class's ambassador drafts, newest first, approved or not."""
    return [
        Draft(
            r.id,
            r.class_year,
            r.name,
            r.template,
            r.send_at,
            r.not_before,
            r.drafted_at,
            r.approved_at,
            r.status,
        )
        for r in connection.execute(
            sa.select(
                _C.c.id,
                _C.c.class_year,
                _C.c.name,
                _C.c.template,
                _C.c.send_at,
                _C.c.not_before,
                _C.c.status,
                _CD.c.drafted_at,
                _CD.c.approved_at,
            )
            .join(_CD, _CD.c.campaign_id == _C.c.id)
            .where(_C.c.class_year == class_year)
            .order_by(_CD.c.drafted_at.desc(), _C.c.id.desc())
        )
    ]


def drafts_awaiting_approval(connection: Connection) -> list[tuple[Draft, str | None]]:
    """Every ambassador's draft no officer has approved yet, oldest first, with the external id
    of who drafted it (None: they were since erased)."""
    return [
        (
            Draft(
                r.id,
                r.class_year,
                r.name,
                r.template,
                r.send_at,
                r.not_before,
                r.drafted_at,
                r.approved_at,
                r.status,
            ),
            r.external_id,
        )
        for r in connection.execute(
            sa.select(
                _C.c.id,
                _C.c.class_year,
                _C.c.name,
                _C.c.template,
                _C.c.send_at,
                _C.c.not_before,
                _C.c.status,
                _CD.c.drafted_at,
                _CD.c.approved_at,
                _A.c.external_id,
            )
            .join(_CD, _CD.c.campaign_id == _C.c.id)
            .outerjoin(_A, _A.c.id == _CD.c.drafted_by)
            .where(_CD.c.approved_at.is_(None), _C.c.status != CampaignStatus.stopped)
            .order_by(_CD.c.drafted_at, _C.c.id)
        )
    ]
