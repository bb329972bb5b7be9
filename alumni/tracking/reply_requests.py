"""Turn an alum's reply into a request of the request desk (``alumni.requests.desk``).

Errors::

    ReplyRequestError   the reply cannot become a request; the message says which and why
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import Request, Response, table_of
from alumni.requests.desk import SUMMARY_LIMIT, DeskError, open_request
from alumni.requests.types import REQUIRED_TYPES, RequestType

__all__ = ["REQUEST_TYPES", "SUMMARY_LIMIT", "ReplyRequestError", "open_request_from_reply"]

REQUEST_TYPES = REQUIRED_TYPES  # the shipped types; requests.toml may add more

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
    actor: str = "system",
    types: Mapping[str, RequestType] | None = None,
) -> int:
    """Open a request (source ``reply``) for the reply's alum, summarised by the reply's text,
    as of when the reply came, and mark the reply handled. Return the request's id.

    Args:
        connection: a connection inside a write transaction.
        response_id: the reply (a Response of kind ``reply``).
        type: one of the request types (letter, certificate, referral, welfare, question,
            idea, or another of ``requests.toml``).
        now: when the request is opened, aware.
        owner: the officer who takes it, if any.
        actor: who opens it, for the audit trail (an officer's email; default ``system``).
        types: the request types; None: ``load_request_types()``.

    Raises:
        ReplyRequestError: an unknown type; no such reply; a reply tied to no alum; or a
            request was already opened from it (its id is named); or the desk refused it
            (e.g. an owner that is not an email).
    """
    reply = connection.execute(
        sa.select(_R.c.id, _R.c.kind, _R.c.alumnus_id, _R.c.text, _R.c.author, _R.c.at).where(
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
    try:
        request_id = open_request(
            connection,
            type=type,
            alumnus_id=reply.alumnus_id,
            summary=summary[:SUMMARY_LIMIT],
            source="reply",
            opened_at=min(reply.at, now),  # the SLA clock runs from when the alum wrote
            now=now,
            actor=actor,
            owner=owner,
            response_id=response_id,
            types=types,
        )
    except DeskError as exc:
        raise ReplyRequestError(str(exc)) from None
    connection.execute(sa.update(_R).where(_R.c.id == response_id).values(handled_at=now))
    return request_id
