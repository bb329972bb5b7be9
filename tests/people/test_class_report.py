"""The per-class reach report, column by column, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console
from sqlalchemy.engine import Connection, Engine

from alumni.db import engine_for, write_transaction
from alumni.models import Alumnus, ContactPoint, table_of
from alumni.people.class_report import (
    REPORT_COLUMNS,
    ClassRow,
    class_report,
    render_table,
    to_csv,
    to_json,
    total,
)
from alumni.people.seeding import generate_rows

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(days=30)
ALUMNI = table_of(Alumnus)
CONTACTS = table_of(ContactPoint)
_serial = itertools.count(1)


def add_alum(
    connection: Connection,
    *,
    class_year: int = 2001,
    status: str = "active",
    country: str | None = "GB",
) -> int:
    result = connection.execute(
        sa.insert(ALUMNI).values(
            external_id=f"T{next(_serial)}",
            first_name="Ada",
            last_name="Test",
            class_year=class_year,
            country=country,
            status=status,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_contact(
    connection: Connection,
    alumnus_id: int,
    kind: str,
    *,
    status: str = "ok",
    verified_at: datetime | None = RECENT,
    superseded_at: datetime | None = None,
) -> None:
    connection.execute(
        sa.insert(CONTACTS).values(
            alumnus_id=alumnus_id,
            kind=kind,
            value=f"{kind}-{next(_serial)}",
            source="test",
            status=status,
            verified_at=verified_at,
            superseded_at=superseded_at,
            created_at=NOW,
        )
    )


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    yield engine_for(db_url)


def report(engine: Engine, **kwargs: Any) -> list[ClassRow]:
    with engine.connect() as connection:
        return class_report(connection, now=NOW, **kwargs)


def test_each_column_follows_its_definition(engine: Engine) -> None:
    with write_transaction(engine) as c:
        email_only = add_alum(c, country="GB")
        add_contact(c, email_only, "email")
        replaced_email = add_alum(c, country="FR")  # its email was replaced; only a phone is left
        add_contact(c, replaced_email, "email", superseded_at=RECENT)
        add_contact(c, replaced_email, "phone")
        bouncing = add_alum(c, country="GB")  # bouncing email, but Mastodon works
        add_contact(c, bouncing, "email", status="bouncing")
        add_contact(c, bouncing, "mastodon")
        both = add_alum(c, country=None)
        add_contact(c, both, "email")
        add_contact(c, both, "bluesky")
        email_and_phone = add_alum(c, country="KE")
        add_contact(c, email_and_phone, "email")
        add_contact(c, email_and_phone, "phone")
        bad_phone = add_alum(c, country="KE")
        add_contact(c, bad_phone, "phone", status="invalid")
        do_not_contact = add_alum(c, status="do_not_contact", country="BR")
        add_contact(c, do_not_contact, "email")
        add_alum(c, status="lost", country="BR")
        deceased = add_alum(c, status="deceased", country="JP")
        add_contact(c, deceased, "email")
        add_alum(c, status="erased", country="JP")
        superseded_social = add_alum(c, country="GB")
        add_contact(c, superseded_social, "bluesky", superseded_at=RECENT)

    (row,) = report(engine)
    assert row == ClassRow(
        class_year=2001,
        alumni=11,  # everyone, the deceased and the erased included
        by_email=3,  # email_only, both, email_and_phone
        by_social=2,  # bouncing (via Mastodon), both
        phone_only=1,  # replaced_email
        unreachable=4,  # bad_phone, do_not_contact, lost, superseded_social
        deceased=1,
        erased=1,
        stale_contacts=0,
        countries=4,  # GB, FR, KE, BR: the deceased's and erased's JP does not count
    )
    assert row.country_codes == {"GB", "FR", "KE", "BR"}


def test_stale_contacts_boundary_history_and_the_deceased(engine: Engine) -> None:
    cutoff = NOW - timedelta(days=1095)
    with write_transaction(engine) as c:
        alum = add_alum(c)
        add_contact(c, alum, "email", verified_at=cutoff)  # exactly at the limit: fresh
        add_contact(c, alum, "phone", verified_at=cutoff - timedelta(seconds=1))  # stale
        add_contact(c, alum, "mastodon", verified_at=None)  # never verified: stale
        add_contact(c, alum, "bluesky", status="bouncing", verified_at=None)  # stale too
        add_contact(c, alum, "email", verified_at=None, superseded_at=RECENT)  # history: ignored
        deceased = add_alum(c, status="deceased")
        add_contact(c, deceased, "email", verified_at=None)

    (row,) = report(engine)
    assert row.stale_contacts == 3
    (row,) = report(engine, stale_after_days=2000)
    assert row.stale_contacts == 2
    (row,) = report(engine, stale_after_days=10)
    assert row.stale_contacts == 4


def test_classes_are_ascending_filterable_and_total_counts_distinct_countries(
    engine: Engine,
) -> None:
    with write_transaction(engine) as c:
        for year, country in ((2010, "GB"), (1990, "GB"), (1990, "IN"), (2010, "AU")):
            add_contact(c, add_alum(c, class_year=year, country=country), "email")
        add_alum(c, class_year=1975, status="deceased", country="FR")  # nobody left to reach

    rows = report(engine)
    assert [row.class_year for row in rows] == [1975, 1990, 2010]
    assert [row.countries for row in rows] == [0, 2, 2]
    summary = total(rows)
    assert (summary.class_year, summary.alumni, summary.by_email) == (None, 5, 4)
    assert (summary.deceased, summary.countries) == (1, 3)
    (only,) = report(engine, class_year=2010)
    assert (only.class_year, only.alumni, only.countries) == (2010, 2, 2)
    (gone,) = report(engine, class_year=1975)
    assert (gone.alumni, gone.deceased, gone.unreachable) == (1, 1, 0)


def test_statement_count_does_not_grow_with_the_number_of_alumni(engine: Engine) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with write_transaction(engine) as c:
        for year in range(1980, 2020):
            for _ in range(3):
                add_contact(c, add_alum(c, class_year=year), "email")
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        rows = report(engine)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 40
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_naive_now_is_refused(engine: Engine) -> None:
    with engine.connect() as connection, pytest.raises(ValueError, match="timezone-aware"):
        class_report(connection, now=datetime(2025, 6, 1))


def when(text: str) -> datetime | None:
    """The CSV's ISO date as midnight UTC (how an importer would store it); "" is None."""
    return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC) if text else None


def _load(connection: Connection, rows: list[dict[str, str]]) -> None:
    """Insert generated rows the simple way (one alum, then its details)."""
    for row in rows:
        alum = add_alum(
            connection,
            class_year=int(row["class_year"]),
            status=row["status"],
            country=row["country"],
        )
        if row["email"]:
            add_contact(
                connection,
                alum,
                "email",
                status=row["email_status"],
                verified_at=when(row["email_verified_at"]),
            )
        if row["phone"]:
            add_contact(connection, alum, "phone", verified_at=when(row["phone_verified_at"]))
        for kind in ("mastodon", "bluesky"):
            if row[kind]:
                add_contact(connection, alum, kind, verified_at=None)


def test_matches_a_row_by_row_count_of_a_generated_population(engine: Engine) -> None:
    rows = list(generate_rows(600, seed=4, today=NOW.date()))
    with write_transaction(engine) as c:
        _load(c, rows)
    cutoff = NOW - timedelta(days=1095)
    expected: dict[int, dict[str, Any]] = {}
    for row in rows:
        counts = expected.setdefault(
            int(row["class_year"]),
            dict.fromkeys(REPORT_COLUMNS[1:-1], 0) | {"countries": set()},
        )
        counts["alumni"] += 1
        if row["status"] == "deceased":
            counts["deceased"] += 1
            continue
        active = row["status"] == "active"
        email = active and row["email_status"] == "ok"
        social = active and bool(row["mastodon"] or row["bluesky"])
        phone = active and bool(row["phone"])
        counts["by_email"] += email
        counts["by_social"] += social
        counts["phone_only"] += phone and not email and not social
        counts["unreachable"] += not (email or social or phone)
        counts["countries"].add(row["country"])
        verified = [row["email_verified_at"]] if row["email"] else []
        verified += [row["phone_verified_at"]] if row["phone"] else []
        verified += [""] * (bool(row["mastodon"]) + bool(row["bluesky"]))
        stamps = [when(text) for text in verified]
        counts["stale_contacts"] += sum(1 for stamp in stamps if stamp is None or stamp < cutoff)
    got = {
        row.class_year: {name: getattr(row, name) for name in REPORT_COLUMNS[1:]}
        for row in report(engine)
    }
    for counts in expected.values():
        counts["countries"] = len(counts["countries"])
    assert got == expected
    assert sum(row["alumni"] for row in got.values()) == total(report(engine)).alumni


def test_renderers_show_the_same_numbers(engine: Engine) -> None:
    with write_transaction(engine) as c:
        add_contact(c, add_alum(c, class_year=1999, country="DE"), "email")
        add_contact(c, add_alum(c, class_year=2005, country="MX"), "phone")
    rows = report(engine)

    records = json.loads(to_json(rows))
    assert [tuple(record) for record in records] == [REPORT_COLUMNS] * 2
    assert records[1] == {
        "class_year": 2005,
        "alumni": 1,
        "by_email": 0,
        "by_social": 0,
        "phone_only": 1,
        "unreachable": 0,
        "deceased": 0,
        "erased": 0,
        "stale_contacts": 0,
        "countries": 1,
    }
    assert json.loads(to_json([total(rows)]))[0]["class_year"] is None

    table = list(csv.reader(io.StringIO(to_csv([*rows, total(rows)]))))
    assert table[0] == list(REPORT_COLUMNS)
    assert table[1] == ["1999", "1", "1", "0", "0", "0", "0", "0", "0", "1"]
    assert table[3] == ["all", "2", "1", "0", "1", "0", "0", "0", "0", "2"]

    console = Console(file=io.StringIO(), width=140, color_system=None)
    console.print(render_table(rows))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    lines = [line for line in text.splitlines() if "1999" in line or "all" in line.split()]
    assert len(lines) == 2
    assert lines[1].split() == ["all", "2", "1", "0", "1", "0", "0", "0", "0", "2"]


def test_the_table_fits_an_80_column_terminal_with_whole_headers_and_figures() -> None:
    big = ClassRow(
        class_year=2016,
        alumni=312_345,
        by_email=250_001,
        by_social=12_345,
        phone_only=1_234,
        unreachable=48_765,
        deceased=1_000,
        erased=12,
        stale_contacts=123_456,
        countries=181,
        country_codes=frozenset({"GB"}),
    )
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(render_table([big, replace(big, class_year=2015)]))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert max(map(len, text.splitlines())) <= 80
    assert "…" not in text
    words = text.split()
    for header in ("Class", "Alumni", "By email", "Stale details", "Deceased", "Countries"):
        assert all(word in words for word in header.split()), header
    (total_line,) = [line for line in text.splitlines() if line.split()[:1] == ["all"]]
    assert total_line.split() == [
        "all", "624,690", "500,002", "24,690", "2,468", "97,530", "2,000", "24", "246,912", "1"
    ]  # fmt: skip
