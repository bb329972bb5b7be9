"""The still-yours flow end to end: real Prefect (the session's test server), real SMTP
(aiosmtpd), the link in the received message followed on the real web app (uvicorn), and the
detail verified; asked once, only those with a doubtful detail and a working email."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import Campaign, ContactPoint, DetailCheck, table_of, utcnow
from alumni.people.postal import phone_display
from alumni.settings import get_settings
from flows.freshness import still_yours
from tests.factories import add_alumnus, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve
from tests.web.pages import follow, submit
from tests.web_server import serving

_CP = table_of(ContactPoint)
DETAILS_LINK = re.compile(r"(https?://\S+/details/\S+)")
ENROLLED = datetime(2012, 9, 1, tzinfo=UTC)


@pytest.fixture
def web(db_url: str) -> Iterator[httpx.Client]:
    with serving(get_settings()) as client:
        yield client


@pytest.fixture
def smtp(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str, web: httpx.Client
) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at; links point at the served web app."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("ALUMNI_BASE_URL", str(web.base_url).rstrip("/"))
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def alum(url: str, name: str, *, email_address: str | None = None) -> int:
    return add_alumnus(
        url,
        name.upper(),
        class_year=2016,
        email=email_address,
        first_name=name.title(),
        timezone=daytime_zone(),
    )


def point(url: str, alumnus_id: int, kind: str, value: str, **values: Any) -> int:
    with write_transaction(engine_for(url)) as connection:
        point_id: int = connection.execute(
            sa.insert(_CP)
            .values(alumnus_id=alumnus_id, kind=kind, value=value, created_at=ENROLLED, **values)
            .returning(_CP.c.id)
        ).scalar_one()
    return point_id


def verify_emails(url: str) -> None:
    """Every email on file verified now: only the crafted doubts remain."""
    with write_transaction(engine_for(url)) as connection:
        connection.execute(sa.update(_CP).where(_CP.c.kind == "email").values(verified_at=utcnow()))


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    content: Any = body.get_content()
    return str(content)


def test_an_alum_with_a_doubtful_detail_is_asked_once_and_what_they_confirm_is_verified(
    db_url: str, smtp: Recorder, web: httpx.Client
) -> None:
    ana = alum(db_url, "ana", email_address="ana@example.org")
    landline = point(
        db_url,
        ana,
        "phone",
        "+441632960001",
        label="landline",
        source="enrolment form",
        verified_at=ENROLLED,
    )
    ben = alum(db_url, "ben", email_address="ben@example.org")
    point(
        db_url,
        ben,
        "phone",
        "+447700900123",
        label="mobile",
        source="web form",
        verified_at=utcnow(),
    )
    # A doubtful detail, but no email that works: nobody to write to.
    cara = alum(db_url, "cara")
    point(db_url, cara, "phone", "+441632960009", label="landline", source="enrolment form")
    verify_emails(db_url)

    result = still_yours()

    ((campaign_id, done),) = result["campaigns"].items()
    assert done == {"class_year": 2016, "alumni": 1, "details": 1, "outcomes": {"sent": 1}}
    # The class campaign flow planned it again: still only Ana, nobody else of the class.
    assert [(row.alumnus_id, row.status) for row in deliveries(db_url, campaign_id)] == [
        (ana, "sent")
    ]
    (received,) = smtp.received
    assert list(received.rcpt_tos) == ["ana@example.org"]
    message = email.message_from_bytes(received.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Ana, are these still your contact details?"
    found = DETAILS_LINK.search(text_of(message))
    assert found is not None
    link = urlsplit(found[1])
    assert f"{link.scheme}://{link.netloc}" == str(web.base_url).rstrip("/")

    page = web.get(link.path)
    # the page shows the number as it is dialled (alumni.people.postal.phone_display)
    shown = phone_display("+441632960001", home_country=None)
    assert page.status_code == 200 and shown in page.text and shown != "+441632960001"
    answer = submit(web, link.path, action="confirm", detail=str(landline))
    assert follow(web, answer).status_code == 200

    with engine_for(db_url).connect() as connection:
        confirmed = connection.execute(sa.select(_CP).where(_CP.c.id == landline)).one()
        checks = list(connection.execute(sa.select(table_of(DetailCheck))))
        campaign = connection.execute(
            sa.select(table_of(Campaign)).where(table_of(Campaign).c.id == campaign_id)
        ).one()
    assert confirmed.verified_at > ENROLLED
    assert confirmed.source == "confirmed by alum; first from enrolment form"
    assert [(c.contact_point_id, c.alumnus_id, c.campaign_id) for c in checks] == [
        (landline, ana, campaign_id)
    ]
    assert "recorded at enrolment" in checks[0].reasons
    assert (campaign.template, campaign.purpose) == ("still_yours", "service")

    # Next month: nothing to ask (confirmed, and asked already); no second message.
    assert still_yours() == {"campaigns": {}}
    assert len(smtp.received) == 1


def test_a_detail_left_unanswered_is_not_asked_again_within_the_months(
    db_url: str, smtp: Recorder
) -> None:
    ana = alum(db_url, "ana", email_address="ana@example.org")
    point(db_url, ana, "phone", "+441632960001", label="landline", source="enrolment form")
    verify_emails(db_url)

    first = still_yours()
    again = still_yours()

    assert len(first["campaigns"]) == 1
    assert again == {"campaigns": {}}
    assert len(smtp.received) == 1
