"""The RSVP page over real HTTP under uvicorn: what the alum is answering (title, when in their
zone and the event's, place, online link) in their language, the answer recorded only by a form
with its form token, then a 303 back to the page that says what was recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery.planning import PlanOptions
from alumni.delivery.report import campaign_report
from alumni.events.mailings import RSVP, plan_mailing
from alumni.events.schedule import create_event
from alumni.messages.signing import make_token
from alumni.models import Alumnus, Delivery, Event, EventMailing, Rsvp, table_of, utcnow
from alumni.settings import Settings
from tests.factories import add_alumnus
from tests.web.pages import assert_accessible, follow, form_token_of, stored, submit
from tests.web.test_app import assert_hardened

_A = table_of(Alumnus)
_D = table_of(Delivery)
_E = table_of(Event)
_M = table_of(EventMailing)
_R = table_of(Rsvp)
# 18:00-21:00 in London (summer time), 13:00-16:00 in New York.
STARTS = datetime(2031, 6, 12, 17, 0, tzinfo=UTC)
OPTIONS = PlanOptions(message_id_domain="school.example")


def invited(url: str, people: list[dict[str, Any]], *, capacity: int | None = None) -> list[int]:
    """An event in London for the class of 2016; the invite went to ``people``: their deliveries."""
    ids = [
        add_alumnus(url, f"V{n}", email=f"guest{n}@example.org", class_year=2016, **who)
        for n, who in enumerate(people)
    ]
    engine = engine_for(url)
    event_id = create_event(
        engine,
        class_year=2016,
        title="Summer reunion",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=3),
        tz="Europe/London",
        place="The Old Library, 1 College Road",
        online_url="https://meet.school.example/reunion",
        capacity=capacity,
        country="GB",
        now=utcnow(),
    )
    plan = plan_mailing(engine, event_id, "invite", now=utcnow(), options=OPTIONS)
    with write_transaction(engine) as connection:
        connection.execute(
            sa.update(_D)
            .where(_D.c.campaign_id == plan.campaign_id)
            .values(status="sent", sent_at=utcnow())
        )
        return [
            connection.execute(
                sa.select(_D.c.id).where(
                    _D.c.campaign_id == plan.campaign_id, _D.c.alumnus_id == alumnus_id
                )
            ).scalar_one()
            for alumnus_id in ids
        ]


def rsvp_path(settings: Settings, delivery_id: int, answer: str) -> str:
    token = make_token(
        settings.signing_key(), RSVP, f"{delivery_id}:{answer}", expires_at=STARTS + timedelta(1)
    )
    return f"/rsvp/{token}"


def answers(url: str) -> list[tuple[Any, ...]]:
    with engine_for(url).connect() as connection:
        return [
            (row.answer, row.waitlisted_at is not None)
            for row in connection.execute(sa.select(_R).order_by(_R.c.id))
        ]


def test_the_page_shows_what_is_answered_in_the_alums_zone_and_the_events(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    (delivery,) = invited(sqlite_url, [{"timezone": "America/New_York", "country": "US"}])
    before = stored(sqlite_url, Rsvp, Alumnus)

    page = sqlite_client.get(rsvp_path(sqlite_settings, delivery, "yes"))

    assert page.status_code == 200
    assert_hardened(page)
    assert_accessible(page.text, lang="en")
    text = page.text
    assert "<h1>Summer reunion</h1>" in text
    assert (
        "Thursday, June 12, 2031, 1:00\u202fPM\u20134:00\u202fPM (your time, America/New_York)"
        in (text)
    )
    assert (
        "Thursday, June 12, 2031, 6:00\u202fPM\u20139:00\u202fPM (event time, Europe/London)"
        in (text)
    )
    assert "The Old Library, 1 College Road" in text
    assert '<a href="https://meet.school.example/reunion">' in text
    assert '<button type="submit">Yes, I will come</button>' in text
    assert "Your answer so far" not in text
    assert stored(sqlite_url, Rsvp, Alumnus) == before  # a GET records nothing


def test_the_page_is_in_the_alums_language_with_one_time_when_zones_agree(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    (delivery,) = invited(sqlite_url, [{"timezone": "Europe/London", "locale": "es"}])

    page = sqlite_client.get(rsvp_path(sqlite_settings, delivery, "maybe"))

    assert_accessible(page.text, lang="es")
    assert "jueves, 12 de junio de 2031, 18:00\u201321:00 (hora del evento, Europe/London)" in (
        page.text
    )
    assert "tu hora" not in page.text
    assert "<dt>Dónde</dt>" in page.text
    assert '<button type="submit">Quizás</button>' in page.text


def test_an_answer_is_recorded_by_the_form_then_the_page_says_so(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    ana, bea = invited(db_url, [{}, {"locale": "fr"}], capacity=1)
    started = utcnow()

    answer = submit(client, rsvp_path(settings, ana, "yes"))

    assert answer.status_code == 303
    page = follow(client, answer)
    assert "Thank you: we recorded your answer (Yes, I will come)." in page.text
    assert "<button" not in page.text  # the link's answer is the one recorded
    assert answers(db_url) == [("yes", False)]
    with engine_for(db_url).connect() as connection:
        noted = connection.execute(
            sa.select(_A.c.last_two_way_at, _A.c.last_two_way_channel)
            .join(_D, _D.c.alumnus_id == _A.c.id)
            .where(_D.c.id == ana)
        ).one()
    assert noted.last_two_way_channel == "web" and noted.last_two_way_at >= started
    with engine_for(db_url).connect() as connection:
        campaign = connection.execute(sa.select(_D.c.campaign_id).where(_D.c.id == ana)).scalar()
        assert campaign is not None
        responses = campaign_report(connection, campaign).responses
    assert (responses["clicked"], responses["rsvp_yes"]) == (1, 1)

    # The event is full (capacity 1): Bea's yes puts her on the waitlist, and her page says so.
    waiting = follow(client, submit(client, rsvp_path(settings, bea, "yes")))
    assert "liste d’attente" in waiting.text
    assert answers(db_url) == [("yes", False), ("yes", True)]
    # Her "no" link shows her answer so far and offers the other one.
    later = client.get(rsvp_path(settings, bea, "no"))
    assert "Votre réponse jusqu’ici : Oui, je viendrai." in later.text
    assert '<button type="submit">Non, je ne peux pas venir</button>' in later.text


def test_an_answer_without_a_valid_form_token_records_nothing(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    (delivery,) = invited(sqlite_url, [{}])
    path = rsvp_path(sqlite_settings, delivery, "yes")
    other = rsvp_path(sqlite_settings, delivery, "no")
    other_token = form_token_of(sqlite_client.get(other).text)
    before = stored(sqlite_url, Rsvp, Alumnus, Delivery)

    for data in ({}, {"form_token": "forged"}, {"form_token": other_token}):
        answer = sqlite_client.post(path, data=data)
        assert answer.status_code == 403
        assert "Please send the form again" in answer.text
    assert stored(sqlite_url, Rsvp, Alumnus, Delivery) == before


def test_an_online_address_that_is_not_a_web_address_is_shown_not_linked(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    (delivery,) = invited(sqlite_url, [{}])
    with write_transaction(engine_for(sqlite_url)) as connection:
        connection.execute(sa.update(_E).values(online_url="javascript:alert(1)"))

    page = sqlite_client.get(rsvp_path(sqlite_settings, delivery, "yes"))

    assert "javascript:alert(1)" in page.text
    assert 'href="javascript' not in page.text
