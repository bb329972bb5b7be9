"""Each stale-detail rule on crafted data, on SQLite and PostgreSQL (``doubts`` reads the rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import ContactPoint, table_of
from alumni.reach.freshness import (
    RULES,
    Doubt,
    FreshnessRules,
    Point,
    doubts,
    doubts_by_class,
    graduated,
    unverified_doubts,
)
from tests.factories import add_alumnus

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
RULES_HERE = FreshnessRules(
    stale_after_days=365, school_domains=frozenset({"school.edu"}), bouncing_domain_threshold=3
)


def _point(
    url: str,
    alumnus_id: int,
    kind: str,
    value: str,
    *,
    source: str = "alumni survey",
    verified_at: datetime | None = NOW,
    **values: object,
) -> int:
    with write_transaction(engine_for(url)) as connection:
        point_id: int = connection.execute(
            sa.insert(table_of(ContactPoint))
            .values(
                alumnus_id=alumnus_id,
                kind=kind,
                value=value,
                source=source,
                verified_at=verified_at,
                created_at=NOW - timedelta(days=3000),
                **values,
            )
            .returning(table_of(ContactPoint).c.id)
        ).scalar_one()
    return point_id


def _found(url: str, rule: str, class_year: int | None = None) -> dict[int, str]:
    with engine_for(url).connect() as connection:
        found = doubts(connection, now=NOW, rules=RULES_HERE, class_year=class_year, only=[rule])
    return {d.point.id: d.reason for d in found}


def test_a_phone_shared_by_different_surnames_is_doubtful(db_url: str) -> None:
    lima = add_alumnus(db_url, "A", last_name="Lima", class_year=2010)
    lima_sister = add_alumnus(db_url, "B", last_name="LIMA", class_year=2012)
    costa = add_alumnus(db_url, "C", last_name="Costa", class_year=2016)
    family = _point(db_url, lima, "phone", "+441632960001", label="landline")
    sister = _point(db_url, lima_sister, "phone", "+441632960001", label="landline")
    stranger = _point(db_url, costa, "phone", "+441632960001", label="landline")
    # Two Limas alone share a family number: fine.
    _point(db_url, lima, "phone", "+441632960002")
    _point(db_url, lima_sister, "phone", "+441632960002")
    # An old, superseded number of Costa's that a Lima holds now is not shared.
    _point(db_url, costa, "phone", "+441632960003", superseded_at=NOW)
    _point(db_url, lima, "phone", "+441632960003")

    found = _found(db_url, "shared_phone")

    assert set(found) == {family, sister, stranger}
    assert found[family] == "the same number is held for 1 other alum with a different surname"
    assert found[stranger] == "the same number is held for 2 other alumni with a different surname"
    # Listing one class still finds the holder of another class.
    assert set(_found(db_url, "shared_phone", class_year=2016)) == {stranger}


def test_an_enrolment_landline_not_verified_since_graduation_is_doubtful(db_url: str) -> None:
    alum = add_alumnus(db_url, "A", class_year=2010)
    at_enrolment = _point(
        db_url,
        alum,
        "phone",
        "+441632960001",
        label="landline",
        source="enrolment form",
        verified_at=datetime(2006, 9, 1, tzinfo=UTC),
    )
    from_file = _point(
        db_url,
        alum,
        "phone",
        "+441632960002",
        label="landline",
        source="import #3 (Enrollment_2006.csv)",
        verified_at=None,
    )
    # Verified after graduation, a mobile, or from another source: not this rule.
    _point(
        db_url,
        alum,
        "phone",
        "+441632960003",
        label="landline",
        source="enrolment form",
        verified_at=datetime(2015, 1, 1, tzinfo=UTC),
    )
    _point(db_url, alum, "phone", "+447700900001", label="mobile", source="enrolment form")
    _point(db_url, alum, "phone", "+441632960004", label="landline", verified_at=None)

    found = _found(db_url, "enrolment_landline")

    assert set(found) == {at_enrolment, from_file}
    assert found[at_enrolment] == (
        "a landline recorded at enrolment (enrolment form), not verified since the class of "
        "2010 graduated"
    )
    assert "never verified" in found[from_file]


def test_a_phone_of_another_country_than_the_alums_is_doubtful(db_url: str) -> None:
    in_brazil = add_alumnus(db_url, "A", country="BR")
    in_canada = add_alumnus(db_url, "B", country="CA")
    nowhere = add_alumnus(db_url, "C", country=None)
    british = _point(db_url, in_brazil, "phone", "+441632960001")
    _point(db_url, in_brazil, "phone", "+5511987654321")
    _point(db_url, in_canada, "phone", "+16135550123")  # +1 is Canada's code too
    _point(db_url, nowhere, "phone", "+441632960002")

    found = _found(db_url, "phone_country")

    assert found == {
        british: "the number's country code +44 (GB, GG, IM, JE) is not that of BR, "
        "where the alum lives"
    }


def test_an_address_at_a_domain_that_bounces_for_many_is_doubtful(db_url: str) -> None:
    for n, status in enumerate(("bouncing", "invalid", "bouncing")):
        add_alumnus(db_url, f"B{n}", email=f"b{n}@dead.example", email_status=status)
    still_ok = add_alumnus(db_url, "OK")
    at_dead = _point(db_url, still_ok, "email", "someone@Dead.Example")
    # Two bounced alumni are under the threshold of three.
    for n in range(2):
        add_alumnus(db_url, f"H{n}", email=f"h{n}@half.example", email_status="bouncing")
    _point(db_url, still_ok, "email", "someone@half.example")

    found = _found(db_url, "bouncing_domain")

    assert found[at_dead] == "addresses at dead.example bounced for 3 alumni"
    assert not any("half.example" in reason for reason in found.values())
    # The bounced ones are listed too (all but the invalid one: that is known dead already).
    assert len(found) == 3


def test_the_schools_own_address_after_graduation_is_doubtful(db_url: str) -> None:
    left = add_alumnus(db_url, "A", class_year=2020)
    still_there = add_alumnus(db_url, "B", class_year=2027)
    old = _point(db_url, left, "email", "a.lima@mail.school.edu")
    _point(db_url, left, "email", "a.lima@notschool.edu")
    _point(db_url, still_there, "email", "b.lima@school.edu")

    found = _found(db_url, "school_address")

    assert found == {
        old: "an address of the school (school.edu), usually closed after graduation "
        "(class of 2020)"
    }


def test_details_not_verified_for_long_are_stale(db_url: str) -> None:
    alum = add_alumnus(db_url, "A")
    never = _point(db_url, alum, "email", "never@example.org", verified_at=None)
    old = _point(db_url, alum, "email", "old@example.org", verified_at=NOW - timedelta(days=400))
    _point(db_url, alum, "email", "new@example.org", verified_at=NOW - timedelta(days=10))
    gone = add_alumnus(db_url, "D", status="deceased")
    _point(db_url, gone, "email", "gone@example.org", verified_at=None)

    assert _found(db_url, "unverified") == {
        never: "never verified",
        old: "last verified 400 days ago",
    }


def test_all_rules_together_by_class(db_url: str) -> None:
    a = add_alumnus(db_url, "A", class_year=2010, country="BR")
    b = add_alumnus(db_url, "B", class_year=2012, last_name="Costa")
    _point(db_url, a, "phone", "+441632960001")  # phone_country and shared_phone
    _point(db_url, b, "phone", "+441632960001")  # shared_phone
    _point(db_url, b, "email", "b@school.edu")  # school_address

    with engine_for(db_url).connect() as connection:
        everything = doubts(connection, now=NOW, rules=RULES_HERE)
        counts = doubts_by_class(connection, now=NOW, rules=RULES_HERE)

    assert [(d.point.alumnus_id, d.rule) for d in everything] == [
        (a, "shared_phone"),
        (a, "phone_country"),
        (b, "shared_phone"),
        (b, "school_address"),
    ]
    assert counts == {2010: 1, 2012: 2}


def test_an_unknown_rule_is_refused_naming_it(sqlite_url: str) -> None:
    with engine_for(sqlite_url).connect() as connection, pytest.raises(ValueError) as error:
        doubts(connection, now=NOW, rules=RULES_HERE, only=["vibes"])
    assert str(error.value) == f"unknown freshness rule 'vibes': use one of {', '.join(RULES)}"


def test_graduation_and_age_are_pure_rules_of_a_given_now() -> None:
    assert not graduated(2026, datetime(2026, 6, 30, 23, tzinfo=UTC))
    assert graduated(2026, datetime(2026, 7, 1, tzinfo=UTC))
    point = Point(1, 1, 2016, "Ana", "Lima", "GB", "email", "a@example.org", None, "x", NOW, "ok")
    assert unverified_doubts([point], now=NOW + timedelta(days=1095), stale_after_days=1095) == []
    assert unverified_doubts([point], now=NOW + timedelta(days=1096), stale_after_days=1095) == [
        Doubt(point, "unverified", "last verified 1096 days ago")
    ]


def test_a_detail_the_alum_confirmed_is_no_longer_doubted(db_url: str) -> None:
    a = add_alumnus(db_url, "A", country="BR")
    confirmed = _point(
        db_url, a, "phone", "+441632960001", source="confirmed by alum; first from x"
    )
    corrected = _point(db_url, a, "phone", "+441632960002", source="alum:web")
    long_ago = _point(
        db_url,
        a,
        "phone",
        "+441632960003",
        source="confirmed by alum; first from x",
        verified_at=NOW - timedelta(days=400),
    )

    assert set(_found(db_url, "phone_country")) == {long_ago}
    assert {confirmed, corrected}.isdisjoint(_found(db_url, "unverified"))
