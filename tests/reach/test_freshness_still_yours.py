"""Who one still-yours run asks: due alumni with a working email, doubtful details first across
every class, at most ALUMNI_STILL_YOURS_PER_RUN a run; months counted on the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.messages.page_links import PAGE_PATHS
from alumni.messages.rendering import TemplateStore
from alumni.models import ContactPoint, table_of
from alumni.reach.freshness import Doubt, FreshnessRules, Point
from alumni.reach.still_yours import choose_run, first_asked, months_before
from tests.factories import add_alumnus

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
RULES = FreshnessRules(stale_after_days=365)


def _phone(url: str, alumnus_id: int, value: str, **values: object) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(ContactPoint)).values(
                alumnus_id=alumnus_id,
                kind="phone",
                value=value,
                source="survey",
                created_at=NOW,
                **values,
            )
        )


def _verify_emails(url: str) -> None:
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.update(table_of(ContactPoint))
            .where(table_of(ContactPoint).c.kind == "email")
            .values(verified_at=NOW)
        )


def test_a_run_asks_doubtful_details_first_across_classes_up_to_its_limit(db_url: str) -> None:
    old_unverified = add_alumnus(db_url, "A", class_year=1990, email="a@example.org")
    _phone(db_url, old_unverified, "+442071234567", verified_at=NOW - timedelta(days=4000))
    never = add_alumnus(db_url, "B", class_year=2000, email="b@example.org")
    _phone(db_url, never, "+442071234568")
    doubtful = add_alumnus(db_url, "C", class_year=2020, email="c@example.org", country="BR")
    _phone(db_url, doubtful, "+442071234569", verified_at=NOW)  # a British number in Brazil
    no_email = add_alumnus(db_url, "D", class_year=2020)
    _phone(db_url, no_email, "+442071234570")
    _verify_emails(db_url)

    with engine_for(db_url).connect() as connection:
        run = {
            limit: choose_run(connection, now=NOW, rules=RULES, every_months=12, limit=limit)
            for limit in (1, 2, 10)
        }

    assert run[1] == {2020: [doubtful]}
    assert run[2] == {2000: [never], 2020: [doubtful]}
    assert run[10] == {1990: [old_unverified], 2000: [never], 2020: [doubtful]}


def _doubt(alumnus_id: int, rule: str, verified_at: datetime | None) -> Doubt:
    point = Point(
        alumnus_id, alumnus_id, 2016, "A", "B", "GB", "phone", "+44", None, "s", verified_at, "ok"
    )
    return Doubt(point, rule, "why")


def test_first_asked_is_doubtful_then_never_verified_then_oldest() -> None:
    alumni = {
        1: [_doubt(1, "unverified", NOW - timedelta(days=500))],
        2: [_doubt(2, "unverified", None)],
        3: [_doubt(3, "unverified", NOW - timedelta(days=900))],
        4: [_doubt(4, "unverified", NOW), _doubt(4, "shared_phone", NOW)],
    }
    assert first_asked(alumni) == [4, 2, 3, 1]


def test_months_are_counted_on_the_calendar() -> None:
    assert months_before(NOW, 12) == datetime(2025, 11, 30, 12, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


@pytest.mark.parametrize("locale", ["ar", "en", "es", "fr", "pt-BR"])
@pytest.mark.parametrize(
    ("template", "link"), [("still_yours", "details"), ("consent_question", "consent")]
)
def test_each_question_is_written_in_each_language_with_its_link(
    locale: str, template: str, link: str
) -> None:
    store = TemplateStore(ROOT / "templates")
    links = {name: f"https://alumni.school.example/{name}/TOKEN" for name in PAGE_PATHS}
    context = {
        "alum": {
            "first_name": "Ana",
            "last_name": "Lima",
            "class_year": 2016,
            "programme": None,
            "city": None,
            "country": "BR",
        },
        "cohort": {
            "year": 2016,
            "classmates": 3,
            "years_since": 10,
            "next_milestone": None,
            "next_milestone_year": None,
            "countries": 2,
        },
        "campaign": {"name": "x"},
        "office": {
            "name": "Alumni Office",
            "email": "alumni@school.example",
            "postal_address": "1 Road",
        },
        "links": {"unsubscribe": "https://alumni.school.example/unsubscribe/U", **links},
    }

    email = store.render_email(template, locale, context)

    assert email.locale == locale
    assert email.subject.startswith("Ana")
    assert links[link] in email.text and links[link] in email.html
    direction = ' dir="rtl"' if locale == "ar" else ""  # Arabic reads right to left
    assert f'<html lang="{locale}"{direction}>' in email.html
