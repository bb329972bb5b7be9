"""The request form and a request's status page over real HTTP under uvicorn: the form opens a
request, the acknowledgement leaves at once for a real SMTP server (aiosmtpd), and the answer
leads to the request's page; every bad field, form token and link is refused with nothing
changed; the status page shows what the alum was sent and never an internal note."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.messages.page_links import (
    PAGE_LINK_LIFETIME,
    PREFERENCES,
    REQUEST,
    REQUEST_STATUS_LIFETIME,
    read_request_status_token,
    request_status_link,
)
from alumni.messages.signing import make_token
from alumni.models import (
    Alumnus,
    Campaign,
    Delivery,
    Request,
    RequestEvent,
    RequestNotice,
    table_of,
    utcnow,
)
from alumni.requests import desk
from alumni.settings import Settings, get_settings
from alumni.web.csrf import FORM_TOKEN_LIFETIME, form_token
from alumni.web.request_form import SUMMARY_LIMIT, WHOM_LIMIT
from tests.factories import add_alumnus
from tests.mail_servers import wait_for
from tests.smtp_server import Recorder, Serve
from tests.web.pages import assert_accessible, form_token_of, page_path, stored, submit
from tests.web.test_app import assert_hardened
from tests.web_server import serving

ZONE = "Pacific/Auckland"  # far from UTC: "today" is the alum's, not the server's
OFFICER = "officer@school.example"
TOUCHED = (Request, RequestEvent, RequestNotice, Campaign, Delivery, Alumnus)
_Q = table_of(Request)
_E = table_of(RequestEvent)


@pytest.fixture
def mail(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at (set before the app reads it)."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    get_settings.cache_clear()
    return handler


@pytest.fixture
def web(db_url: str, mail: Recorder) -> Iterator[httpx.Client]:
    with serving(get_settings()) as client:
        yield client


def alum(url: str, **values: Any) -> int:
    fields: dict[str, Any] = {"email": "bea@example.org", "first_name": "Bea", "timezone": ZONE}
    return add_alumnus(url, values.pop("external_id", "RQ-1"), **{**fields, **values})


def today_there() -> datetime:
    return utcnow().astimezone(ZoneInfo(ZONE))


def requests_of(url: str) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(_Q).order_by(_Q.c.id)))


def events_of(url: str, request_id: int) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(sa.select(_E).where(_E.c.request_id == request_id).order_by(_E.c.id))
        )


def status_path(settings: Settings, request_id: int, *, now: datetime | None = None) -> str:
    return request_status_link(settings.signing_key(), "", request_id, now=now or utcnow())


def test_the_form_opens_a_request_and_the_acknowledgement_leaves_at_once(
    db_url: str, web: httpx.Client, mail: Recorder
) -> None:
    settings = get_settings()
    bea = alum(db_url)
    path = page_path(settings, REQUEST, bea)
    assert path.startswith("/requests/new/")
    before = stored(db_url, *TOUCHED)

    page = web.get(path)
    assert page.status_code == 200
    assert_hardened(page)
    assert_accessible(page.text, lang="en")
    for title in (
        "Recommendation letter",
        "Certificate or transcript",
        "Job introduction",
        "Help and support",
        "Question",
        "Idea",
    ):
        assert f">{title}</label>" in page.text
    assert "This stays confidential: only the officers named for it can read it" in page.text
    assert stored(db_url, *TOUCHED) == before  # a GET changes nothing

    deadline = (today_there() + timedelta(days=10)).date()
    answer = submit(
        web,
        path,
        type="letter",
        summary="A letter for my master's application at Delft.",
        deadline=deadline.isoformat(),
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("../")  # relative: stays on this site
    shown = follow_to_status(web, answer)
    (request,) = requests_of(db_url)
    assert shown.status_code == 200
    assert_accessible(shown.text, lang="en")
    assert f"<h1>Your request number {request.id}</h1>" in shown.text
    assert "Thank you: we have your request" in shown.text
    assert "Recommendation letter" in shown.text and "Received: we will answer soon" in shown.text
    assert "A letter for my master&#39;s application at Delft." in shown.text
    assert f"({ZONE})" in shown.text  # its deadlines in the alum's zone
    assert (request.type, request.source, request.alumnus_id, request.status) == (
        "letter",
        "web",
        bea,
        "open",
    )
    end_of_day = datetime(
        deadline.year, deadline.month, deadline.day, 23, 59, tzinfo=ZoneInfo(ZONE)
    )
    assert request.deadline == end_of_day
    assert [(e.actor, e.action) for e in events_of(db_url, request.id)] == [("alum", "opened")]
    with engine_for(db_url).connect() as connection:
        row = connection.execute(sa.select(table_of(Alumnus)).where(table_of(Alumnus).c.id == bea))
        assert row.one().last_two_way_channel == "web"

    # At once: the answer's background task hands it to the SMTP server; no flow run needed.
    wait_for(lambda: len(mail.received) == 1, "the acknowledgement")
    message = email.message_from_bytes(mail.received[0].content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == (
        f"We have your request: Recommendation letter (number {request.id})"
    )
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    link = next(
        line.rsplit(" ", 1)[1]
        for line in str(body.get_content()).splitlines()
        if line.startswith("See where your request stands")
    )
    assert web.get(link.replace(settings.base_url, "")).status_code == 200

    # The same form sent again (a double click, a reload of the POST): still one request.
    again = web.post(path, data=dict_of(answer.request))
    assert again.status_code == 303
    token = again.headers["location"].removeprefix("../").split("?")[0]
    assert read_request_status_token(settings.signing_key(), token, now=utcnow()) == request.id
    assert len(requests_of(db_url)) == 1


def dict_of(sent: httpx.Request) -> dict[str, str]:
    """The fields of a form a request sent, to send them again."""
    return dict(parse_qsl(sent.read().decode()))


def follow_to_status(client: httpx.Client, answer: httpx.Response) -> httpx.Response:
    """Follow the form's 303 to the request's page, which is not the form's own page."""
    assert answer.status_code == 303, answer.text
    target = answer.next_request
    assert target is not None and target.url.host == answer.request.url.host
    assert target.url.path.startswith("/requests/") and "/new/" not in target.url.path
    return client.get(target.url)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"summary": "A letter"}, "type", "Choose what you need."),
        ({"type": "vacation", "summary": "A letter"}, "type", "Choose what you need."),
        ({"type": "letter", "summary": "   "}, "summary", "Tell us in a few words"),
        (
            {"type": "letter", "summary": "x" * (SUMMARY_LIMIT + 1)},
            "summary",
            f"Write at most {SUMMARY_LIMIT} characters (you wrote {SUMMARY_LIMIT + 1}).",
        ),
        ({"type": "referral", "summary": "A job in Lyon"}, "whom", "Tell us whom you would like"),
        (
            {"type": "referral", "summary": "A job", "whom": "y" * (WHOM_LIMIT + 1)},
            "whom",
            f"Write at most {WHOM_LIMIT} characters",
        ),
        (
            {"type": "letter", "summary": "A letter", "deadline": "31/12/2030"},
            "deadline",
            "YYYY-MM-DD",
        ),
        (
            {"type": "letter", "summary": "A letter", "deadline": "2030-02-30"},
            "deadline",
            "YYYY-MM-DD",
        ),
        (
            {"type": "letter", "summary": "A letter", "deadline": "yesterday"},
            "deadline",
            "Choose today",
        ),
        (
            {"type": "letter", "summary": "A letter", "deadline": "far"},
            "deadline",
            "within two years",
        ),
    ],
)
def test_a_field_that_does_not_check_out_is_shown_beside_it_and_nothing_is_saved(
    sqlite_url: str,
    sqlite_settings: Settings,
    sqlite_client: httpx.Client,
    fields: dict[str, str],
    field: str,
    words: str,
) -> None:
    bea = alum(sqlite_url)
    path = page_path(sqlite_settings, REQUEST, bea)
    today = today_there().date()
    days = {"yesterday": today - timedelta(days=1), "far": today + timedelta(days=2 * 366 + 1)}
    if fields.get("deadline") in days:
        fields = {**fields, "deadline": days[fields["deadline"]].isoformat()}
    before = stored(sqlite_url, *TOUCHED)

    answer = submit(sqlite_client, path, **fields)

    assert answer.status_code == 422
    assert_accessible(answer.text, lang="en")
    assert "Please correct what is marked below. Nothing was saved." in answer.text
    assert f'<p class="field-problem" id="{field}-problem">' in answer.text
    assert words in answer.text
    assert f'{field}-problem" aria-invalid="true"' in answer.text  # tied to its field
    if fields.get("summary", "").strip():
        assert fields["summary"][:40] in answer.text  # what was typed is kept
    assert stored(sqlite_url, *TOUCHED) == before
    assert not requests_of(sqlite_url)


def test_the_last_allowed_days_are_accepted(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    bea = alum(sqlite_url)
    path = page_path(sqlite_settings, REQUEST, bea)
    today = today_there().date()
    for n, day in enumerate((today, today + timedelta(days=2 * 366))):
        answer = submit(
            sqlite_client, path, type="question", summary=f"Question {n}", deadline=day.isoformat()
        )
        assert answer.status_code == 303, answer.text
    referral = submit(sqlite_client, path, type="referral", summary="A job", whom="Acme, Lyon")
    assert referral.status_code == 303
    assert requests_of(sqlite_url)[-1].summary == "A job\n\nWhom to ask: Acme, Lyon"


def test_a_post_without_a_valid_form_token_is_refused_and_changes_nothing(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    bea = alum(db_url)
    other = alum(db_url, external_id="RQ-2", email="carl@example.org", first_name="Carl")
    path = page_path(settings, REQUEST, bea)
    token = path.rsplit("/", 1)[1]
    key = settings.signing_key()
    genuine = form_token_of(client.get(path).text)
    other_page = page_path(settings, REQUEST, other).rsplit("/", 1)[1]
    forged = {
        "missing": None,
        "empty": "",
        "made up": "not-a-form-token",
        "altered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "another alum's form": form_token(key, REQUEST, other_page, now=utcnow()),
        "another page of theirs": form_token(key, PREFERENCES, token, now=utcnow()),
        "a link token": token,
        "expired": form_token(
            key, REQUEST, token, now=utcnow() - FORM_TOKEN_LIFETIME - timedelta(seconds=1)
        ),
    }
    before = stored(db_url, *TOUCHED)
    for case, value in forged.items():
        data = {"type": "question", "summary": "Hello"}
        if value is not None:
            data["form_token"] = value
        answer = client.post(path, data=data)
        assert answer.status_code == 403, case
        assert "Please send the form again" in answer.text, case
        assert_hardened(answer)
    assert stored(db_url, *TOUCHED) == before
    assert client.post(
        path, data={"form_token": genuine, "type": "question", "summary": "Hello"}
    ).is_redirect


def test_bad_links_to_the_form_and_the_status_page_are_refused_and_change_nothing(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    bea = alum(sqlite_url, locale="fr")
    key = sqlite_settings.signing_key()
    form = page_path(sqlite_settings, REQUEST, bea)
    with write_transaction(engine_for(sqlite_url)) as connection:
        request_id = desk.open_request(
            connection,
            type="question",
            alumnus_id=bea,
            summary="Bonjour",
            source="officer",
            opened_at=utcnow(),
            now=utcnow(),
            actor=OFFICER,
        )
    status = status_path(sqlite_settings, request_id)
    damaged = "this link is damaged or incomplete"

    def tampered(path: str) -> str:
        middle = len(path) // 2
        return path[:middle] + ("B" if path[middle] != "B" else "C") + path[middle + 1 :]

    cases = [
        tampered(form),
        form[:-4],
        page_path(sqlite_settings, PREFERENCES, bea).replace("/preferences/", "/requests/new/"),
        f"/requests/new/{make_token(key, REQUEST, 'bea@example.org')}",
        f"/requests/new/{make_token(key, 'request-status', str(bea))}",
        tampered(status),
        status[:-4],
        f"/requests/{make_token(key, REQUEST, str(request_id))}",  # a form link's token
        f"/requests/{make_token(key, 'request-status', 'one')}",
    ]
    before = stored(sqlite_url, *TOUCHED)
    for path in cases:
        methods = ("GET", "POST") if path.startswith("/requests/new/") else ("GET",)
        for method in methods:
            answer = sqlite_client.request(method, path, data={"type": "idea", "summary": "x"})
            assert answer.status_code == 400, (method, path)
            assert damaged in answer.text and 'lang="en"' in answer.text
            assert "Bea" not in answer.text and "Bonjour" not in answer.text
            assert_hardened(answer)

    made = utcnow() - REQUEST_STATUS_LIFETIME - timedelta(days=1)
    old_form = page_path(
        sqlite_settings, REQUEST, bea, now=utcnow() - PAGE_LINK_LIFETIME - timedelta(days=1)
    )
    for path in (status_path(sqlite_settings, request_id, now=made), old_form):
        answer = sqlite_client.get(path)
        assert answer.status_code == 400
        assert 'lang="fr"' in answer.text and "Ce lien a expiré" in answer.text
        assert "Bonjour" not in answer.text and "<form" not in answer.text
    assert sqlite_client.post(old_form, data={"type": "idea", "summary": "x"}).status_code == 400
    gone = sqlite_client.get(status_path(sqlite_settings, request_id + 1000))
    assert gone.status_code == 200 and "no longer leads to anyone" in gone.text
    assert stored(sqlite_url, *TOUCHED) == before


def test_the_status_page_shows_what_the_alum_was_sent_and_never_an_internal_note(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    bea = alum(db_url, locale="es")
    engine = engine_for(db_url)
    at = utcnow()
    with write_transaction(engine) as connection:
        idea = desk.open_request(
            connection,
            type="idea",
            alumnus_id=bea,
            summary="Un club de lectura",
            source="web",
            opened_at=at,
            now=at,
            actor="alum",
        )
        desk.add_note(
            connection,
            idea,
            text="INTERNO: el director duda",
            to_alum=False,
            actor=OFFICER,
            now=at,
        )
        desk.add_note(
            connection,
            idea,
            text="Lo estudiamos esta semana.",
            to_alum=True,
            actor=OFFICER,
            now=at,
        )
        desk.decide_idea(
            connection,
            idea,
            decision="planned",
            reason="Empezará en otoño.",
            actor=OFFICER,
            now=at,
        )
        welfare = desk.open_request(
            connection,
            type="welfare",
            alumnus_id=bea,
            summary="PRIVADO-3fa1",
            source="web",
            opened_at=at,
            now=at,
            actor="alum",
        )
        desk.add_note(connection, welfare, text="INTERNO-77", to_alum=False, actor=OFFICER, now=at)
        desk.wait_on_alum(connection, welfare, actor=OFFICER, now=at, reason="Llámanos, por favor.")

    page = client.get(status_path(settings, idea))
    assert page.status_code == 200
    assert_hardened(page)
    assert_accessible(page.text, lang="es")
    assert f"<h1>Tu solicitud número {idea}</h1>" in page.text
    assert "Un club de lectura" in page.text
    assert "Lo estudiamos esta semana." in page.text
    assert "Tenemos previsto llevar a cabo tu idea más adelante." in page.text
    assert "Empezará en otoño." in page.text
    assert "INTERNO" not in page.text and "director" not in page.text

    page = client.get(status_path(settings, welfare))
    assert page.status_code == 200
    assert "Ayuda y apoyo" in page.text and "Esperamos tu respuesta" in page.text
    assert "Esta solicitud es confidencial" in page.text
    assert "Llámanos, por favor." in page.text  # what the office sent her, on her own page
    assert "PRIVADO-3fa1" not in page.text and "INTERNO-77" not in page.text
    assert "Te responderemos antes del" not in page.text  # no deadline runs while it waits
