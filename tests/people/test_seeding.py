"""The sample population: deterministic, worldwide, and untidy in the ways real alumni files are.

Checked against independent sources: phone numbers with ``phonenumbers``' parser, time zones with
``zoneinfo`` and the tz database's own ``zone.tab`` (country -> zones), addresses with
``email-validator``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from importlib.resources import files
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from email_validator import validate_email
from phonenumbers import PhoneNumberType

from alumni.people.seeding import COLUMNS, ascii_key, class_sizes, generate_rows, write_csv

TODAY = date(2025, 6, 1)
COUNT = 6000


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate_rows(COUNT, seed=11, today=TODAY))


def share(rows: list[dict[str, str]], predicate: Callable[[dict[str, str]], bool]) -> float:
    return sum(1 for row in rows if predicate(row)) / len(rows)


def test_same_arguments_give_the_same_rows_and_another_seed_other_rows() -> None:
    first = list(generate_rows(400, seed=5, today=TODAY))
    assert first == list(generate_rows(400, seed=5, today=TODAY))
    assert first != list(generate_rows(400, seed=6, today=TODAY))
    assert first != list(generate_rows(400, seed=5, today=date(2026, 6, 1)))


def test_rows_have_exactly_the_import_columns_as_strings(rows: list[dict[str, str]]) -> None:
    for row in rows:
        assert tuple(row) == COLUMNS
        assert all(isinstance(value, str) for value in row.values())
    ids = [row["external_id"] for row in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"A\d{6}", external_id) for external_id in ids)


def test_count_is_exact_and_zero_gives_nothing() -> None:
    assert list(generate_rows(0, today=TODAY)) == []
    assert len(list(generate_rows(17, today=TODAY))) == 17
    with pytest.raises(ValueError, match="count"):
        list(generate_rows(-1, today=TODAY))


def test_every_class_year_has_people_and_classes_grow(rows: list[dict[str, str]]) -> None:
    per_year = Counter(int(row["class_year"]) for row in rows)
    assert sorted(per_year) == list(range(TODAY.year - 55, TODAY.year))
    years = sorted(per_year)
    oldest = sum(per_year[year] for year in years[:10])
    newest = sum(per_year[year] for year in years[-10:])
    assert newest > 3 * oldest
    sizes = class_sizes(60, 55, Random(1))
    assert sum(sizes) == 60 and min(sizes) == 1
    assert class_sizes(10, 55, Random(1))[-10:] == [1] * 10


def test_at_least_twenty_countries_with_their_own_zones_and_locales(
    rows: list[dict[str, str]],
) -> None:
    zone_tab = (files("tzdata.zoneinfo") / "zone.tab").read_text()
    zones_of: defaultdict[str, set[str]] = defaultdict(set)
    for line in zone_tab.splitlines():
        if line and not line.startswith("#"):
            code, _, zone, *_ = line.split("\t")
            zones_of[code].add(zone)
    countries = {row["country"] for row in rows}
    assert len(countries) >= 20
    seen_zones = set()
    for row in rows:
        if row["timezone"]:
            ZoneInfo(row["timezone"])
            assert row["timezone"] in zones_of[row["country"]], row
            seen_zones.add(row["timezone"])
        assert re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", row["locale"]), row
        assert row["locale"].endswith("-" + row["country"]), row
    assert {"Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo", "Africa/Johannesburg"} <= (
        seen_zones
    )
    for country in ("US", "BR", "AU", "CA"):
        assert len({row["timezone"] for row in rows if row["country"] == country} - {""}) > 2


def test_names_are_native_and_include_non_ascii_letters(rows: list[dict[str, str]]) -> None:
    names = {row["first_name"] for row in rows} | {row["last_name"] for row in rows}
    assert not {"Zoë", "José", "Łukasz", "Müller", "Nguyễn"} - names
    assert share(rows, lambda row: not (row["first_name"] + row["last_name"]).isascii()) > 0.1
    assert ascii_key("Łukasz") == "lukasz"
    assert ascii_key("Nguyễn") == "nguyen"
    assert ascii_key("O'Brien") == "obrien"


def test_every_phone_is_valid_for_its_country_in_mixed_formats(
    rows: list[dict[str, str]],
) -> None:
    styles: Counter[str] = Counter()
    for row in rows:
        if not row["phone"]:
            continue
        number = phonenumbers.parse(row["phone"], row["country"])
        assert phonenumbers.is_valid_number_for_region(number, row["country"]), row
        styles["international" if row["phone"].startswith("+") else "national"] += 1
        if row["phone_source"] == "enrolment form":
            assert phonenumbers.number_type(number) in (
                PhoneNumberType.FIXED_LINE,
                PhoneNumberType.FIXED_LINE_OR_MOBILE,
            ), row
    assert styles["national"] > 0.3 * styles.total()
    assert styles["international"] > 0.3 * styles.total()


def test_emails_are_unique_valid_and_at_reserved_domains(rows: list[dict[str, str]]) -> None:
    emails = [row["email"] for row in rows if row["email"]]
    assert len({email.lower() for email in emails}) == len(emails)
    domains = Counter(email.rsplit("@", 1)[1] for email in emails)
    assert len(domains) >= 8
    for domain in domains:
        assert domain.endswith(".example") or domain in {
            "example.com",
            "example.org",
            "example.net",
        }
    for email in emails[:: max(1, len(emails) // 400)]:
        validate_email(email, check_deliverability=False)


def test_shares_of_landline_only_dead_domain_and_social(rows: list[dict[str, str]]) -> None:
    landline_only = share(
        rows, lambda row: row["phone_source"] == "enrolment form" and not row["email"]
    )
    dead = share(rows, lambda row: row["email_status"] == "bouncing")
    mastodon = share(rows, lambda row: bool(row["mastodon"]))
    bluesky = share(rows, lambda row: bool(row["bluesky"]))
    assert 0.06 < landline_only < 0.10
    assert 0.035 < dead < 0.065
    assert 0.07 < mastodon < 0.13
    assert 0.07 < bluesky < 0.13
    for row in rows:
        if row["mastodon"]:
            assert re.fullmatch(r"@[a-z0-9_]+@[a-z0-9.-]+\.example", row["mastodon"]), row
        if row["bluesky"]:
            labels = row["bluesky"].split(".")
            assert all(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", x) for x in labels)


def test_old_landlines_and_dead_addresses_look_their_age(rows: list[dict[str, str]]) -> None:
    for row in rows:
        if row["phone_source"] == "enrolment form":
            assert not row["email"] and not row["mastodon"] and not row["bluesky"]
            verified = date.fromisoformat(row["phone_verified_at"])
            assert verified.year <= max(2005, int(row["class_year"]) - 3)
            assert (TODAY - verified).days > 3 * 365
        if row["email_status"] == "bouncing":
            assert row["email"].split("@")[1].endswith(".example")
            assert (TODAY - date.fromisoformat(row["email_verified_at"])).days > 1095


def test_verification_dates_are_mostly_recent_some_stale_some_blank(
    rows: list[dict[str, str]],
) -> None:
    with_email = [row for row in rows if row["email_status"] == "ok"]
    ages = [
        (TODAY - date.fromisoformat(row["email_verified_at"])).days
        for row in with_email
        if row["email_verified_at"]
    ]
    assert all(age >= 0 for age in ages)
    recent = sum(1 for age in ages if age <= 1095) / len(with_email)
    stale = sum(1 for age in ages if age > 1095) / len(with_email)
    blank = 1 - len(ages) / len(with_email)
    assert recent > 0.55 and 0.1 < stale < 0.35 and 0.05 < blank < 0.25
    for row in rows:
        for column in ("email_verified_at", "phone_verified_at"):
            if row[column]:
                enrolled = date(int(row["class_year"]) - 5, 1, 1)
                assert min(enrolled, date(1995, 1, 1)) <= date.fromisoformat(row[column]) <= TODAY


def test_statuses_and_consents(rows: list[dict[str, str]]) -> None:
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) == {"active", "deceased", "do_not_contact", "lost"}
    assert statuses["active"] > 0.85 * len(rows)
    contact_columns = ("email", "phone", "mastodon", "bluesky")
    for row in rows:
        if row["status"] == "lost":
            assert not any(row[column] for column in contact_columns), row
        answers = {row["consent_news"], row["consent_events"], row["consent_service"]}
        assert answers <= {"yes", "no", ""}
        assert bool(row["consent_evidence"]) == (answers != {""}), row
    news = Counter(row["consent_news"] for row in rows)
    assert news["yes"] > news["no"] > 0 and news[""] > 0
    assert any(re.fullmatch(r"alumni card \d{4}", row["consent_evidence"]) for row in rows)


def test_each_class_of_five_or_more_has_reachable_ambassadors(
    rows: list[dict[str, str]],
) -> None:
    ambassadors = Counter(row["class_year"] for row in rows if row["ambassador"] == "yes")
    for year, size in Counter(row["class_year"] for row in rows).items():
        if size >= 5:
            assert 1 <= ambassadors[year] <= 4, year
    for row in rows:
        assert row["ambassador"] in {"yes", ""}
        if row["ambassador"]:
            assert row["status"] == "active" and row["email_status"] == "ok", row


def test_write_csv_round_trips_including_values_that_need_quoting(tmp_path: Path) -> None:
    rows = list(generate_rows(120, seed=2, today=TODAY))
    rows[3] = {**rows[3], "last_name": 'O"Neil, Jr.', "city": "Line\nbreak"}
    path = tmp_path / "alumni.csv"
    assert write_csv(path, rows) == 120
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        assert list(reader) == rows
