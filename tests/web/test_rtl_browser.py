"""Arabic, right to left, in a real browser: an Egyptian alum's RSVP page, their "still yours?"
page and their reunion email, rendered by Debian's Chromium (Playwright), which must compute the
direction as ``rtl``. Screenshots are kept under ``tests/artifacts/pages/`` (printed).

Skipped when ``/usr/bin/chromium`` is absent (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.delivery.campaigns import preview
from alumni.messages.page_links import DETAILS
from alumni.models import Alumnus, table_of
from alumni.settings import Settings
from tests.browser import CHROMIUM, chromium, keep, needs_chromium
from tests.factories import add_campaign
from tests.web.pages import page_path
from tests.web.test_details import add_detail
from tests.web.test_rsvp_page import invited, rsvp_path
from tests.web_server import serving

pytestmark = needs_chromium

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page

LAYLA = {
    "locale": "ar-EG",
    "country": "EG",
    "timezone": "Africa/Cairo",
    "first_name": "ليلى",
    "last_name": "حداد",
}
# What a page's root and body compute to, and the box of an element: read by the browser.
DIRECTION = """() => ({
    dir: document.documentElement.dir,
    lang: document.documentElement.lang,
    html: getComputedStyle(document.documentElement).direction,
    body: getComputedStyle(document.body).direction,
    align: getComputedStyle(document.querySelector('h1, p')).textAlign,
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="ar-EG", viewport={"width": 800, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def base_url(sqlite_settings: Settings) -> Iterator[str]:
    with serving(sqlite_settings) as client:
        yield str(client.base_url)


def laid_out_right_to_left(page: Page) -> dict[str, Any]:
    seen: dict[str, Any] = page.evaluate(DIRECTION)
    assert seen["html"] == "rtl" and seen["body"] == "rtl", seen
    return seen


def test_the_rsvp_page_of_an_egyptian_alum_reads_right_to_left(
    page: Page, base_url: str, sqlite_url: str, sqlite_settings: Settings
) -> None:
    (delivery,) = invited(sqlite_url, [LAYLA])

    page.goto(base_url + rsvp_path(sqlite_settings, delivery, "yes"))

    seen = laid_out_right_to_left(page)
    assert seen["dir"] == "rtl" and seen["lang"] == "ar"
    text = page.inner_text("main")
    # The times in Cairo and in London, in Arabic, with Arabic labels (Babel, CLDR).
    assert "بتوقيتك، Africa/Cairo" in text and "بتوقيت الفعالية، Europe/London" in text
    assert "يونيو 2031" in text and "نعم، سأحضر" in page.inner_text("button")
    # Right to left, the heading starts at the right edge of the page.
    heading = page.locator("h1").bounding_box()
    main = page.locator("main").bounding_box()
    assert heading and main and heading["x"] + heading["width"] > main["x"] + main["width"] - 2
    keep(page, "rtl-rsvp-ar")


def test_the_details_page_shows_the_number_as_egypt_dials_it_left_to_right(
    page: Page, base_url: str, sqlite_url: str, sqlite_settings: Settings
) -> None:
    invited(sqlite_url, [LAYLA])  # an alum of the class of 2016, with an email
    engine = engine_for(sqlite_url)
    alumni = table_of(Alumnus)
    with write_transaction(engine) as connection:
        alumnus_id = connection.execute(sa.select(alumni.c.id)).scalar_one()
        connection.execute(sa.update(alumni).values(city="القاهرة"))
    phone = add_detail(sqlite_url, alumnus_id, "phone", "+201001234567", label="mobile")

    page.goto(base_url + page_path(sqlite_settings, DETAILS, alumnus_id))

    laid_out_right_to_left(page)
    text = page.inner_text("main")
    assert "ليلى، أكّد كل بيان" in text  # greeted by her given name, in Arabic
    assert "وفق سجلاتنا، تقيم في القاهرة، مصر." in text  # her city and country, in Arabic
    number = page.locator(f"#detail-{phone}-value bdi")
    assert number.inner_text() == "010 01234567"  # at home in Egypt: the national form
    assert number.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # A new number or address is typed left to right too.
    field = page.locator(f"#value-{phone}")
    assert field.evaluate("e => getComputedStyle(e).direction") == "ltr"
    keep(page, "rtl-details-ar")


def test_the_arabic_reunion_email_reads_right_to_left(
    page: Page, sqlite_url: str, sqlite_settings: Settings
) -> None:
    invited(sqlite_url, [LAYLA])  # the class of 2016, with Layla in it
    campaign_id = add_campaign(sqlite_url, template="reunion")

    email = preview(engine_for(sqlite_url), campaign_id, alumnus="V0")

    assert email.locale == "ar" and '<html lang="ar" dir="rtl">' in email.html
    assert "مرحبًا ليلى،" in email.text and "مرحبًا ليلى،" in email.html
    page.set_content(email.html)
    laid_out_right_to_left(page)
    assert "دفعة 2016" in page.inner_text("body")
    keep(page, "rtl-email-reunion-ar")
