"""Event mailings end to end: real Prefect (test harness), real SMTP (aiosmtpd), and the
messages read back with the ``email`` package and icalendar."""

from __future__ import annotations

import email
from collections import Counter
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from alumni.db import engine_for
from alumni.delivery.planning import PlanOptions
from alumni.events.mailings import plan_mailing
from alumni.events.rsvp import apply_answer, apply_link
from alumni.events.schedule import cancel_event, create_event, load_event, update_event
from alumni.models import Delivery, EventMailing, table_of, utcnow
from alumni.settings import get_settings
from flows.event_invites import event_mailing, event_reminders
from tests.factories import add_alumnus
from tests.smtp_server import Recorder, Serve

PLACE = "The Old Library, 1 College Road"
ONLINE = "https://meet.example.org/class-2016"
OPTIONS = PlanOptions(message_id_domain="school.example")
# Yesterday 09:00 UTC: daytime in every zone of these tests, so planning at it makes every
# message due at once whatever the clock says now (mail never goes out in an alum's night).
DAYTIME = (utcnow() - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def plan(url: str, event_id: int, key: str) -> None:
    """Plan a mailing as of DAYTIME; the flow then finds it planned and sends it."""
    plan_mailing(engine_for(url), event_id, key, now=DAYTIME, options=OPTIONS)


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def make_class(url: str) -> dict[str, int]:
    people = {
        "ana@example.org": add_alumnus(
            url, "ANA", email="ana@example.org", country="GB", timezone="Europe/London"
        ),
        "bea@example.org": add_alumnus(
            url,
            "BEA",
            email="bea@example.org",
            country="ES",
            timezone="Europe/Madrid",
            locale="es",
            first_name="Beatriz",
        ),
        "cai@example.org": add_alumnus(
            url,
            "CAI",
            email="cai@example.org",
            country="IN",
            timezone="Asia/Kolkata",
            locale="pt-BR",
            first_name="Caio",
        ),
    }
    add_alumnus(url, "NOMAIL")
    return people


def messages(handler: Recorder, start: int = 0) -> dict[str, EmailMessage]:
    """The messages received since ``start``, by recipient (each must come once)."""
    found: dict[str, EmailMessage] = {}
    for received in handler.received[start:]:
        (rcpt,) = received.rcpt_tos
        assert rcpt not in found, f"{rcpt} got two messages"
        parsed = email.message_from_bytes(received.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        found[rcpt] = parsed
    return found


def calendar_of(message: EmailMessage, method: str) -> Calendar:
    """Check the invite's MIME shape and return its calendar (the part and the .ics agree)."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    part = list(alternative.iter_parts())[2]
    assert part.get_param("method") == method
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "application/ics"
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes) and attachment.get_payload(decode=True) == data
    calendar = Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == method
    return calendar


def vevent(calendar: Calendar) -> Any:
    (event,) = calendar.walk("VEVENT")
    return event


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def deliveries_of(url: str, event_id: int, key: str) -> Counter[str]:
    d, m = table_of(Delivery), table_of(EventMailing)
    with engine_for(url).connect() as connection:
        rows = connection.execute(
            sa.select(d.c.status, d.c.skip_reason)
            .join(m, m.c.campaign_id == d.c.campaign_id)
            .where(m.c.event_id == event_id, m.c.key == key)
        )
        return Counter(f"{r.status}:{r.skip_reason}" if r.skip_reason else r.status for r in rows)


def test_invite_update_reminder_and_cancel_go_once_each_with_one_uid(
    sqlite_url: str, smtp: Recorder
) -> None:
    people = make_class(sqlite_url)
    engine = engine_for(sqlite_url)
    starts = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    event_id = create_event(
        engine,
        class_year=2016,
        title="Class of 2016 summer evening",
        starts_at=starts,
        tz="Europe/London",
        country="GB",
        place=PLACE,
        online_url=ONLINE,
        now=utcnow(),
    )
    with engine.connect() as connection:
        uid = load_event(connection, event_id).uid

    plan(sqlite_url, event_id, "invite")
    result = event_mailing(event_id=event_id, key="invite")
    assert result["outcomes"] == {"sent": 3, "skipped:no_email": 1}
    invites = messages(smtp)
    assert set(invites) == set(people)
    for address, message in invites.items():
        event = vevent(calendar_of(message, "REQUEST"))
        assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 0
        assert event["DTSTART"].dt.astimezone(starts.tzinfo) == starts
        (attendee,) = [event["ATTENDEE"]]
        assert str(attendee) == f"mailto:{address}"
        assert attendee.params["RSVP"] == "TRUE"
        text = text_of(message)
        assert text.count("/rsvp/") == 3
    # At home the place comes first; abroad (Spain, India) the online link does.
    ana, bea, cai = (text_of(invites[a]) for a in people)
    assert ana.index(PLACE) < ana.index(ONLINE)
    assert bea.index(ONLINE) < bea.index(PLACE) and cai.index(ONLINE) < cai.index(PLACE)
    assert "tu hora, Europe/Madrid" in bea and "hora del evento, Europe/London" in bea
    # Caio's locale (pt-BR) has its own invite, with Brazilian Portuguese dates.
    assert "seu horário, Asia/Kolkata" in cai and "horário do evento, Europe/London" in cai
    assert "your time" not in ana and "event time, Europe/London" in ana
    assert invites["bea@example.org"]["Subject"].startswith("Invitación")

    again = event_mailing(event_id=event_id, key="invite")
    assert again["outcomes"] == result["outcomes"]
    assert len(smtp.received) == 3

    # Beatriz declines by link: she hears nothing more about it except nothing at all.
    d = table_of(Delivery)
    with engine.connect() as connection:
        bea_delivery = connection.execute(
            sa.select(d.c.id).where(d.c.address == "bea@example.org")
        ).scalar_one()
    apply_link(engine, bea_delivery, "no", now=utcnow(), options=OPTIONS)
    plan(sqlite_url, event_id, "invite")  # nobody new: the decline stands

    assert update_event(engine, event_id, now=utcnow(), place="The New Hall") is True
    plan(sqlite_url, event_id, "update-1")
    updated = event_mailing(event_id=event_id, key="update-1")
    assert updated["outcomes"] == {"sent": 2}
    updates = messages(smtp, 3)
    assert set(updates) == {"ana@example.org", "cai@example.org"}
    for message in updates.values():
        event = vevent(calendar_of(message, "REQUEST"))
        assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
        assert "The New Hall" in str(event["LOCATION"])

    plan(sqlite_url, event_id, "reminder-7")
    reminders = event_reminders()
    assert reminders["planned"] == {f"{event_id}:reminder-7": 0}  # the flow found it planned
    reminded = messages(smtp, 5)
    assert set(reminded) == {"ana@example.org", "cai@example.org"}
    for message in reminded.values():
        assert message.get_content_type() == "multipart/alternative"
    assert reminded["ana@example.org"]["Subject"].startswith("Reminder")
    assert reminded["cai@example.org"]["Subject"].startswith("Lembrete")  # his own language
    assert event_reminders()["sent"] == {}
    assert len(smtp.received) == 7

    assert cancel_event(engine, event_id, now=utcnow())
    plan(sqlite_url, event_id, "cancel")
    cancelled = event_mailing(event_id=event_id, key="cancel")
    assert cancelled["outcomes"] == {"sent": 2}
    for message in messages(smtp, 7).values():
        event = vevent(calendar_of(message, "CANCEL"))
        assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2
        assert str(event["STATUS"]) == "CANCELLED"
    assert cancelled["report"][-1] == {
        "country": "all",
        "invited": 3,
        "yes": 0,
        "no": 1,
        "maybe": 0,
        "no answer": 2,
        "waitlist": 0,
    }
    assert deliveries_of(sqlite_url, event_id, "reminder-7") == {"sent": 2}


def test_thanks_go_to_those_who_came_and_waitlist_notices_to_those_waiting(
    sqlite_url: str, smtp: Recorder
) -> None:
    people = make_class(sqlite_url)
    engine = engine_for(sqlite_url)
    ended = (utcnow() - timedelta(days=1)).replace(second=0, microsecond=0)
    event_id = create_event(
        engine,
        class_year=2016,
        title="Online quiz night",
        starts_at=ended - timedelta(hours=2),
        ends_at=ended,
        tz="Australia/Adelaide",
        online_url=ONLINE,
        capacity=1,
        now=utcnow(),
    )
    plan(sqlite_url, event_id, "invite")
    assert event_mailing(event_id=event_id, key="invite")["outcomes"]["sent"] == 3
    ana, bea, cai = people.values()
    for n, (who, answer) in enumerate(((ana, "yes"), (bea, "yes"), (cai, "no"))):
        apply_answer(
            engine,
            event_id=event_id,
            alumnus_id=who,
            answer=answer,
            at=utcnow() - timedelta(minutes=10 - n),
            source="link",
            now=DAYTIME,
            options=OPTIONS,
        )
    plan(sqlite_url, event_id, "thanks")
    result = event_reminders()
    assert result["planned"] == {f"{event_id}:thanks": 0}
    sent = messages(smtp, 3)
    assert set(sent) == {"ana@example.org", "bea@example.org"}
    assert sent["ana@example.org"]["Subject"].startswith("Thank you")
    assert sent["bea@example.org"]["Subject"].startswith("Estás en la lista de espera")
    assert event_reminders()["sent"] == {}
    assert len(smtp.received) == 5
