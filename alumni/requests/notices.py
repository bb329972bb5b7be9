"""Stand-in for the alum's notices (replaced by wt-alum): plans nothing yet.

The desk calls ``queue_notice`` through this module on opening a request and on every change of
its status; wt-alum's version plans the service message to the alum through the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

__all__ = ["NOTICE_KINDS", "queue_notice"]

NOTICE_KINDS = ("ack", "update", "waiting", "resumed", "closed", "decision")


def queue_notice(
    connection: Connection, request_id: int, kind: str, *, now: datetime
) -> int | None:
    """Plan one service message to the alum about ``request_id``; return its campaign id.

    This stand-in plans nothing and returns None (replaced by wt-alum).
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"notice kind {kind!r} is not known: use one of {', '.join(NOTICE_KINDS)}")
    return None
