"""Turn an alum's reply into a request of the request desk.

Errors::

    ReplyRequestError   the reply cannot become a request; the message says which and why
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Request, Response, table_of

__all__ = ["REQUEST_TYPES", "SUMMARY_LIMIT", "ReplyRequestError", "open_request_from_reply"]

REQUEST_TYPES = ("letter", "certificate", "referral", "welfare", "question", "idea")
SUMMARY_LIMIT = 2000  # Request.summary

_R = table_of(Response)
_Q = table_of(Request)


class ReplyRequestError(ValueError):
    """A reply that cannot become a request: unknown, not a reply, of nobody, or already one."""


def open_request_from_reply(
    connection: Connection,
    response_id: int,
    *,
    type: str,
    now: datetime,
    owner: str | None = None,
) -> int:
    """Open a request (source ``reply``) for the reply's alum, summarised by the reply's text,
    and mark the reply handled. Return the request's id.

    Args:
        connection: a connection inside a write transaction.
        response_id: the reply (a Response of kind ``reply``).
        type: letter, certificate, referral, welfare, question or idea.
        now: when the request is opened, aware.
        owner: the officer who takes it, if any.

    Raises:
        ReplyRequestError: an unknown type; no such reply; a reply tied to no alum; or a
            request was already opened from it (its id is named).
    """
    if type not in REQUEST_TYPES:
        raise ReplyRequestError(
            f"request type {type!r} is not known: use one of {', '.join(REQUEST_TYPES)}"
        )
    reply = connection.execute(
        sa.select(_R.c.id, _R.c.kind, _R.c.alumnus_id, _R.c.text, _R.c.author).where(
            _R.c.id == response_id
        )
    ).first()
    if reply is None or reply.kind != "reply":
        raise ReplyRequestError(
            f"response {response_id} is not a reply; `alumni replies` lists the replies"
        )
    if reply.alumnus_id is None:
        raise ReplyRequestError(
            f"reply {response_id} from {reply.author or 'an unknown sender'} is tied to no alum; "
            "find the alum and open the request by hand"
        )
    existing = connection.execute(
        sa.select(_Q.c.id).where(_Q.c.response_id == response_id)
    ).scalar()
    if existing is not None:
        raise ReplyRequestError(
            f"reply {response_id} already became request {existing}; nothing was opened"
        )
    summary = (reply.text or "").strip() or f"(reply {response_id} had no text)"
    request_id: int = connection.execute(
        sa.insert(_Q)
        .values(
            type=type,
            status="open",
            alumnus_id=reply.alumnus_id,
            summary=summary[:SUMMARY_LIMIT],
            owner=owner,
            source="reply",
            response_id=response_id,
            opened_at=now,
            last_update_at=now,
            created_at=now,
        )
        .returning(_Q.c.id)
    ).scalar_one()
    connection.execute(sa.update(_R).where(_R.c.id == response_id).values(handled_at=now))
    return request_id
