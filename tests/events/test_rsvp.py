"""RSVPs: the latest answer wins, capacity and waitlist, REPLYs built by vobject, signed links
answered through a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
import vobject
from dateutil import tz as dateutil_tz

from alumni.db import engine_for
from alumni.delivery.planning import PlanOptions
from alumni.events.calendar_codec import parse_reply
from alumni.events.mailings import RSVP, plan_mailing
from alumni.events.rsvp import (
    RsvpError,
    apply_answer,
    apply_reply,
    event_report,
    record_attendance,
)
from alumni.events.schedule import cancel_event, create_event, load_event
from alumni.messages.signing import make_token
from alumni.models import Delivery, EventMailing, Rsvp, table_of, utcnow
from alumni.settings import Settings, get_settings
from tests.factories import add_alumnus
from tests.web.pages import follow, submit
from tests.web.test_app import run_server

_D = table_of(Delivery)
_M = table_of(EventMailing)
_R = table_of(Rsvp)
OPTIONS = PlanOptions(message_id_domain="school.example")
T0 = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


def invited_class(url: str, size: int, *, capacity: int | None = None) -> tuple[int, list[int]]:
    """An event for a class of ``size`` whose invites all went out (as the flow would mark)."""
    people = [
        add_alumnus(
            url,
            f"R{n}",
            class_year=2016,
            email=f"Guest{n}@Example.org",
            country=("GB", "ES", "BR")[n % 3],
        )
        for n in range(size)
    ]
    engine = engine_for(url)
    starts = utcnow() + timedelta(days=30)
    event_id = create_event(
        engine,
        class_year=2016,
        title="Summer party",
        starts_at=starts,
        tz="Europe/London",
        capacity=capacity,
        country="GB",
        now=utcnow(),
    )
    plan = plan_mailing(engine, event_id, "invite", now=utcnow(), options=OPTIONS)
    with engine.begin() as connection:
        connection.execute(
            sa.update(_D)
            .where(_D.c.campaign_id == plan.campaign_id)
            .values(status="sent", sent_at=utcnow())
        )
    return event_id, people


def answers(url: str, event_id: int) -> dict[int, tuple[str, bool]]:
    with engine_for(url).connect() as connection:
        return {
            r.alumnus_id: (r.answer, r.waitlisted_at is not None)
            for r in connection.execute(sa.select(_R).where(_R.c.event_id == event_id))
        }


def told(url: str, event_id: int, key: str) -> list[int]:
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(_D.c.alumnus_id)
                .join(_M, _M.c.campaign_id == _D.c.campaign_id)
                .where(_M.c.event_id == event_id, _M.c.key == key, _D.c.status == "pending")
                .order_by(_D.c.alumnus_id)
            ).scalars()
        )


def answer(url: str, event_id: int, alumnus_id: int, value: str, at: datetime) -> bool:
    outcome = apply_answer(
        engine_for(url),
        event_id=event_id,
        alumnus_id=alumnus_id,
        answer=value,
        at=at,
        source="link",
        now=utcnow(),
        options=OPTIONS,
    )
    return outcome.applied


def test_the_latest_answer_wins_by_when_it_was_given(db_url: str) -> None:
    event_id, (ana, *_) = invited_class(db_url, 1)
    assert answer(db_url, event_id, ana, "yes", T0 + timedelta(hours=2))
    assert not answer(db_url, event_id, ana, "no", T0 + timedelta(hours=1))
    assert answers(db_url, event_id) == {ana: ("yes", False)}
    assert answer(db_url, event_id, ana, "maybe", T0 + timedelta(hours=3))
    assert answers(db_url, event_id) == {ana: ("maybe", False)}
    with pytest.raises(RsvpError, match="'perhaps' must be one of yes, no, maybe"):
        answer(db_url, event_id, ana, "perhaps", T0 + timedelta(hours=4))


def test_a_full_event_waitlists_and_a_decline_gives_the_place_to_the_next(db_url: str) -> None:
    event_id, (a, b, c, d) = invited_class(db_url, 4, capacity=2)
    for n, person in enumerate((a, b, c, d)):
        assert answer(db_url, event_id, person, "yes", T0 + timedelta(minutes=n))
    assert answers(db_url, event_id) == {
        a: ("yes", False),
        b: ("yes", False),
        c: ("yes", True),
        d: ("yes", True),
    }
    assert told(db_url, event_id, "waitlist") == [c, d]
    # A waitlisted alum saying yes again keeps their turn and is not told twice.
    assert answer(db_url, event_id, c, "yes", T0 + timedelta(minutes=10))
    assert told(db_url, event_id, "waitlist") == [c, d]
    assert answer(db_url, event_id, a, "no", T0 + timedelta(minutes=20))
    assert answers(db_url, event_id)[c] == ("yes", False)
    assert answers(db_url, event_id)[d] == ("yes", True)
    assert told(db_url, event_id, "place") == [c]
    # A maybe from someone waiting frees nothing; a maybe from a confirmed alum does.
    assert answer(db_url, event_id, b, "maybe", T0 + timedelta(minutes=30))
    assert answers(db_url, event_id)[d] == ("yes", False)
    assert told(db_url, event_id, "place") == [c, d]
    with engine_for(db_url).connect() as connection:
        report = event_report(connection, event_id)
    assert report.counts == {"invited": 4, "yes": 2, "no": 1, "maybe": 1}
    # Only those who came hear thanks: D stayed away, C came (or nothing says otherwise).
    assert record_attendance(engine_for(db_url), event_id, ["R3"], came=False, now=utcnow()) == 1
    with pytest.raises(RsvpError, match="no yes from R0, R9"):
        record_attendance(engine_for(db_url), event_id, ["R0", "R9"], came=True, now=utcnow())
    plan_mailing(engine_for(db_url), event_id, "thanks", now=utcnow(), options=OPTIONS)
    assert told(db_url, event_id, "thanks") == [c]
    assert report.by_country["GB"] == {"invited": 2, "no": 1, "yes": 1}
    assert report.rows()[-1] == {
        "country": "all",
        "invited": 4,
        "yes": 2,
        "no": 1,
        "maybe": 1,
        "no answer": 0,
        "waitlist": 0,
    }


def vobject_reply(uid: str, attendee: str, partstat: str, stamp: datetime) -> bytes:
    """A METHOD:REPLY built by vobject, as another calendar client would send it."""
    cal = vobject.iCalendar()
    cal.add("method").value = "REPLY"
    event = cal.add("vevent")
    event.add("uid").value = uid
    event.add("sequence").value = "0"
    event.add("dtstamp").value = stamp.astimezone(dateutil_tz.UTC)
    event.add("dtstart").value = datetime(2027, 6, 12, 17, tzinfo=dateutil_tz.UTC)
    event.add("organizer").value = "mailto:alumni@school.example"
    who = event.add("attendee")
    who.value = f"MAILTO:{attendee}"
    who.params["PARTSTAT"] = [partstat]
    text: str = cal.serialize()
    return text.encode("utf-8")


def test_a_reply_built_by_vobject_updates_the_rsvp(sqlite_url: str) -> None:
    event_id, (ana, bea) = invited_class(sqlite_url, 2)
    engine = engine_for(sqlite_url)
    with engine.connect() as connection:
        uid = load_event(connection, event_id).uid
    # The address as the calendar client spells it, not as we stored it.
    reply = parse_reply(vobject_reply(uid, "guest0@EXAMPLE.org", "DECLINED", T0))
    outcome = apply_reply(engine, reply, now=utcnow(), options=OPTIONS)
    assert (outcome.alumnus_id, outcome.answer, outcome.applied) == (ana, "no", True)
    later = parse_reply(vobject_reply(uid, "Guest1@Example.org", "TENTATIVE", T0))
    assert apply_reply(engine, later, now=utcnow(), options=OPTIONS).answer == "maybe"
    # A click after the calendar's answer wins; the same REPLY arriving late changes nothing.
    assert answer(sqlite_url, event_id, ana, "yes", T0 + timedelta(minutes=5))
    assert not apply_reply(engine, reply, now=utcnow(), options=OPTIONS).applied
    assert answers(sqlite_url, event_id) == {ana: ("yes", False), bea: ("maybe", False)}
    accepted = parse_reply(vobject_reply(uid, "guest0@example.org", "ACCEPTED", T0))
    stranger = parse_reply(vobject_reply(uid, "nobody@example.org", "ACCEPTED", T0))
    with pytest.raises(RsvpError, match=r"from nobody@example\.org: nobody was invited"):
        apply_reply(engine, stranger, now=utcnow(), options=OPTIONS)
    unknown = parse_reply(vobject_reply("other@uid", "guest0@example.org", "ACCEPTED", T0))
    with pytest.raises(RsvpError, match="no event has that UID"):
        apply_reply(engine, unknown, now=utcnow(), options=OPTIONS)
    cancel_event(engine, event_id, now=utcnow())
    with pytest.raises(RsvpError, match="is cancelled"):
        apply_reply(engine, accepted, now=utcnow(), options=OPTIONS)


@pytest.fixture
def rsvp_client(sqlite_url: str) -> Iterator[httpx.Client]:
    yield from run_server(get_settings())


def invite_delivery(url: str, event_id: int, alumnus_id: int) -> int:
    with engine_for(url).connect() as connection:
        return int(
            connection.execute(
                sa.select(_D.c.id)
                .join(_M, _M.c.campaign_id == _D.c.campaign_id)
                .where(_M.c.event_id == event_id, _D.c.alumnus_id == alumnus_id)
            ).scalar_one()
        )


def link(settings: Settings, payload: str, *, expires_at: datetime) -> str:
    return f"/rsvp/{make_token(settings.signing_key(), RSVP, payload, expires_at=expires_at)}"


def test_signed_links_answer_after_a_confirmation_and_bad_ones_change_nothing(
    sqlite_url: str, rsvp_client: httpx.Client
) -> None:
    settings = get_settings()
    event_id, (ana,) = invited_class(sqlite_url, 1)
    delivery = invite_delivery(sqlite_url, event_id, ana)
    ends = utcnow() + timedelta(days=30)
    yes = link(settings, f"{delivery}:yes", expires_at=ends)
    page = rsvp_client.get(yes)
    assert page.status_code == 200
    assert "Summer party" in page.text and "Yes, I will come" in page.text
    assert answers(sqlite_url, event_id) == {}
    done = follow(rsvp_client, submit(rsvp_client, yes))
    assert done.status_code == 200 and "we recorded your answer" in done.text
    assert answers(sqlite_url, event_id) == {ana: ("yes", False)}
    no = link(settings, f"{delivery}:no", expires_at=ends)
    assert submit(rsvp_client, no).status_code == 303
    assert answers(sqlite_url, event_id) == {ana: ("no", False)}

    altered = no[:-3] + ("AAA" if not no.endswith("AAA") else "BBB")
    expired = link(settings, f"{delivery}:yes", expires_at=utcnow() - timedelta(seconds=1))
    other_purpose = f"/rsvp/{make_token(settings.signing_key(), 'unsubscribe', f'{delivery}:yes')}"
    for bad, why in (
        (altered, "damaged"),
        (expired, "expired"),
        (other_purpose, "damaged"),
        (link(settings, f"{delivery}:sure", expires_at=ends), "damaged"),
    ):
        for method in ("GET", "POST"):
            response = rsvp_client.request(method, bad)
            assert response.status_code == 400, (bad, method)
            assert why in response.text
    assert answers(sqlite_url, event_id) == {ana: ("no", False)}
    cancel_event(engine_for(sqlite_url), event_id, now=utcnow())
    refused = rsvp_client.post(yes)
    assert refused.status_code == 409 and "is cancelled" in refused.text
