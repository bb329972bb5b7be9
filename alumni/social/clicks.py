"""Tracked links: a signed ``/l/<token>`` link in a post, counted when followed.

The token carries the post's idempotency key (purpose ``click``) and expires after
``LINK_LIFETIME``; where it leads is the campaign's ``--link``, read from the database, so a
forged or altered link cannot redirect anywhere.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alumni.db import write_transaction
from alumni.messages.signing import make_token
from alumni.models import Campaign, Response, SocialPost, table_of

CLICK = "click"
# A tracked link works this long after the post was written (people find old posts).
LINK_LIFETIME = timedelta(days=400)
_C = table_of(Campaign)
_P = table_of(SocialPost)
_R = table_of(Response)


def tracked_link(key: bytes, base_url: str, post_key: str, *, now: datetime) -> str:
    """The link a post shows for its campaign's ``--link``."""
    token = make_token(key, CLICK, post_key, expires_at=now + LINK_LIFETIME)
    return f"{base_url.rstrip('/')}/l/{token}"


def record_click(engine: Engine, post_key: str, *, now: datetime) -> str | None:
    """Count one click on the post with ``post_key``; return where it leads (None: nowhere)."""
    with write_transaction(engine) as connection:
        found = connection.execute(
            sa.select(_P.c.id, _P.c.campaign_id, _C.c.link)
            .join(_C, _C.c.id == _P.c.campaign_id)
            .where(_P.c.idempotency_key == post_key)
        ).first()
        if found is None or not found.link:
            return None
        connection.execute(
            sa.insert(_R).values(
                kind="click",
                source="web",
                remote_id=f"click:{uuid.uuid4().hex}",
                campaign_id=found.campaign_id,
                social_post_id=found.id,
                at=now,
                needs_attention=False,
                created_at=now,
            )
        )
        return str(found.link)
