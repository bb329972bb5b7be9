"""Every answer of the public web app, error pages included, over real HTTP under uvicorn:
security headers (HSTS only with an https base URL) and pages that say what to do without
revealing internal ids, states or tracebacks."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from alumni.db import engine_for
from alumni.events.schedule import cancel_event
from alumni.models import utcnow
from alumni.settings import Settings
from tests.events.test_rsvp import invite_delivery, invited_class, link
from tests.web.test_app import add_delivery, assert_hardened, run_server, unsubscribe_path

BASE_URLS = pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000", "https://alumni.school.example"]
)
# What FastAPI and Starlette show by default, and what a server's internals look like.
INTERNALS = (
    '"detail"',
    "Not Found",
    "Method Not Allowed",
    "Internal Server Error",
    "Traceback",
    "Error",  # OperationalError, ValidationError... (the pages say "error" in lower case only)
    "sqlalchemy",
    "psycopg",
    "int_parsing",
    "delivery",
)


def probe_routes(app: FastAPI) -> None:
    """No public route takes typed input yet: this one shows what such a route answers (422)."""

    @app.get("/probe/{number}")
    def typed(number: int) -> dict[str, int]:
        return {"number": number}


def assert_plain_page(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert words in response.text
    for internal in INTERNALS:
        assert internal not in response.text, internal


@BASE_URLS
def test_every_answer_carries_the_security_headers(
    base_url: str, sqlite_url: str, sqlite_settings: Settings
) -> None:
    settings = sqlite_settings.model_copy(update={"base_url": base_url})
    good = unsubscribe_path(settings, add_delivery(sqlite_url))
    for client in run_server(settings, routes=probe_routes):
        answers = {
            200: client.get(good),
            201: client.get("/healthz"),  # JSON, not a page
            400: client.post("/unsubscribe/not-a-token"),
            404: client.get("/no-such-page"),
            405: client.put(good),
            422: client.get("/probe/not-a-number"),
        }
        for status, response in answers.items():
            assert response.status_code == (200 if status == 201 else status)
            assert_hardened(response, https=base_url.startswith("https"))


@BASE_URLS
def test_a_server_error_page_has_the_headers_and_no_internals(
    base_url: str, sqlite_url: str, sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://alumni@127.0.0.1:{port}/alumni?connect_timeout=2"
    down = sqlite_settings.model_copy(update={"database_url": url, "base_url": base_url})
    path = unsubscribe_path(down, 4711)
    errors = logging.getLogger("uvicorn.error")
    try:
        for client in run_server(down):
            # uvicorn's loggers do not propagate, and it sets up their handlers as it starts:
            # listen to its error log directly once it runs, as an operator would.
            errors.addHandler(caplog.handler)
            for method in ("GET", "POST"):
                # uvicorn closes a connection after an error: ask on a fresh one each time.
                response = client.request(method, path, headers={"Connection": "close"})
                assert_plain_page(response, 500, "try the link again in a few minutes")
                assert str(port) not in response.text
                assert "4711" not in response.text
                assert path.rsplit("/", 1)[1] not in response.text
                assert_hardened(response, https=base_url.startswith("https"))
    finally:
        errors.removeHandler(caplog.handler)
        engine_for(url).dispose()
    # The cause goes to the operator's log instead (the server has stopped: nothing is pending).
    logged = [record for record in caplog.records if record.exc_info]
    assert len(logged) == 2
    assert all("OperationalError" in repr(record.exc_info) for record in logged)


def test_error_pages_say_what_to_do(sqlite_url: str, sqlite_settings: Settings) -> None:
    good = unsubscribe_path(sqlite_settings, add_delivery(sqlite_url))
    for client in run_server(sqlite_settings, routes=probe_routes):
        assert_plain_page(client.get("/no-such-page"), 404, "check that you copied the whole link")
        assert_plain_page(client.get("/rsvp"), 404, "check that you copied the whole link")
        refused = client.put(good)
        assert_plain_page(refused, 405, "Open the link from the email in your web browser")
        assert "GET" in refused.headers["allow"]
        unreadable = client.get("/probe/not-a-number")
        assert_plain_page(unreadable, 422, "Open the link from the email in your web browser")
        assert "not-a-number" not in unreadable.text


def test_an_answer_to_a_cancelled_event_says_so_without_ids_or_states(
    sqlite_url: str, sqlite_settings: Settings
) -> None:
    event_id, (ana,) = invited_class(sqlite_url, 1)
    delivery = invite_delivery(sqlite_url, event_id, ana)
    yes = link(sqlite_settings, f"{delivery}:yes", expires_at=utcnow() + timedelta(days=30))
    cancel_event(engine_for(sqlite_url), event_id, now=utcnow())
    for client in run_server(sqlite_settings):
        for method in ("GET", "POST"):
            response = client.request(method, yes)
            assert_plain_page(
                response, 409, "This event is cancelled, so there is nothing to answer"
            )
            assert "Summer party" in response.text
            assert f"event {event_id}" not in response.text
            assert "is cancelled;" not in response.text  # the internal message's words
            assert "<form" not in response.text  # no button that cannot work
            assert_hardened(response)


def test_error_pages_are_in_the_browsers_language(
    sqlite_url: str, sqlite_settings: Settings
) -> None:
    good = unsubscribe_path(sqlite_settings, add_delivery(sqlite_url))
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    for client in run_server(sqlite_settings, routes=probe_routes):
        missing = client.get("/no-such-page", headers=french)
        assert_plain_page(missing, 404, "vérifiez que vous l’avez copié en entier")
        assert '<html lang="fr">' in missing.text
        refused = client.put(good, headers={"Accept-Language": "pt-BR"})
        assert_plain_page(refused, 405, "Abra o link do e-mail no seu navegador.")
        unreadable = client.get("/probe/not-a-number", headers={"Accept-Language": "es"})
        assert_plain_page(unreadable, 422, "Vuelve a abrir el enlace del correo en tu navegador.")
