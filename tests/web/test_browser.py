"""The alumni's pages in a real browser: Debian's Chromium driven by Playwright, by keyboard and
clicks as a person would, against the app served by uvicorn. Each test keeps a screenshot of
the page it ends on under ``tests/artifacts/pages/`` (printed) and checks the database; the
choices made on the preference page are then honoured by the next campaign planned.

Skipped when ``/usr/bin/chromium`` is absent (CI installs it: ``.ci/run``). Never
``playwright install``: it downloads a browser of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.delivery import planning
from alumni.messages.page_links import DETAILS, PREFERENCES, REQUEST
from alumni.models import ContactPoint, Frequency, table_of, utcnow
from alumni.people.preferences import read_choice
from alumni.settings import Settings
from tests.browser import CHROMIUM, chromium, keep, needs_chromium
from tests.factories import add_alumnus, add_campaign, deliveries
from tests.mail_servers import wait_for
from tests.web.pages import page_path
from tests.web.test_app import MASKED, add_delivery, scopes_of, unsubscribe_path
from tests.web.test_request_pages import requests_of
from tests.web.test_rsvp_page import answers, invited, rsvp_path
from tests.web_server import serving

ZONE = "Europe/Lisbon"
OPTIONS = planning.PlanOptions(message_id_domain="school.example")

pytestmark = needs_chromium

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # en-US: the date field reads what is typed as month, day, year.
    context = browser.new_context(locale="en-US", viewport={"width": 800, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def base_url(sqlite_settings: Settings) -> Iterator[str]:
    with serving(sqlite_settings) as client:
        yield str(client.base_url)


def focused(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => {
            const e = document.activeElement;
            const style = getComputedStyle(e);
            return {id: e.id, tag: e.tagName.toLowerCase(), text: e.textContent.trim(),
                    value: e.value || "", outline: style.outlineStyle,
                    width: style.outlineWidth};
        }"""
    )
    return found


def tab_to(page: Page, *, id: str | None = None, text: str | None = None) -> None:
    """Press Tab until the wanted element has the focus, as a keyboard user moves through a
    page; every element passed on the way shows where the focus is."""
    for _ in range(40):
        page.keyboard.press("Tab")
        now = focused(page)
        assert (now["outline"], now["width"]) == ("solid", "3px"), now
        if (id is not None and now["id"] == id) or (text is not None and now["text"] == text):
            return
    raise AssertionError(f"Tab never reached {id or text!r}")


def planned(url: str, purpose: str, alumnus_id: int, *, now: datetime | None = None) -> str:
    """Plan a new campaign of ``purpose`` to the class; what it does for the alum."""
    campaign = add_campaign(url, purpose=purpose)
    planning.plan(engine_for(url), campaign, now=now or utcnow(), options=OPTIONS)
    (row,) = [d for d in deliveries(url, campaign) if d.alumnus_id == alumnus_id]
    return str(row.skip_reason or row.status)


def alum(url: str) -> int:
    return add_alumnus(url, "B-1", email="fia@example.org", first_name="Fia", timezone=ZONE)


def test_choosing_only_my_own_requests_by_keyboard(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    alumnus_id = alum(sqlite_url)
    page.goto(base_url + page_path(sqlite_settings, PREFERENCES, alumnus_id))

    tab_to(page, id="frequency-every")  # a radio group is entered at its chosen option
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focused(page)["id"] == "frequency-own_requests"
    tab_to(page, text="Save my preferences")
    page.keyboard.press("Enter")
    page.wait_for_url("**?saved=preferences")

    assert page.locator('[role="status"]').inner_text() == "Your preferences are saved."
    assert page.is_checked("#frequency-own_requests")
    keep(page, "preferences-own-requests")
    with engine_for(sqlite_url).connect() as connection:
        assert read_choice(connection, alumnus_id).frequency == Frequency.own_requests
    assert planned(sqlite_url, "news", alumnus_id) == "own_requests_only"
    assert planned(sqlite_url, "events", alumnus_id) == "own_requests_only"
    assert planned(sqlite_url, "service", alumnus_id) == "pending"


def test_turning_email_off_with_clicks(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    alumnus_id = alum(sqlite_url)
    page.goto(base_url + page_path(sqlite_settings, PREFERENCES, alumnus_id))

    page.get_by_label("Email").click()  # the label, as a person clicks the word
    assert not page.is_checked("#channel-email")
    page.get_by_role("button", name="Save my preferences").click()
    page.wait_for_url("**?saved=preferences")

    assert not page.is_checked("#channel-email")
    keep(page, "preferences-email-off")
    with engine_for(sqlite_url).connect() as connection:
        # the other box (Mastodon direct messages) stays as it was: ticked
        assert read_choice(connection, alumnus_id).channels == frozenset({"mastodon"})
    assert planned(sqlite_url, "news", alumnus_id) == "channel_off"
    assert planned(sqlite_url, "service", alumnus_id) == "pending"


def test_pausing_until_a_date_typed_by_keyboard(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    alumnus_id = alum(sqlite_url)
    page.goto(base_url + page_path(sqlite_settings, PREFERENCES, alumnus_id))
    today = utcnow().astimezone(ZoneInfo(ZONE)).date()

    # First a day in the past: the problem is said beside the field, nothing is saved.
    tab_to(page, id="pause_until")
    page.keyboard.type((today - timedelta(days=2)).strftime("%m%d%Y"))
    page.keyboard.press("Enter")
    problem = page.locator("#pause_until-problem")
    assert problem.inner_text() == "Choose a day after today."
    assert page.get_attribute("#pause_until", "aria-invalid") == "true"
    keep(page, "preferences-pause-refused")
    with engine_for(sqlite_url).connect() as connection:
        assert read_choice(connection, alumnus_id).paused_until is None

    until = today + timedelta(days=21)
    page.locator("#pause_until").focus()
    page.keyboard.type(until.strftime("%m%d%Y"))
    tab_to(page, text="Save my preferences")
    page.keyboard.press("Enter")
    page.wait_for_url("**?saved=preferences")

    assert f"Paused until {until:%B} {until.day}, {until.year}." in page.content()
    assert page.input_value("#pause_until") == until.isoformat()
    keep(page, "preferences-paused")
    with engine_for(sqlite_url).connect() as connection:
        paused_until = read_choice(connection, alumnus_id).paused_until
    assert paused_until == datetime(until.year, until.month, until.day, tzinfo=ZoneInfo(ZONE))
    assert planned(sqlite_url, "news", alumnus_id) == "paused"
    assert planned(sqlite_url, "events", alumnus_id) == "paused"
    assert planned(sqlite_url, "service", alumnus_id) == "pending"
    assert planned(sqlite_url, "news", alumnus_id, now=paused_until) == "pending"


def details_of(url: str, alumnus_id: int) -> list[Any]:
    table = table_of(ContactPoint)
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(table).where(table.c.alumnus_id == alumnus_id).order_by(table.c.id)
            )
        )


def test_confirming_a_detail_by_keyboard(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    alumnus_id = alum(sqlite_url)
    started = utcnow()
    page.goto(base_url + page_path(sqlite_settings, DETAILS, alumnus_id))
    assert page.locator(".value").inner_text() == "fia@example.org"

    tab_to(page, text="Yes, this is right")
    page.keyboard.press("Enter")
    page.wait_for_url("**?saved=confirmed")

    assert page.locator('[role="status"]').inner_text() == "Thank you: you confirmed this detail."
    keep(page, "details-confirmed")
    (detail,) = details_of(sqlite_url, alumnus_id)
    assert detail.status == "ok" and detail.verified_at >= started


def test_correcting_a_detail_with_clicks_and_typing(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    alumnus_id = alum(sqlite_url)
    page.goto(base_url + page_path(sqlite_settings, DETAILS, alumnus_id))

    page.get_by_label("New email address").click()
    page.keyboard.type("fia at home")
    page.keyboard.press("Enter")  # Enter in a field sends its form
    assert "This is not an email address we can use." in page.locator(".field-problem").inner_text()
    keep(page, "details-correction-refused")
    assert len(details_of(sqlite_url, alumnus_id)) == 1

    field = page.get_by_label("New email address")
    field.click()
    field.press("Control+a")
    page.keyboard.type("fia@home.example.net")
    page.get_by_role("button", name="Save the correction").click()
    page.wait_for_url("**?saved=corrected")

    assert page.locator(".value").inner_text() == "fia@home.example.net"
    keep(page, "details-corrected")
    old, new = details_of(sqlite_url, alumnus_id)
    assert old.value == "fia@example.org" and old.superseded_at is not None
    assert (new.value, new.source, new.superseded_at) == ("fia@home.example.net", "alum:web", None)
    assert new.verified_at == old.superseded_at
    # The next campaign goes to the corrected address.
    campaign = add_campaign(sqlite_url)
    planning.plan(engine_for(sqlite_url), campaign, now=utcnow(), options=OPTIONS)
    (row,) = deliveries(sqlite_url, campaign)
    assert row.address == "fia@home.example.net"


def test_answering_an_invitation_by_keyboard(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    (delivery,) = invited(sqlite_url, [{"timezone": "America/New_York", "locale": "pt-BR"}])
    page.goto(base_url + rsvp_path(sqlite_settings, delivery, "yes"))
    assert page.get_attribute("html", "lang") == "pt-BR"
    assert "seu horário, America/New_York" in page.content()

    tab_to(page, text="Sim, eu vou")
    page.keyboard.press("Enter")
    page.wait_for_url("**?saved=answer")

    assert "Obrigado: registramos sua resposta (Sim, eu vou)." in page.content()
    keep(page, "rsvp-answered")
    assert answers(sqlite_url) == [("yes", False)]


def test_unsubscribing_with_a_click(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    page.goto(base_url + unsubscribe_path(sqlite_settings, add_delivery(sqlite_url)))
    assert f"Stop news and event emails to {MASKED}?" in page.content()

    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()

    assert page.locator("h1").inner_text() == "You are unsubscribed"
    keep(page, "unsubscribed")
    assert scopes_of(sqlite_url, "Zoraida.Quellmotte@Example.org") == {"news", "events"}


def test_asking_for_a_letter_by_keyboard_and_clicks_then_reading_its_page(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    alumnus_id = alum(sqlite_url)
    page.goto(base_url + page_path(sqlite_settings, REQUEST, alumnus_id))
    assert page.get_attribute("html", "lang") == "en"

    # Sent empty with a click: each problem beside its field, nothing opened.
    page.get_by_role("button", name="Send my request").click()
    assert page.locator("#type-problem").inner_text() == "Choose what you need."
    assert page.locator("#summary-problem").inner_text() == "Tell us in a few words what you need."
    assert page.get_attribute("#summary", "aria-invalid") == "true"
    keep(page, "request-form-refused")
    assert not requests_of(sqlite_url)

    tab_to(page, id="type-letter")  # an unchecked group is entered at its first choice
    page.keyboard.press("Space")
    assert page.is_checked("#type-letter")
    tab_to(page, id="summary")
    page.keyboard.type("A letter for my master's application at Delft.")
    today = utcnow().astimezone(ZoneInfo(ZONE)).date()
    needed = today + timedelta(days=30)
    tab_to(page, id="deadline")
    page.keyboard.type(needed.strftime("%m%d%Y"))
    tab_to(page, text="Send my request")
    page.keyboard.press("Enter")
    page.wait_for_url("**?saved=opened")

    (request,) = requests_of(sqlite_url)
    assert page.locator("h1").inner_text() == f"Your request number {request.id}"
    assert page.locator('[role="status"]').inner_text().startswith("Thank you: we have your")
    assert "Recommendation letter" in page.content()
    assert f"({ZONE})" in page.content()
    keep(page, "request-status-opened")
    assert (request.type, request.source, request.status) == ("letter", "web", "open")
    assert request.deadline.astimezone(ZoneInfo(ZONE)).date() == needed
    # The acknowledgement left at once (no SMTP server set: the Maildir outbox).
    outbox = Path(sqlite_settings.outbox_dir) / "new"
    wait_for(lambda: outbox.is_dir() and any(outbox.iterdir()), "the acknowledgement")

    # Asking again from the page, for help this time, with clicks.
    page.get_by_role("link", name="Ask us for something else").click()
    page.get_by_label("Help and support").click()
    page.get_by_label("Tell us about it").fill("I would rather not say here.")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**?saved=opened")
    assert "This request is confidential" in page.content()
    assert "I would rather not say here." not in page.content()
    keep(page, "request-status-welfare")
    assert [r.type for r in requests_of(sqlite_url)] == ["letter", "welfare"]
