import csv
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from typer.testing import CliRunner

from alumni.db import engine_for, write_transaction
from alumni.models import Alumnus, Ambassador, Consent, ContactPoint, table_of
from alumni.people.importing import CsvFileError, import_csv
from alumni.people.suppression import suppress
from alumni.people.validation import COLUMNS, normalise_email
from tests.snapshot import dump_tables

TODAY = date(2026, 11, 28)
ROWS = [
    {
        "external_id": "S001",
        "first_name": "Zoë",
        "last_name": "Müller",
        "class_year": "2016",
        "programme": "Physics",
        "email": "Zoe.Muller@Example.COM",
        "phone": "020 7946 0958",
        "phone_verified_at": "2024-05-01",
        "country": "gb",
        "city": "London",
        "timezone": "Europe/London",
        "locale": "en_gb",
        "mastodon": "zoe@mastodon.example",
        "consent_news": "yes",
        "consent_events": "Y",
        "consent_service": "",
        "ambassador": "yes",
    },
    {
        "external_id": "S002",
        "first_name": "José",
        "last_name": "Silva",
        "class_year": "2016",
        "email": "jose@example.org",
        "phone": "+55 11 91234-5678",
        "country": "BR",
        "timezone": "America/Sao_Paulo",
        "locale": "pt-br",
        "bluesky": "@jose.bsky.example",
        "consent_news": "no",
    },
    {
        "external_id": "S003",
        "first_name": "Aarav",
        "last_name": "Sharma",
        "class_year": "1999",
        "phone": "011 2345 6789",
        "phone_source": "enrolment form",
        "country": "IN",
        "timezone": "Asia/Kolkata",
        "locale": "hi-IN",
        "status": "lost",
    },
]


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    columns: tuple[str, ...] = COLUMNS,
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=list(columns), delimiter=delimiter, extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def contacts(engine: sa.Engine, external_id: str) -> list[tuple]:
    a, cp = table_of(Alumnus), table_of(ContactPoint)
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                sa.select(
                    cp.c.kind,
                    cp.c.value,
                    cp.c.label,
                    cp.c.superseded_at.is_not(None),
                    cp.c.import_run_id,
                    cp.c.superseded_by_import_id,
                    cp.c.source,
                )
                .join(a, a.c.id == cp.c.alumnus_id)
                .where(a.c.external_id == external_id)
                .order_by(cp.c.id)
            )
        ]


def test_import_normalises_and_stores_everything(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    result = import_csv(engine, write_csv(tmp_path / "a.csv", ROWS), today=TODAY)
    assert result.committed and (result.created, result.rows) == (3, 3) and not result.problems
    with engine.connect() as connection:
        people = {r.external_id: r for r in connection.execute(sa.select(table_of(Alumnus)))}
        consents = connection.execute(sa.select(table_of(Consent))).all()
        ambassadors = connection.execute(sa.select(table_of(Ambassador))).all()
    assert people["S001"].country == "GB" and people["S001"].locale == "en-GB"
    assert people["S002"].locale == "pt-BR" and people["S003"].status == "lost"
    assert contacts(engine, "S001") == [
        ("email", "Zoe.Muller@example.com", None, False, 1, None, "import #1 (a.csv)"),
        ("phone", "+442079460958", "landline", False, 1, None, "import #1 (a.csv)"),
        ("mastodon", "@zoe@mastodon.example", None, False, 1, None, "import #1 (a.csv)"),
    ]
    assert contacts(engine, "S002")[1][1:3] == ("+5511912345678", "mobile")
    assert contacts(engine, "S002")[2][1] == "jose.bsky.example"
    assert contacts(engine, "S003")[0][6] == "enrolment form"
    assert sorted((c.purpose, c.granted) for c in consents) == [
        ("events", True),
        ("news", False),
        ("news", True),
    ]
    assert [(a.class_year) for a in ambassadors] == [2016]


def test_reimport_changes_nothing(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    path = write_csv(tmp_path / "a.csv", ROWS)
    import_csv(engine, path, today=TODAY)
    before = dump_tables(engine)
    again = import_csv(engine, path, today=TODAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    after = dump_tables(engine)
    for name in after:
        if name not in ("importrun", "alumnus"):
            assert after[name] == before[name], name
    # alumni rows only record which import last saw them
    strip = lambda rows: [r[:-1] for r in rows]  # noqa: E731
    assert strip(after["alumnus"]) == strip(before["alumnus"])


def test_changed_email_keeps_the_old_one_as_history(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    import_csv(engine, write_csv(tmp_path / "a.csv", ROWS), today=TODAY)
    changed = [dict(ROWS[0], email="zoe@newmail.example", phone=""), *ROWS[1:]]
    result = import_csv(engine, write_csv(tmp_path / "b.csv", changed), today=TODAY)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    history = contacts(engine, "S001")
    assert history[0][:2] == ("email", "Zoe.Muller@example.com")
    assert history[0][3:6] == (True, 1, 2)  # superseded, by import 2
    assert history[-1][:2] == ("email", "zoe@newmail.example") and history[-1][3] is False
    # a blank phone means "not known": the phone stays current
    assert next(h for h in history if h[0] == "phone")[3] is False


def test_invalid_rows_write_nothing_and_are_named(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    import_csv(engine, write_csv(tmp_path / "a.csv", ROWS[:1]), today=TODAY)
    before = dump_tables(engine)
    bad = [
        dict(ROWS[1]),
        dict(
            ROWS[2],
            external_id="S004",
            email="not-an-email",
            timezone="Mars/Olympus",
            class_year="1850",
            locale="english!",
            phone="12",
            consent_news="maybe",
        ),
        dict(ROWS[1], first_name="Again"),
    ]
    result = import_csv(engine, write_csv(tmp_path / "bad.csv", bad), today=TODAY)
    assert not result.committed
    assert dump_tables(engine) == before
    found = {(p.row, p.column) for p in result.problems}
    assert {
        (3, "email"),
        (3, "timezone"),
        (3, "class_year"),
        (3, "locale"),
        (3, "phone"),
        (3, "consent_news"),
        (4, "external_id"),
    } <= found
    text = "\n".join(str(p) for p in result.problems)
    assert "row 3, column timezone: 'Mars/Olympus' is not an IANA time zone" in text
    assert "row 4, column external_id: 'S002' appears again (first at row 2)" in text


def test_duplicates_across_batches_are_found(sqlite_url: str, tmp_path: Path) -> None:
    engine = engine_for(sqlite_url)
    rows = [*ROWS, dict(ROWS[0], first_name="Other")]
    result = import_csv(engine, write_csv(tmp_path / "d.csv", rows), today=TODAY, batch_size=2)
    assert [(p.row, p.column) for p in result.problems] == [(5, "external_id")]
    assert not result.committed


def test_skip_invalid_imports_the_rest_and_writes_the_rejects(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    rows = [ROWS[0], dict(ROWS[1], timezone="Nowhere/Land"), ROWS[2]]
    result = import_csv(engine, write_csv(tmp_path / "s.csv", rows), today=TODAY, skip_invalid=True)
    assert result.committed and result.created == 2 and result.rejected_rows == 1
    assert result.rejected_file == tmp_path / "s.rejected.csv"
    with result.rejected_file.open(encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["row"], r["external_id"], r["timezone"]) for r in rejected] == [
        ("3", "S002", "Nowhere/Land")
    ]
    assert "timezone: is not an IANA time zone" in rejected[0]["problems"]


def test_dry_run_writes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    engine = engine_for(sqlite_url)
    before = dump_tables(engine)
    result = import_csv(engine, write_csv(tmp_path / "a.csv", ROWS), today=TODAY, dry_run=True)
    assert result.created == 3 and not result.committed
    assert dump_tables(engine) == before


def test_bom_and_semicolons_are_understood(sqlite_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "excel.csv", ROWS, delimiter=";", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = import_csv(engine_for(sqlite_url), path, today=TODAY)
    assert result.created == 3 and not result.problems


def test_a_file_that_is_not_utf8_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "latin1.csv", ROWS, encoding="latin-1")
    with pytest.raises(CsvFileError, match=r"not UTF-8.*CSV UTF-8"):
        import_csv(engine_for(sqlite_url), path, today=TODAY)


def test_a_missing_column_is_named(sqlite_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ROWS, columns=("external_id", "first_name", "email"))
    with pytest.raises(CsvFileError, match=r"lacks column.*last_name, class_year"):
        import_csv(engine_for(sqlite_url), path, today=TODAY)


def test_suppressed_addresses_are_reported(sqlite_url: str, tmp_path: Path) -> None:
    engine = engine_for(sqlite_url)
    with write_transaction(engine) as connection:
        suppress(connection, kind="email", value="JOSE@example.org", reason="hard_bounce")
    result = import_csv(engine, write_csv(tmp_path / "a.csv", ROWS), today=TODAY)
    assert result.committed
    assert any("row 3" in w and "S002" in w and "suppression list" in w for w in result.warnings)


@pytest.mark.parametrize(
    "address",
    [
        "ana@example.com",
        "Ana.Lima+news@Mail.Example.ORG",
        "a_b-c%d@sub.domain.example.net",
        "x@localhost",
        "x@test.test",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example",
        "a@example.c",
        "ana@exämple.com",
        "ñandú@example.com",
        "a b@example.com",
        "a@b@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 64 + ".com",
        '"q"@example.com',
    ],
)
def test_fast_email_check_agrees_with_email_validator(address: str) -> None:
    try:
        expected: str | None = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    try:
        got: str | None = normalise_email(address)
    except ValueError:
        got = None
    assert got == expected


def test_cli_import_exits_non_zero_on_bad_rows(sqlite_url: str, tmp_path: Path) -> None:
    from alumni.cli.main import app

    runner = CliRunner()
    good = runner.invoke(app, ["import", str(write_csv(tmp_path / "a.csv", ROWS))])
    assert good.exit_code == 0, good.output
    assert "3 rows read; imported: 3 new" in good.output
    bad = runner.invoke(
        app, ["import", str(write_csv(tmp_path / "b.csv", [dict(ROWS[0], class_year="twenty")]))]
    )
    assert bad.exit_code == 1
    assert "row 2, column class_year" in bad.output and "nothing was written" in bad.output


def test_rows_checked_in_other_processes_import_the_same(sqlite_url: str, tmp_path: Path) -> None:
    engine = engine_for(sqlite_url)
    bad = dict(ROWS[0], external_id="S009", timezone="Nowhere/Land")
    path = write_csv(tmp_path / "p.csv", [*ROWS, bad])
    result = import_csv(engine, path, today=TODAY, batch_size=1, workers=2, skip_invalid=True)
    assert (result.created, result.rejected_rows) == (3, 1)
    assert [(p.row, p.column) for p in result.problems] == [(5, "timezone")]
    assert contacts(engine, "S002")[1][1] == "+5511912345678"
