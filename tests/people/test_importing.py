import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from typer.testing import CliRunner, Result

from alumni.db import engine_for, write_transaction
from alumni.models import Alumnus, Ambassador, Consent, ContactPoint, table_of
from alumni.people.importing import CsvFileError, import_csv, import_rows
from alumni.people.rejected_rows import RejectedFile
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
    seen_by = [c.name for c in table_of(Alumnus).columns].index("last_import_id")
    strip = lambda rows: [r[:seen_by] + r[seen_by + 1 :] for r in rows]  # noqa: E731
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


def test_quotes_inside_a_cell_are_read_as_spreadsheets_write_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    rows = [dict(ROWS[0], first_name='Robert "Bob"', city="Leeds, West Yorkshire")]
    for delimiter in (",", ";"):
        path = write_csv(tmp_path / f"q{delimiter}.csv", rows, delimiter=delimiter)
        assert b'"Robert ""Bob"""' in path.read_bytes()
        result = import_csv(engine_for(sqlite_url), path, today=TODAY)
        assert not result.problems
    with engine_for(sqlite_url).connect() as connection:
        row = connection.execute(sa.select(table_of(Alumnus))).one()
    assert (row.first_name, row.city) == ('Robert "Bob"', "Leeds, West Yorkshire")


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


def import_cli(*args: str) -> Result:
    from alumni.cli.main import app

    return CliRunner().invoke(app, ["import", *args])


def test_a_cell_over_the_csv_size_limit_is_a_problem_of_its_row(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "big.csv", [ROWS[0], dict(ROWS[1], city="x" * 200_000), ROWS[2]])
    before = dump_tables(engine_for(sqlite_url))

    refused = import_cli(str(path))

    assert refused.exit_code == 1 and not isinstance(refused.exception, csv.Error)
    assert "row 3: cannot be read (field larger than field limit (131072); line 3" in (
        refused.output
    )
    assert "nothing was written" in refused.output
    assert dump_tables(engine_for(sqlite_url)) == before
    skipped = import_cli(str(path), "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert "imported: 2 new, 0 updated, 0 unchanged; 1 rejected" in skipped.output


def test_a_quote_never_closed_names_the_lines_it_swallowed(sqlite_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "quote.csv", ROWS[:1])
    filler = "\n".join(f"S{n:04},Filler,Row,2016" for n in range(9000))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f'S100,"Ana,Lima,2016\n{filler}\nS200,Bea,Lopes,2016\n')

    result = import_csv(engine_for(sqlite_url), path, today=TODAY, skip_invalid=True)

    (problem,) = result.problems
    assert problem.row == 3 and 'a quote (") that is never closed' in problem.message
    last = int(problem.message.split("lines 3-", 1)[1].split(" ", 1)[0])
    # S001 before it, and the rows on the lines after those it swallowed (file: 9004 lines).
    assert result.created == 1 + 9004 - last and 3 < last < 9004


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("first_name", "Ana\x00", "a NUL byte"),
        ("last_name", "\x1b[31mLima", "the control character U+001B"),
        ("first_name", "Ana\x07", "the control character U+0007"),
        ("city", "Lon\x9bdon", "the control character U+009B"),
        ("external_id", "S0\x0001", "a NUL byte"),
    ],
)
def test_nul_and_control_characters_are_a_problem_of_their_cell(
    sqlite_url: str, tmp_path: Path, column: str, value: str, shown: str
) -> None:
    path = write_csv(tmp_path / "c.csv", [dict(ROWS[0], **{column: value}), ROWS[1]])

    result = import_csv(engine_for(sqlite_url), path, today=TODAY)

    assert not result.committed
    (problem,) = result.problems
    assert (problem.row, problem.column) == (2, column)
    assert f"contains {shown}" in problem.message
    assert repr(value.strip()) in str(problem)


@pytest.mark.parametrize(
    ("column", "limit"),
    [("programme", 200), ("city", 200), ("consent_evidence", 500), ("locale", 35)],
)
def test_over_long_values_are_problems_not_dropped(
    db_url: str, tmp_path: Path, column: str, limit: int
) -> None:
    value = "en-GB" + "-abcdefgh" * 4 if column == "locale" else "y" * (limit + 1)
    path = write_csv(tmp_path / "long.csv", [dict(ROWS[0], **{column: value})])

    result = import_csv(engine_for(db_url), path, today=TODAY)

    assert not result.committed
    assert [(p.row, p.column) for p in result.problems] == [(2, column)]
    assert f"is longer than {limit} characters" in result.problems[0].message
    assert f"({len(value)} characters)" in str(result.problems[0]) or len(value) <= 80


def test_over_long_handles_are_problems_on_every_database(db_url: str, tmp_path: Path) -> None:
    host = ".".join(["a" * 60] * 6) + ".social"
    rows = [dict(ROWS[0], mastodon=f"@zoe@{host}"), dict(ROWS[1], bluesky=f"jose.{host}")]

    result = import_csv(engine_for(db_url), write_csv(tmp_path / "h.csv", rows), today=TODAY)

    assert [(p.row, p.column) for p in result.problems] == [(2, "mastodon"), (3, "bluesky")]


def test_rejected_cells_that_a_spreadsheet_would_run_are_neutralised(
    sqlite_url: str, tmp_path: Path
) -> None:
    hostile = {
        "first_name": '=HYPERLINK("http://evil.example","x")',
        "last_name": "+1+cmd|' /C calc'!A0",
        "programme": "-2+3",
        "city": "@SUM(A1:A2)",
        "country": "\tGB",
        "timezone": "Nowhere/Land",
    }
    path = write_csv(tmp_path / "f.csv", [dict(ROWS[0], **hostile), ROWS[1]])

    result = import_csv(engine_for(sqlite_url), path, today=TODAY, skip_invalid=True)

    assert result.rejected_file is not None and result.created == 1
    with result.rejected_file.open(encoding="utf-8", newline="") as handle:
        (rejected,) = csv.DictReader(handle)
    for column, value in hostile.items():
        expected = value if column == "timezone" else "'" + value
        assert rejected[column] == expected, column
    assert rejected["external_id"] == "S001" and rejected["phone"] == "020 7946 0958"


def test_rejected_rows_are_on_disk_before_the_import_ends(sqlite_url: str, tmp_path: Path) -> None:
    """The rejects of a file of any size are streamed to NAME.rejected.csv, not kept in memory."""
    target = tmp_path / "stream.rejected.csv"
    seen_on_disk: list[str] = []

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        yield 2, dict(ROWS[0], timezone="Nowhere/Land")
        for number in range(3, 3 + 50):
            if number == 52:  # many batches later, still reading the file
                seen_on_disk.append(target.read_text(encoding="utf-8"))
            yield number, dict(ROWS[1], external_id=f"S{number:03}")

    sink = RejectedFile(target, list(COLUMNS))
    result = import_rows(
        engine_for(sqlite_url),
        rows(),
        header=list(COLUMNS),
        filename="stream.csv",
        sha256="",
        today=TODAY,
        skip_invalid=True,
        batch_size=5,
        on_rejected=sink.write,
    )
    sink.close()

    assert result.committed and result.created == 50 and result.rejected_rows == 1
    (while_reading,) = seen_on_disk
    assert "Nowhere/Land" in while_reading
    assert not hasattr(result, "rejected")


def test_only_the_first_problems_are_kept_and_all_are_counted(
    sqlite_url: str, tmp_path: Path
) -> None:
    bad = [dict(ROWS[0], external_id=f"B{n}", class_year="later") for n in range(1200)]

    refused = import_cli(str(write_csv(tmp_path / "many.csv", bad)))

    assert refused.exit_code == 1
    assert "... and 1150 more problems" in refused.output
    result = import_csv(engine_for(sqlite_url), tmp_path / "many.csv", today=TODAY)
    assert (len(result.problems), result.problem_count, result.rejected_rows) == (1000, 1200, 1200)
