"""What alumni do on our pages from a message's link, recorded as that delivery's responses.

The campaign report counts them with what the mailbox brings back: an unsubscribe from the
page (or its one-click POST) is an ``unsubscribe``, an answer given through an RSVP link a
``click``. One row per delivery and kind (source ``web``): a second answer adds nothing.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.db import insert_unless_present
from alumni.models import Delivery, Response, table_of

__all__ = ["WEB_KINDS", "record_web_answer"]

WEB_KINDS = ("unsubscribe", "click")

_D = table_of(Delivery)
_R = table_of(Response)


def record_web_answer(
    connection: Connection, *, kind: str, delivery_id: int, now: datetime
) -> bool:
    """Record that the alum of ``delivery_id`` acted on its link; False if already recorded or
    the delivery is gone.

    Raises:
        ValueError: ``kind`` is not one of ``WEB_KINDS``.
    """
    if kind not in WEB_KINDS:
        raise ValueError(f"unknown web answer {kind!r}: use one of {', '.join(WEB_KINDS)}")
    row = connection.execute(
        sa.select(_D.c.campaign_id, _D.c.alumnus_id).where(_D.c.id == delivery_id)
    ).first()
    if row is None:
        return False
    return insert_unless_present(
        connection,
        _R,
        ["source", "remote_id"],
        kind=kind,
        source="web",
        remote_id=f"{kind}:{delivery_id}",
        delivery_id=delivery_id,
        campaign_id=row.campaign_id,
        alumnus_id=row.alumnus_id,
        at=now,
        needs_attention=False,
        created_at=now,
    )
