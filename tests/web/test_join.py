"""The join page of a share link and its confirmation, served for real (uvicorn, over HTTP) on
both databases, with the confirmation emails going to a real SMTP server (aiosmtpd): a sign-up
is pending and sent nothing but its confirmation link; confirming makes an alum of the class
through the import, credited to the sharer; bad input and a resend change nothing."""

from __future__ import annotations

import email
import html
import re
from collections.abc import Iterator
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.models import (
    Alumnus,
    Consent,
    ContactPoint,
    ImportRun,
    ShareLink,
    Signup,
    table_of,
    utcnow,
)
from alumni.reach.share import join_link, share_link_id
from alumni.settings import Settings, get_settings
from tests.factories import add_alumnus
from tests.mail_servers import wait_for
from tests.smtp_server import Recorder, Serve
from tests.web.pages import assert_accessible, follow, form_token_of, stored
from tests.web_server import serving

PEOPLE = (Alumnus, ContactPoint, Consent, Signup, ImportRun)


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Recorder:
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    get_settings.cache_clear()
    return handler


@pytest.fixture
def client(smtp: Recorder) -> Iterator[httpx.Client]:
    with serving(get_settings()) as served:
        yield served


def share_path(url: str, sharer: str, class_year: int = 2016) -> str:
    engine = engine_for(url)
    with write_transaction(engine) as connection:
        alumnus_id = connection.execute(
            sa.select(table_of(Alumnus).c.id).where(table_of(Alumnus).c.external_id == sharer)
        ).scalar_one()
        link = share_link_id(connection, alumnus_id, class_year, now=utcnow())
    return join_link(get_settings().signing_key(), "", link)


def join(client: httpx.Client, path: str, page: httpx.Response, **fields: str) -> httpx.Response:
    """Send the join form of ``page`` (its form token, Mo of 2016 unless ``fields`` say)."""
    data = {"first_name": "Mo", "last_name": "", "class_year": "2016", "email": "mo@example.org"}
    return client.post(path, data={"form_token": form_token_of(page.text), **data, **fields})


def confirmation(handler: Recorder, count: int = 1) -> tuple[str, EmailMessage]:
    wait_for(lambda: len(handler.received) >= count, f"{count} confirmation email(s)")
    message = email.message_from_bytes(handler.received[-1].content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body: Any = message.get_body(("plain",))
    text = str(body.get_content())
    found = re.search(r"https?://\S+/join/confirm/(\S+)", text)
    assert found is not None, text
    return f"/join/confirm/{found[1]}", message


def test_a_sign_up_is_pending_until_confirmed_then_an_alum_credited_to_the_sharer(
    db_url: str, smtp: Recorder, client: httpx.Client
) -> None:
    add_alumnus(db_url, "A1", class_year=2016, first_name="Ana", email="ana@example.org")
    path = share_path(db_url, "A1")
    client.headers["accept-language"] = "es-ES,es;q=0.9"  # a Spanish speaker's browser
    page = client.get(path)
    assert page.status_code == 200
    assert_accessible(page.text, lang="es")
    assert "Ana te invita" in html.unescape(page.text) and 'value="2016"' in page.text
    sent = join(
        client,
        path,
        page,
        first_name="Lúcia",
        last_name="Ferreira",
        email="Lucia@Example.org",
        consent="yes",
    )
    shown = follow(client, sent)
    assert "Te hemos enviado un enlace" in html.unescape(shown.text)
    link, message = confirmation(smtp)
    assert smtp.received[0].rcpt_tos == ("Lucia@example.org",)
    assert message["Subject"] == "Confirma tu dirección para unirte a la promoción de 2016"
    with engine_for(db_url).connect() as connection:
        signup = connection.execute(sa.select(table_of(Signup))).one()
        alumni = connection.execute(sa.select(sa.func.count()).select_from(table_of(Alumnus)))
        assert alumni.scalar_one() == 1  # not an alum yet: nothing can plan them
    assert (signup.status, signup.confirmed_at, signup.class_year) == ("sent", None, 2016)

    # the same form sent again: no second sign-up, no second email
    again = join(
        client, path, page, first_name="Lúcia", last_name="Ferreira", email="lucia@example.org"
    )
    assert again.status_code == 303
    with engine_for(db_url).connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(Signup))
            ).scalar_one()
            == 1
        )

    before = stored(db_url, *PEOPLE)
    asked = client.get(link)
    assert asked.status_code == 200 and "Lucia@example.org" in asked.text
    assert stored(db_url, *PEOPLE) == before  # a GET changes nothing
    done = follow(client, client.post(link, data={"form_token": form_token_of(asked.text)}))
    assert "ya estás en la lista de la promoción de 2016" in html.unescape(done.text)
    with engine_for(db_url).connect() as connection:
        alum = connection.execute(
            sa.select(table_of(Alumnus)).where(table_of(Alumnus).c.first_name == "Lúcia")
        ).one()
        point = connection.execute(
            sa.select(table_of(ContactPoint)).where(table_of(ContactPoint).c.alumnus_id == alum.id)
        ).one()
        consents = {
            c.purpose: c.granted
            for c in connection.execute(
                sa.select(table_of(Consent)).where(table_of(Consent).c.alumnus_id == alum.id)
            )
        }
    assert (alum.class_year, alum.locale, alum.status) == (2016, "es", "active")
    assert (point.value, point.source) == ("Lucia@example.org", "join page")
    assert point.verified_at is not None
    assert consents == {"news": True, "events": True}
    assert len(smtp.received) == 1

    report = CliRunner().invoke(app, ["share", "report"], env={"COLUMNS": "200"})
    assert report.exit_code == 0, report.output
    assert "class of 2016: 1 shared, 1 signed up, 1 confirmed" in report.output
    assert "A1  Ana Lima: 1 signed up, 1 confirmed" in report.output
    # confirming again changes nothing
    before = stored(db_url, *PEOPLE)
    client.post(link, data={"form_token": form_token_of(asked.text)})
    assert stored(db_url, *PEOPLE) == before


def test_bad_input_is_named_beside_its_field_and_nothing_is_saved(
    db_url: str, smtp: Recorder, client: httpx.Client
) -> None:
    add_alumnus(db_url, "A1", class_year=2016)
    path = share_path(db_url, "A1")
    page = client.get(path)
    before = stored(db_url, *PEOPLE)
    refused = join(client, path, page, first_name="", class_year="1850", email="not an address")
    assert refused.status_code == 422
    for field in ("first_name", "class_year", "email"):
        assert f'id="{field}-problem"' in refused.text
    assert "Give a year from 1900" in refused.text and "not an address" in refused.text
    assert client.post(path, data={"first_name": "X"}).status_code == 403  # no form token
    assert client.get("/join/1-aaaaaaaaaaaaaaaa").status_code == 400  # a forged code
    assert stored(db_url, *PEOPLE) == before
    assert smtp.received == []


def test_a_sign_up_never_confirmed_stays_out_of_every_list(
    db_url: str, smtp: Recorder, client: httpx.Client
) -> None:
    add_alumnus(db_url, "A1", class_year=2016)
    path = share_path(db_url, "A1")
    page = client.get(path)
    join(client, path, page)
    confirmation(smtp)
    report = CliRunner().invoke(app, ["share", "report", "--json"], env={"COLUMNS": "300"})
    assert '"signed_up": 1, "confirmed": 0' in report.output
    with engine_for(db_url).connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(ShareLink))
            ).scalar_one()
            == 1
        )
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(Alumnus))
            ).scalar_one()
            == 1
        )
    assert isinstance(get_settings(), Settings)


def test_a_suppressed_address_is_sent_nothing_and_the_page_does_not_say_so(
    db_url: str, smtp: Recorder, client: httpx.Client
) -> None:
    from alumni.people.suppression import suppress

    add_alumnus(db_url, "A1", class_year=2016)
    with write_transaction(engine_for(db_url)) as connection:
        suppress(connection, kind="email", value="gone@example.org", reason="complaint")
    path = share_path(db_url, "A1")
    page = client.get(path)
    fields = {
        "form_token": form_token_of(page.text),
        "first_name": "Gus",
        "last_name": "",
        "class_year": "2016",
        "email": "Gone@example.org",
    }
    shown = follow(client, client.post(path, data=fields))
    assert "We have emailed you a link" in shown.text  # the same answer as for anyone
    # and one address gets one confirmation a week, through whichever link
    add_alumnus(db_url, "A2", class_year=2016)
    other = share_path(db_url, "A2")
    fields["email"] = "new@example.org"
    client.post(path, data=fields)
    fields["form_token"] = form_token_of(client.get(other).text)
    client.post(other, data=fields)
    confirmation(smtp)
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(sa.select(table_of(Signup)).order_by(table_of(Signup).c.id))
        signups = [(r.email, r.status) for r in rows]
    assert signups[0] == ("Gone@example.org", "skipped")
    assert [r[0] for r in signups] == ["Gone@example.org", "new@example.org"]
    assert [m.rcpt_tos for m in smtp.received] == [("new@example.org",)]


def test_a_link_takes_twenty_sign_ups_an_hour_then_rests_and_saves_nothing(
    db_url: str, smtp: Recorder, client: httpx.Client
) -> None:
    from datetime import timedelta

    from alumni.reach.referrals import SIGNUPS_PER_LINK_PER_HOUR, LinkBusy, sign_up

    add_alumnus(db_url, "A1", class_year=2016, first_name="Ana", email="ana@example.org")
    path = share_path(db_url, "A1")
    engine = engine_for(db_url)
    with engine.connect() as connection:
        link = connection.execute(sa.select(table_of(ShareLink).c.id)).scalar_one()
    start = utcnow() - timedelta(minutes=30)

    def signed_up(n: int, at: datetime) -> None:
        with write_transaction(engine) as connection:
            sign_up(
                connection,
                share_link=link,
                first_name=f"Bot{n}",
                last_name="",
                class_year="2016",
                email=f"stranger{n}@example.org",
                consent=False,
                locale=None,
                now=at,
                message_id_domain="school.example",
                key=get_settings().signing_key(),
            )

    for n in range(SIGNUPS_PER_LINK_PER_HOUR):
        signed_up(n, start)
    with pytest.raises(LinkBusy):
        signed_up(99, start + timedelta(minutes=59))
    signed_up(100, start + timedelta(hours=1))  # the oldest are an hour old: room again

    page = client.get(path)  # now, half an hour after the twenty: the page says to wait
    answer = join(client, path, page)
    assert answer.status_code == 429
    assert "Please try again in an hour" in html.unescape(answer.text)
    assert_accessible(answer.text, lang="en")
    with engine.connect() as connection:
        emails = set(connection.execute(sa.select(table_of(Signup).c.email)).scalars())
    assert len(emails) == SIGNUPS_PER_LINK_PER_HOUR + 1 and "mo@example.org" not in emails
