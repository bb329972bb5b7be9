"""The tip form in a real browser (Debian's Chromium driven by Playwright, against the app served
by uvicorn): an alum tells us how to reach a lost classmate; the tip is stored, waits for an
officer, and nothing in it is used. The found alum's consent page, yes and no.

Skipped when ``/usr/bin/chromium`` is absent (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.messages.page_links import CONSENT, TIP
from alumni.models import Consent, ContactPoint, ReachTip, Request, table_of
from alumni.settings import Settings
from tests.browser import CHROMIUM, chromium, keep, needs_chromium
from tests.factories import add_alumnus
from tests.mail_servers import wait_for
from tests.web.pages import assert_accessible, page_path, submit
from tests.web_server import serving

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page

browser_only = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 800, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def base_url(sqlite_settings: Settings) -> Iterator[str]:
    with serving(sqlite_settings) as client:
        yield str(client.base_url)


def classmates(url: str) -> tuple[int, int, int]:
    """A tipster, a lost classmate (an old address that bounced for good) and a found one."""
    tipster = add_alumnus(url, "T", first_name="Tomás", email="tomas@example.org")
    lost = add_alumnus(
        url,
        "L",
        first_name="Bea",
        last_name="Costa",
        email="old@dead.example",
        email_status="invalid",
    )
    add_alumnus(url, "F", first_name="Caio", last_name="Dias", email="caio@example.org")
    return tipster, lost, add_alumnus(url, "O", class_year=2015, first_name="Xu", last_name="Li")


def rows(url: str, model: type) -> list[sa.Row]:  # type: ignore[type-arg]
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(table_of(model))))


@browser_only
def test_an_alum_tells_us_how_to_reach_a_lost_classmate_in_the_browser(
    sqlite_url: str, sqlite_settings: Settings, base_url: str, page: Page
) -> None:
    tipster, lost, _ = classmates(sqlite_url)
    points_before = rows(sqlite_url, ContactPoint)
    page.goto(base_url + page_path(sqlite_settings, TIP, tipster))

    # Names only: the lost classmate of their class, never the found one or anyone's details.
    options = page.locator("#lost option").all_inner_texts()
    assert options == ["Choose a classmate", "Bea Costa"]
    assert "old@dead.example" not in page.content()
    page.get_by_label("Whom do you know how to reach?").select_option(label="Bea Costa")
    page.get_by_label("Email").check()
    page.get_by_label("Their address, number or handle").fill("not an address")
    page.get_by_label("How do you know it?").fill("We work together at the harbour.")
    page.get_by_role("button", name="Send the tip").click()
    assert page.locator("#value-problem").inner_text().startswith("This is not an email address")
    assert rows(sqlite_url, ReachTip) == []

    page.get_by_label("Their address, number or handle").fill("Bea.Costa@Example.net")
    page.get_by_role("button", name="Send the tip").click()

    assert page.get_by_role("status").inner_text().startswith("Thank you: an officer will check")
    keep(page, "tip-form-sent")
    (tip,) = rows(sqlite_url, ReachTip)
    assert (tip.tipster_id, tip.lost_alumnus_id, tip.kind, tip.value, tip.status) == (
        tipster,
        lost,
        "email",
        "Bea.Costa@example.net",  # the domain lower-cased, as the import stores it
        "pending",
    )
    assert tip.how_known == "We work together at the harbour."
    (request,) = rows(sqlite_url, Request)
    assert (request.id, request.alumnus_id, request.type, request.source) == (
        tip.request_id,
        tipster,
        "question",
        "web",
    )
    assert "Bea.Costa@example.net" not in request.summary  # the officer reads it in `tips list`
    # The desk's acknowledgement goes to the tipster at once (no SMTP here: the outbox).
    sent = sqlite_settings.outbox_dir / "new"
    wait_for(lambda: sent.exists() and len(list(sent.iterdir())) == 1, "the acknowledgement")
    (acknowledgement,) = sent.iterdir()
    assert b"To: tomas@example.org" in acknowledgement.read_bytes()
    # Nothing is used until an officer verifies it: Bea's details are as they were.
    assert rows(sqlite_url, ContactPoint) == points_before

    # One tip per classmate and link: a second is refused, nothing more stored.
    page.get_by_label("Whom do you know how to reach?").select_option(label="Bea Costa")
    page.get_by_label("Their address, number or handle").fill("bea@example.org")
    page.get_by_label("How do you know it?").fill("Again.")
    page.get_by_role("button", name="Send the tip").click()
    assert "already told us about this classmate" in page.get_by_role("status").inner_text()
    assert len(rows(sqlite_url, ReachTip)) == 1


def test_the_tip_form_refuses_without_its_form_token_and_speaks_the_alums_language(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    tipster = add_alumnus(sqlite_url, "T", locale="fr", email="t@example.org")
    lost = add_alumnus(sqlite_url, "L", first_name="Bea", last_name="Costa")
    path = page_path(sqlite_settings, TIP, tipster)

    shown = sqlite_client.get(path)
    forged = sqlite_client.post(
        path, data={"lost": str(lost), "kind": "email", "value": "b@example.net", "how_known": "x"}
    )

    assert shown.status_code == 200
    assert_accessible(shown.text, lang="fr")
    assert "Aidez-nous à retrouver un camarade" in shown.text
    assert forged.status_code == 403
    assert rows(sqlite_url, ReachTip) == []
    other_page = sqlite_client.get(
        page_path(sqlite_settings, CONSENT, tipster).replace("consent", "tip")
    )
    assert other_page.status_code == 400  # a consent link does not open the tip form


@pytest.mark.parametrize(("answer", "granted"), [("yes", True), ("no", False)])
def test_the_found_alum_answers_the_consent_question(
    sqlite_url: str,
    sqlite_settings: Settings,
    sqlite_client: httpx.Client,
    answer: str,
    granted: bool,
) -> None:
    alum = add_alumnus(sqlite_url, "L", email="bea@example.net")
    path = page_path(sqlite_settings, CONSENT, alum)

    saved = submit(sqlite_client, path, answer=answer)

    assert saved.status_code == 303
    consents = {(c.purpose, c.granted) for c in rows(sqlite_url, Consent)}
    if granted:
        assert consents == {("news", True), ("events", True)}
    else:
        assert consents == {("news", False), ("events", False), ("service", False)}
