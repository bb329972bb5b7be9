"""The messages an alum gets about their own request: an acknowledgement when it is opened and
one at every change of status, in their language, each sent exactly once through the ledger.

``queue_notice`` plans one notice as event mailings plan theirs: a ``RequestNotice`` row per
(request, key) mapping to a campaign of its own, purpose ``service`` (never capped by the
contact budget, nor held back by the alum's preference page), planned for that one alum with the
one planner (``alumni.delivery.planning.plan_on``). The flows that send due campaigns send it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery import planning
from alumni.models import (
    Alumnus,
    Campaign,
    CampaignStatus,
    Request,
    RequestEvent,
    RequestNotice,
    table_of,
)
from alumni.settings import get_settings

__all__ = ["NOTICE_KINDS", "queue_notice"]

NOTICE_KINDS = ("ack", "update", "waiting", "resumed", "closed", "decision")

_A = table_of(Alumnus)
_C = table_of(Campaign)
_R = table_of(Request)
_E = table_of(RequestEvent)
_N = table_of(RequestNotice)


def queue_notice(
    connection: Connection, request_id: int, kind: str, *, now: datetime
) -> int | None:
    """Plan one notice of ``kind`` to the request's alum; return its campaign id.

    Call it inside the write transaction that changed the request, after writing the audit
    event: the notice's key is ``ack`` or ``<kind>-<newest event id>``, so calling it again for
    the same change plans nothing new (and returns the same campaign).

    Raises:
        ValueError: an unknown kind, or no such request.
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"notice kind {kind!r}: use one of {', '.join(NOTICE_KINDS)}")
    request = connection.execute(sa.select(_R).where(_R.c.id == request_id)).first()
    if request is None:
        raise ValueError(f"request {request_id} does not exist")
    event_id = connection.execute(
        sa.select(sa.func.max(_E.c.id)).where(_E.c.request_id == request_id)
    ).scalar()
    key = "ack" if kind == "ack" else f"{kind}-{event_id or 0}"
    found = connection.execute(
        sa.select(_N.c.campaign_id).where(_N.c.request_id == request_id, _N.c.key == key)
    ).scalar()
    if found is not None:
        return int(found)
    class_year = connection.execute(
        sa.select(_A.c.class_year).where(_A.c.id == request.alumnus_id)
    ).scalar_one()
    campaign_id: int = connection.execute(
        sa.insert(_C)
        .values(
            name=f"request {request_id} ({request.type}): {key}",
            class_year=class_year,
            channel="email",
            template=kind,
            purpose="service",
            status=CampaignStatus.draft,
            created_at=now,
        )
        .returning(_C.c.id)
    ).scalar_one()
    connection.execute(
        sa.insert(_N).values(
            request_id=request_id,
            campaign_id=campaign_id,
            kind=kind,
            key=key,
            event_id=event_id,
            context={},
            created_at=now,
        )
    )
    options = planning.PlanOptions.from_settings(get_settings())
    planning.plan_on(connection, campaign_id, now=now, options=options, only=[request.alumnus_id])
    return campaign_id
