"""A reply becomes a request of the request desk, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import Request, Response, table_of
from alumni.tracking.reply_requests import SUMMARY_LIMIT, ReplyRequestError, open_request_from_reply
from tests.tracking.samples import sample
from tests.tracking.world import invited_class, responses, track

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
_Q = table_of(Request)
_R = table_of(Response)


def a_reply(url: str) -> tuple[int, int]:
    """(response id, alumnus id) of a reply tracked from the corpus."""
    _, (ana,) = invited_class(url, 1, now=NOW)
    track(url, sample("reply-plain-quoted-signature.eml", ana.fill()), now=NOW)
    (reply,) = responses(url)
    return reply.id, ana.alumnus_id


def test_a_reply_becomes_one_request_of_its_alum(db_url: str) -> None:
    response_id, alumnus_id = a_reply(db_url)

    with write_transaction(engine_for(db_url)) as connection:
        request_id = open_request_from_reply(
            connection, response_id, type="letter", now=NOW, owner="officer@school.example"
        )

    with engine_for(db_url).connect() as connection:
        request = connection.execute(sa.select(_Q).where(_Q.c.id == request_id)).one()
        handled = connection.execute(
            sa.select(_R.c.handled_at).where(_R.c.id == response_id)
        ).scalar_one()
    assert (request.type, request.status, request.source) == ("letter", "open", "reply")
    assert (request.alumnus_id, request.response_id) == (alumnus_id, response_id)
    assert request.summary.startswith("Hello!\n\nI would love to come.")
    assert (request.owner, request.opened_at, handled) == ("officer@school.example", NOW, NOW)

    with (
        write_transaction(engine_for(db_url)) as connection,
        pytest.raises(
            ReplyRequestError, match=f"reply {response_id} already became request {request_id}"
        ),
    ):
        open_request_from_reply(connection, response_id, type="question", now=NOW)
    with engine_for(db_url).connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(_Q)).scalar_one() == 1


def test_a_long_reply_is_cut_to_the_summary_limit(sqlite_url: str) -> None:
    response_id, _ = a_reply(sqlite_url)
    with write_transaction(engine_for(sqlite_url)) as connection:
        connection.execute(sa.update(_R).where(_R.c.id == response_id).values(text="word " * 1000))
        request_id = open_request_from_reply(connection, response_id, type="idea", now=NOW)
        summary = connection.execute(sa.select(_Q.c.summary).where(_Q.c.id == request_id)).scalar()
    assert len(summary) == SUMMARY_LIMIT


@pytest.mark.parametrize(
    ("response", "kind", "message"),
    [
        (None, "invoice", "request type 'invoice' is not known: use one of letter, certificate"),
        (999, "letter", "response 999 is not a reply"),
    ],
)
def test_what_cannot_become_a_request_is_refused_and_changes_nothing(
    sqlite_url: str, response: int | None, kind: str, message: str
) -> None:
    response_id, _ = a_reply(sqlite_url)
    with (
        write_transaction(engine_for(sqlite_url)) as connection,
        pytest.raises(ReplyRequestError, match=message),
    ):
        open_request_from_reply(connection, response or response_id, type=kind, now=NOW)
    with engine_for(sqlite_url).connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(_Q)).scalar_one() == 0
        assert connection.execute(sa.select(_R.c.handled_at)).scalar() is None
