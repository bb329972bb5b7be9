"""Tips from alumni about how to reach a lost classmate, and the officer's verification.

The path of a tip::

    the tip form (alumni.web.tip_form)   submit_tip: stored pending (ReachTip), and a desk
                                         request (type question, source web) puts it before an
                                         officer under the question SLA; the tipster gets the
                                         desk's acknowledgement. Nothing in it is used yet.
    alumni tips verify ID                verify_tip: the detail is added to the lost alum
                                         (source "tip from <tipster id>", never verified); the
                                         alum is active again but news and events are refused
                                         for them (a Consent row says why) until they say yes;
                                         an email tip plans ONE message, the consent question
                                         (template consent_question, purpose service), through
                                         the ledger. The desk request is closed, resolved.
    alumni tips reject ID --reason       reject_tip: nothing is used; the request is declined.
    the consent page (alumni.web.tip_form) answer_consent: yes grants news and events, no
                                         refuses every purpose; either way the question is
                                         answered and the still-yours flow may ask them again.

Only a lost classmate may be tipped about (``alumni.reach.channels.lost_classmates`` of the
tipster's own class, the list the form shows), one tip per tipster and lost alum. The tip's
detail is checked and normalised like a spreadsheet cell
(``alumni.people.contact_details.normalise_detail``).

Errors::

    TipError    (a ValueError) a tip or an officer's step refused; the message says which tip,
                field or value and what to do. Nothing was changed.
      TipAlreadyGiven    the tipster gave a tip about this lost alum already
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery.audience import CONSENT_QUESTION_TEMPLATE
from alumni.delivery.planning import PlanOptions, plan_on
from alumni.models import (
    Alumnus,
    AlumnusStatus,
    Campaign,
    CampaignStatus,
    Consent,
    ContactKind,
    ContactPoint,
    ContactStatus,
    Purpose,
    ReachTip,
    TipStatus,
    table_of,
)
from alumni.people.contact_details import KINDS, normalise_detail
from alumni.people.erasure_list import erased_among
from alumni.people.two_way import note_two_way
from alumni.reach.channels import lost_classmates
from alumni.requests.desk import close, open_request

__all__ = [
    "HOW_KNOWN_LIMIT",
    "TipAlreadyGiven",
    "TipError",
    "TipRow",
    "Verified",
    "answer_consent",
    "reject_tip",
    "submit_tip",
    "tip_rows",
    "verify_tip",
]

HOW_KNOWN_LIMIT: Final = 1000
REASON_LIMIT: Final = 1000
_A = table_of(Alumnus)
_C = table_of(Campaign)
_CO = table_of(Consent)
_CP = table_of(ContactPoint)
_T = table_of(ReachTip)
# What an answer of the consent question grants (yes) or refuses (no).
_YES_PURPOSES: Final = (Purpose.news.value, Purpose.events.value)
_NO_PURPOSES: Final = (Purpose.news.value, Purpose.events.value, Purpose.service.value)


class TipError(ValueError):
    """A tip or an officer's step refused; nothing was changed."""


class TipAlreadyGiven(TipError):
    """The tipster already gave a tip about this lost alum: one each."""


@dataclass(frozen=True)
class TipRow:
    """One tip as an officer lists it."""

    id: int
    status: str
    lost_alumnus_id: int
    lost_name: str
    class_year: int
    tipster_id: int
    tipster_name: str
    kind: str
    value: str
    how_known: str
    created_at: datetime
    request_id: int | None
    decided_by: str | None
    decision_reason: str | None
    consent_answer: str | None


@dataclass(frozen=True)
class Verified:
    """What verifying a tip did."""

    tip_id: int
    contact_point_id: int
    campaign_id: int | None  # the consent question (email tips); None: ask them yourself


def submit_tip(
    connection: Connection,
    *,
    tipster_id: int,
    lost_alumnus_id: int,
    kind: str,
    value: str,
    how_known: str,
    now: datetime,
) -> int:
    """Store a pending tip and open the desk request that puts it before an officer.

    Run inside a write transaction.

    Raises:
        TipError: the alum is not a lost classmate of the tipster; a tip about them from this
            tipster exists; an unknown kind; a value not valid for its kind; an empty or too
            long ``how_known``.
    """
    tipster = connection.execute(
        sa.select(_A.c.id, _A.c.class_year).where(_A.c.id == tipster_id)
    ).first()
    if tipster is None:
        raise TipError(f"alumnus {tipster_id} does not exist: the tip link is not theirs")
    lost = {a.alumnus_id: a for a in lost_classmates(connection, tipster.class_year)}
    if lost_alumnus_id not in lost or lost_alumnus_id == tipster_id:
        raise TipError(
            f"alumnus {lost_alumnus_id} is not a lost classmate of alumnus {tipster_id} "
            f"(class of {tipster.class_year}): choose one from the list"
        )
    if kind not in {k.value for k in KINDS}:
        raise TipError(f"kind {kind!r} is not known: use one of {', '.join(KINDS)}")
    country = connection.execute(sa.select(_A.c.country).where(_A.c.id == lost_alumnus_id)).scalar()
    try:
        stored, _ = normalise_detail(kind, value, country=country)
    except ValueError as error:
        raise TipError(f"the {kind} {error}") from None
    how_known = how_known.strip()
    if not how_known or len(how_known) > HOW_KNOWN_LIMIT:
        raise TipError(
            f"say how you know in 1 to {HOW_KNOWN_LIMIT} characters, not {len(how_known)}"
        )
    if connection.execute(
        sa.select(_T.c.id).where(
            _T.c.tipster_id == tipster_id, _T.c.lost_alumnus_id == lost_alumnus_id
        )
    ).first():
        raise TipAlreadyGiven(
            f"alumnus {tipster_id} already gave a tip about alumnus {lost_alumnus_id}: "
            "the office is looking at it"
        )
    tip_id: int = connection.execute(
        sa.insert(_T)
        .values(
            lost_alumnus_id=lost_alumnus_id,
            tipster_id=tipster_id,
            kind=kind,
            value=stored,
            how_known=how_known,
            status=TipStatus.pending.value,
            created_at=now,
        )
        .returning(_T.c.id)
    ).scalar_one()
    request_id = open_request(
        connection,
        type="question",
        alumnus_id=tipster_id,
        summary=(
            f"Tip {tip_id}: I know how to reach {lost[lost_alumnus_id].display_name} "
            f"(class of {tipster.class_year}). The office checks it before anything is used: "
            f"`alumni tips list`, then `alumni tips verify {tip_id}` or `reject {tip_id}`."
        ),
        source="web",
        opened_at=now,
        now=now,
        actor="alum",
    )
    connection.execute(sa.update(_T).where(_T.c.id == tip_id).values(request_id=request_id))
    note_two_way(connection, tipster_id, at=now, channel="web")
    return tip_id


def tip_rows(connection: Connection, *, status: str | None = None) -> list[TipRow]:
    """Tips, oldest first; only those of ``status`` (pending / verified / rejected) when given."""
    lost, tipster = _A.alias("lost"), _A.alias("tipster")
    query = (
        sa.select(
            _T,
            lost.c.first_name.label("lost_first"),
            lost.c.last_name.label("lost_last"),
            lost.c.class_year,
            tipster.c.first_name.label("tipster_first"),
            tipster.c.last_name.label("tipster_last"),
        )
        .join(lost, lost.c.id == _T.c.lost_alumnus_id)
        .join(tipster, tipster.c.id == _T.c.tipster_id)
        .order_by(_T.c.id)
    )
    if status is not None:
        query = query.where(_T.c.status == status)
    return [
        TipRow(
            id=row.id,
            status=row.status,
            lost_alumnus_id=row.lost_alumnus_id,
            lost_name=f"{row.lost_first} {row.lost_last}",
            class_year=row.class_year,
            tipster_id=row.tipster_id,
            tipster_name=f"{row.tipster_first} {row.tipster_last}",
            kind=row.kind,
            value=row.value,
            how_known=row.how_known,
            created_at=row.created_at,
            request_id=row.request_id,
            decided_by=row.decided_by,
            decision_reason=row.decision_reason,
            consent_answer=row.consent_answer,
        )
        for row in connection.execute(query)
    ]


def _pending(connection: Connection, tip_id: int) -> Any:
    row = connection.execute(sa.select(_T).where(_T.c.id == tip_id).with_for_update()).first()
    if row is None:
        raise TipError(f"there is no tip {tip_id}: `alumni tips list` shows them")
    if row.status != TipStatus.pending:
        raise TipError(
            f"tip {tip_id} was already {row.status} by {row.decided_by} on "
            f"{row.decided_at:%Y-%m-%d}; nothing was changed"
        )
    return row


def verify_tip(
    connection: Connection, tip_id: int, *, officer: str, now: datetime, options: PlanOptions
) -> Verified:
    """The officer checked the tip: add its detail and ask the lost alum, once, whether they
    want to hear from us (see the module docstring). Run inside a write transaction.

    Raises:
        TipError: no such tip, or it was verified or rejected already; the lost alum must not
            be contacted (deceased, erased, do not contact); the detail belonged to an erased
            alum.
        WrongHashKey: the erasure list was made with another secret key.
    """
    tip = _pending(connection, tip_id)
    alum = connection.execute(
        sa.select(_A.c.status, _A.c.country, _A.c.class_year).where(_A.c.id == tip.lost_alumnus_id)
    ).one()
    if alum.status not in (AlumnusStatus.active, AlumnusStatus.lost):
        raise TipError(
            f"alumnus {tip.lost_alumnus_id} is {alum.status}: they must not be contacted; "
            f"reject tip {tip_id} instead"
        )
    if erased_among(connection, [(tip.kind, tip.value)]):
        raise TipError(
            f"the {tip.kind} of tip {tip_id} belonged to someone erased at their request: it "
            f"must not be stored again; reject tip {tip_id} instead"
        )
    _, label = normalise_detail(tip.kind, tip.value, country=alum.country)
    point_id: int = connection.execute(
        sa.insert(_CP)
        .values(
            alumnus_id=tip.lost_alumnus_id,
            kind=tip.kind,
            value=tip.value,
            label=label,
            source=f"tip from {tip.tipster_id}",
            verified_at=None,
            status=ContactStatus.ok.value,
            created_at=now,
        )
        .returning(_CP.c.id)
    ).scalar_one()
    connection.execute(
        sa.update(_A)
        .where(_A.c.id == tip.lost_alumnus_id)
        .values(status=AlumnusStatus.active.value, updated_at=now)
    )
    evidence = (
        f"tip {tip_id} verified by {officer}: not asked yet whether they want to hear from us; "
        "nothing but that question until they say yes"
    )
    _consent(
        connection, tip.lost_alumnus_id, _YES_PURPOSES, granted=False, evidence=evidence, at=now
    )
    campaign_id = None
    if tip.kind == ContactKind.email:
        campaign_id = connection.execute(
            sa.insert(_C)
            .values(
                name=f"Would you like to hear from us? (tip {tip_id})",
                class_year=alum.class_year,
                channel="email",
                template=CONSENT_QUESTION_TEMPLATE,
                named_audience=True,
                purpose=Purpose.service.value,
                status=CampaignStatus.draft.value,
                created_at=now,
            )
            .returning(_C.c.id)
        ).scalar_one()
        plan_on(connection, campaign_id, now=now, options=options, only=[tip.lost_alumnus_id])
    connection.execute(
        sa.update(_T)
        .where(_T.c.id == tip_id)
        .values(
            status=TipStatus.verified.value,
            decided_at=now,
            decided_by=officer,
            contact_point_id=point_id,
            campaign_id=campaign_id,
        )
    )
    if tip.request_id is not None:
        close(
            connection,
            tip.request_id,
            outcome="resolved",
            actor=officer,
            now=now,
            reason="Thank you: we checked your tip and will ask them, once, whether they would "
            "like to hear from us.",
        )
    return Verified(tip_id=tip_id, contact_point_id=point_id, campaign_id=campaign_id)


def reject_tip(
    connection: Connection, tip_id: int, *, officer: str, reason: str, now: datetime
) -> None:
    """The officer refuses the tip: nothing in it is used; its desk request is declined with
    ``reason`` (told to the tipster). Run inside a write transaction.

    Raises:
        TipError: no such tip, already decided, or an empty or too long reason.
    """
    reason = reason.strip()
    if not reason or len(reason) > REASON_LIMIT:
        raise TipError(f"give a reason of 1 to {REASON_LIMIT} characters, not {len(reason)}")
    tip = _pending(connection, tip_id)
    connection.execute(
        sa.update(_T)
        .where(_T.c.id == tip_id)
        .values(
            status=TipStatus.rejected.value,
            decided_at=now,
            decided_by=officer,
            decision_reason=reason,
        )
    )
    if tip.request_id is not None:
        close(connection, tip.request_id, outcome="declined", actor=officer, now=now, reason=reason)


def answer_consent(connection: Connection, alumnus_id: int, *, yes: bool, now: datetime) -> None:
    """The alum answered "do you want to hear from us?": yes grants news and events, no
    refuses every purpose (service too). Marks their verified tips answered. Run inside a
    write transaction."""
    purposes = _YES_PURPOSES if yes else _NO_PURPOSES
    evidence = f"answered {'yes' if yes else 'no'} to 'would you like to hear from us?' on the web"
    _consent(connection, alumnus_id, purposes, granted=yes, evidence=evidence, at=now)
    connection.execute(
        sa.update(_T)
        .where(
            _T.c.lost_alumnus_id == alumnus_id,
            _T.c.status == TipStatus.verified.value,
            _T.c.consent_answer.is_(None),
        )
        .values(consent_answer="yes" if yes else "no", answered_at=now)
    )
    note_two_way(connection, alumnus_id, at=now, channel="web")


def _consent(
    connection: Connection,
    alumnus_id: int,
    purposes: tuple[str, ...],
    *,
    granted: bool,
    evidence: str,
    at: datetime,
) -> None:
    connection.execute(
        sa.insert(_CO),
        [
            {
                "alumnus_id": alumnus_id,
                "purpose": purpose,
                "channel": "any",
                "granted": granted,
                "evidence": evidence[:500],
                "at": at,
            }
            for purpose in purposes
        ],
    )
