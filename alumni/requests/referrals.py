"""Who agreed to be asked for a job introduction (the ``referral`` request type).

An alum agrees, or stops agreeing, with a ``Consent`` row of purpose ``service`` and channel
``referral`` that says why we know (``evidence``). Their latest row decides; with no row they
have not agreed, and the desk asks nobody for an introduction on their behalf.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Consent, Purpose, table_of

__all__ = ["EVIDENCE_LIMIT", "REFERRAL_CHANNEL", "agreed_to_referrals", "record_referral_consent"]

REFERRAL_CHANNEL = "referral"
EVIDENCE_LIMIT = 500  # Consent.evidence

_CO = table_of(Consent)


def agreed_to_referrals(connection: Connection, alumnus_id: int) -> bool:
    """Whether the alum's latest referral consent is a yes (no consent recorded: no)."""
    latest = connection.execute(
        sa.select(_CO.c.granted)
        .where(
            _CO.c.alumnus_id == alumnus_id,
            _CO.c.purpose == Purpose.service.value,
            _CO.c.channel == REFERRAL_CHANNEL,
        )
        .order_by(_CO.c.at.desc(), _CO.c.id.desc())
        .limit(1)
    ).scalar()
    return bool(latest)


def record_referral_consent(
    connection: Connection, alumnus_id: int, *, granted: bool, evidence: str, now: datetime
) -> int:
    """Record that the alum agreed (``granted``) or no longer agrees to be asked for
    introductions, and how we know. Return the Consent row's id.

    Raises:
        ValueError: ``evidence`` is empty or longer than 500 characters.
    """
    evidence = evidence.strip()
    if not evidence or len(evidence) > EVIDENCE_LIMIT:
        raise ValueError(
            f"the evidence has {len(evidence)} characters: say in 1 to {EVIDENCE_LIMIT} how the "
            "alum told us (e.g. 'email of 3 June to the office')"
        )
    consent_id: int = connection.execute(
        sa.insert(_CO)
        .values(
            alumnus_id=alumnus_id,
            purpose=Purpose.service.value,
            channel=REFERRAL_CHANNEL,
            granted=granted,
            evidence=evidence,
            at=now,
        )
        .returning(_CO.c.id)
    ).scalar_one()
    return consent_id
