"""The public web app's unsubscribe links, served by a real uvicorn and asked with httpx."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from alumni.db import engine_for
from alumni.messages.signing import make_token
from alumni.models import Alumnus, Campaign, Delivery, InstanceValue, Suppression, table_of
from alumni.people.suppression import suppressed_scopes
from alumni.settings import Settings
from alumni.web.app import HSTS, SECURITY_HEADERS
from tests.web_server import serving

SENT_AT = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
# Mixed case on purpose: the suppression list must match however a mail client spells it.
ADDRESS = "Zoraida.Quellmotte@Example.org"
MASKED = "Z•••@Example.org"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def run_server(
    settings: Settings, *, routes: Callable[[FastAPI], None] | None = None
) -> Iterator[httpx.Client]:
    """Serve the app on a free loopback port and yield a client aimed at it."""
    with serving(settings, routes=routes) as client:
        yield client


def add_delivery(url: str, address: str | None = ADDRESS) -> int:
    """Insert one alum, one sent campaign and the delivery that took it to ``address``."""
    with engine_for(url).begin() as connection:
        alumnus_id = connection.execute(
            sa.insert(table_of(Alumnus)).values(
                external_id="EXT-ZQ-7781",
                first_name="Zoraida",
                last_name="Quellmotte",
                class_year=2015,
                status="active",
                created_at=SENT_AT,
                updated_at=SENT_AT,
            )
        ).inserted_primary_key[0]
        campaign_id = connection.execute(
            sa.insert(table_of(Campaign)).values(
                name="Class of 2015: ten years on",
                class_year=2015,
                channel="email",
                template="reunion",
                purpose="news",
                status="done",
                created_at=SENT_AT,
            )
        ).inserted_primary_key[0]
        delivery_id = connection.execute(
            sa.insert(table_of(Delivery)).values(
                campaign_id=campaign_id,
                alumnus_id=alumnus_id,
                channel="email",
                address=address,
                counts_toward_budget=True,
                status="sent",
                attempts=1,
                maybe_duplicate=False,
                sent_at=SENT_AT,
            )
        ).inserted_primary_key[0]
    return int(delivery_id)


def unsubscribe_path(settings: Settings, delivery_id: int, purpose: str = "unsubscribe") -> str:
    return f"/unsubscribe/{make_token(settings.signing_key(), purpose, str(delivery_id))}"


def stored_state(url: str) -> dict[str, list[Any]]:
    """Every row of the tables an unsubscribe may write (the list and its salt)."""
    with engine_for(url).connect() as connection:
        return {
            model.__name__: sorted(
                tuple(row) for row in connection.execute(sa.select(table_of(model)))
            )
            for model in (Suppression, InstanceValue)
        }


def scopes_of(url: str, address: str) -> set[str]:
    with engine_for(url).begin() as connection:
        return suppressed_scopes(connection, [("email", address)]).get(("email", address), set())


def assert_hardened(response: httpx.Response, *, https: bool = False) -> None:
    """The security headers, HSTS exactly when the base URL is https, no cookie, no redirect."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert response.headers.get("strict-transport-security") == (HSTS if https else None)
    assert "set-cookie" not in response.headers
    assert not response.is_redirect


def test_get_asks_with_a_masked_address_and_changes_nothing(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    path = unsubscribe_path(settings, add_delivery(db_url))
    before = stored_state(db_url)

    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f"Stop news and event emails to {MASKED}?" in response.text
    assert ADDRESS.lower() not in response.text.lower()
    assert '<form method="post">' in response.text  # no action: it posts back to this very URL
    assert_hardened(response)
    assert stored_state(db_url) == before
    assert stored_state(db_url)["Suppression"] == []


def test_one_click_post_unsubscribes_from_news_and_events_once(
    db_url: str,
    settings: Settings,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    caplog.set_level(logging.INFO)
    # Uvicorn's access logger does not propagate; listen to it directly, as an operator would.
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caplog.handler)
    request.addfinalizer(lambda: access.removeHandler(caplog.handler))
    path = unsubscribe_path(settings, add_delivery(db_url))
    assert scopes_of(db_url, ADDRESS) == set()

    first = client.post(path, data=ONE_CLICK)

    assert first.status_code == 200
    assert "You are unsubscribed" in first.text
    assert_hardened(first)
    assert scopes_of(db_url, ADDRESS) == {"news", "events"}
    assert scopes_of(db_url, ADDRESS.lower()) == {"news", "events"}
    after_first = stored_state(db_url)
    assert {row[4] for row in after_first["Suppression"]} == {"unsubscribed"}

    second = client.post(path, data=ONE_CLICK)

    assert second.status_code == 200
    assert "Already unsubscribed" in second.text
    assert stored_state(db_url) == after_first

    server_side = [r for r in caplog.records if r.name.startswith(("uvicorn", "alumni"))]
    logged = "\n".join(record.getMessage() for record in server_side)
    assert '"POST /unsubscribe/… HTTP/1.1" 200' in logged
    assert path.rsplit("/", 1)[1] not in logged
    assert ADDRESS.lower() not in logged.lower()


def test_the_pages_button_may_post_multipart(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    path = unsubscribe_path(sqlite_settings, add_delivery(sqlite_url))
    page = sqlite_client.get(path).text
    assert '<button type="submit" name="List-Unsubscribe" value="One-Click">' in page

    response = sqlite_client.post(path, files={"List-Unsubscribe": (None, "One-Click")})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    assert scopes_of(sqlite_url, ADDRESS) == {"news", "events"}


def test_bad_links_are_refused_in_plain_words_and_change_nothing(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    delivery_id = add_delivery(sqlite_url)
    key = sqlite_settings.signing_key()
    good = unsubscribe_path(sqlite_settings, delivery_id)
    middle = len(good) // 2 + 10
    tampered = good[:middle] + ("B" if good[middle] != "B" else "C") + good[middle + 1 :]
    expired = make_token(key, "unsubscribe", str(delivery_id), expires_at=SENT_AT)
    damaged = "this link is damaged or incomplete"
    cases = {
        tampered: damaged,
        unsubscribe_path(sqlite_settings, delivery_id, purpose="rsvp"): damaged,
        good[:-5]: damaged,
        f"{good}/extra": damaged,
        "/unsubscribe/not-a-token": damaged,
        "/unsubscribe/": damaged,
        "/unsubscribe": damaged,
        f"/unsubscribe/{make_token(key, 'unsubscribe', 'abc')}": damaged,
        f"/unsubscribe/{expired}": "this link expired on",
    }
    before = stored_state(sqlite_url)

    for path, words in cases.items():
        for method in ("GET", "POST"):
            response = sqlite_client.request(
                method, path, data=ONE_CLICK if method == "POST" else None
            )
            assert response.status_code == 400, (method, path)
            assert words in response.text, (method, path)
            assert "Nothing was changed." in response.text
            token = path.removeprefix("/unsubscribe").strip("/")
            assert not token or token not in response.text
            assert_hardened(response)

    assert stored_state(sqlite_url) == before
    assert scopes_of(sqlite_url, ADDRESS) == set()


def test_a_link_whose_delivery_is_gone_has_nothing_to_do(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    delivery_id = add_delivery(db_url)
    path = unsubscribe_path(settings, delivery_id)
    with engine_for(db_url).begin() as connection:
        connection.execute(
            sa.delete(table_of(Delivery)).where(table_of(Delivery).c.id == delivery_id)
        )
    before = stored_state(db_url)

    for method in ("GET", "POST"):
        response = client.request(method, path, data=ONE_CLICK if method == "POST" else None)
        assert response.status_code == 200, method
        assert "nothing to do" in response.text
        assert "Quellmotte" not in response.text
        assert_hardened(response)

    assert stored_state(db_url) == before


def test_a_delivery_without_an_address_has_nothing_to_do(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    path = unsubscribe_path(sqlite_settings, add_delivery(sqlite_url, address=None))
    before = stored_state(sqlite_url)

    response = sqlite_client.post(path, data=ONE_CLICK)

    assert response.status_code == 200
    assert "nothing to do" in response.text
    assert stored_state(sqlite_url) == before


def test_text_from_settings_is_escaped(sqlite_url: str, sqlite_settings: Settings) -> None:
    hostile = sqlite_settings.model_copy(update={"office_name": "<script>alert(1)</script>"})
    for client in run_server(hostile):
        page = client.get(unsubscribe_path(hostile, add_delivery(sqlite_url))).text
        assert "<script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_healthz_checks_the_database(sqlite_client: httpx.Client) -> None:
    response = sqlite_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert_hardened(response)
    assert_hardened(sqlite_client.get("/no-such-page"))


def test_healthz_says_when_the_database_does_not_answer(sqlite_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://alumni@127.0.0.1:{port}/alumni?connect_timeout=2"
    down = sqlite_settings.model_copy(update={"database_url": url})
    try:
        for client in run_server(down):
            response = client.get("/healthz")
            assert response.status_code == 503
            assert response.json() == {"status": "database unreachable"}
    finally:
        engine_for(url).dispose()
