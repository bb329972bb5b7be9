"""Erasure that holds: `alumni erase`, then the office's old spreadsheet through `alumni import`,
on SQLite and PostgreSQL; the lists keep keyed hashes that a copy of the database cannot test;
suppressions made before keyed hashes keep holding."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from alumni.cli.main import app
from alumni.db import engine_for, upgrade, write_transaction
from alumni.models import (
    Alumnus,
    ContactPoint,
    ErasedIdentifier,
    InstanceValue,
    Suppression,
    table_of,
)
from alumni.people.erasure_list import erased_among
from alumni.people.keyed_hash import HashKey, WrongHashKey
from alumni.people.suppression import suppress, suppressed_scopes
from alumni.settings import get_settings
from tests.people.test_importing import ROWS, write_csv
from tests.snapshot import dump_tables

runner = CliRunner()
_A = table_of(Alumnus)
_CP = table_of(ContactPoint)
_S = table_of(Suppression)
_E = table_of(ErasedIdentifier)
_IV = table_of(InstanceValue)
JOSE_EMAIL = ROWS[1]["email"]  # S002, row 3 of the file


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def ok(*args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.output


def imported_and_erased(tmp_path: Path) -> Path:
    """The office's file imported, then S002 erased through the command line."""
    path = write_csv(tmp_path / "office.csv", ROWS)
    ok("import", str(path))
    assert "erased S002" in ok("erase", "S002", "--yes")
    return path


def people(url: str) -> list[tuple[str, str]]:
    with engine_for(url).connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(_A.c.external_id, _A.c.status))]


def test_reimporting_the_old_file_refuses_the_erased_alum_and_writes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    path = imported_and_erased(tmp_path)
    before = dump_tables(engine_for(db_url))

    refused = cli("import", str(path))

    assert refused.exit_code == 1
    assert "row 3, column external_id: 'S002' belongs to an alum who was erased" in refused.output
    assert "nothing was written" in refused.output
    assert dump_tables(engine_for(db_url)) == before


def test_skip_invalid_imports_the_others_and_nothing_of_the_erased_row(
    db_url: str, tmp_path: Path
) -> None:
    imported_and_erased(tmp_path)
    changed = write_csv(tmp_path / "office.csv", [dict(ROWS[0], city="Leeds"), ROWS[1], ROWS[2]])

    output = ok("import", str(changed), "--skip-invalid")

    assert "1 updated, 1 unchanged; 1 rejected" in output
    assert sorted(people(db_url)) == [("S001", "active"), ("S003", "lost"), ("erased-2", "erased")]
    with engine_for(db_url).connect() as connection:
        values = connection.execute(sa.select(_CP.c.value)).scalars().all()
        city = connection.execute(sa.select(_A.c.city).where(_A.c.external_id == "S001"))
        assert city.scalar_one() == "Leeds"
    assert not {JOSE_EMAIL, "+5511912345678", "jose.bsky.example"} & set(values)
    with (tmp_path / "office.rejected.csv").open(encoding="utf-8") as handle:
        (rejected,) = csv.DictReader(handle)
    assert (rejected["row"], rejected["external_id"]) == ("3", "S002")
    assert "erased at their request" in rejected["problems"]


def test_a_new_id_with_an_erased_alums_address_or_handle_is_refused(
    db_url: str, tmp_path: Path
) -> None:
    imported_and_erased(tmp_path)
    rows = [
        {**ROWS[1], "external_id": "NEW-1", "email": JOSE_EMAIL.upper(), "phone": ""},
        {
            **ROWS[1],
            "external_id": "NEW-2",
            "email": "",
            "phone": "",
            "bluesky": "@JOSE.bsky.example",
        },
        {
            **ROWS[1],
            "external_id": "NEW-3",
            "email": "",
            "phone": "+55 11 91234-5678",
            "bluesky": "",
        },
        {**ROWS[1], "external_id": "erased-2", "email": "", "phone": "", "bluesky": ""},
        {**ROWS[1], "external_id": "NEW-4", "email": "new@example.org", "phone": "", "bluesky": ""},
    ]
    before = dump_tables(engine_for(db_url))

    refused = cli("import", str(write_csv(tmp_path / "new.csv", rows)))

    assert refused.exit_code == 1
    assert "row 2, column email: 'JOSE@example.org' belongs to an alum who was erased" in (
        refused.output
    )
    assert "row 3, column bluesky: 'jose.bsky.example' belongs to" in refused.output
    assert "row 4, column phone: '+5511912345678' belongs to" in refused.output
    assert "row 5, column external_id: 'erased-2' is the id kept for an alum who was erased" in (
        refused.output
    )
    assert "row 6" not in refused.output
    assert dump_tables(engine_for(db_url)) == before


def test_the_lists_hold_hashes_keyed_with_the_secret_outside_the_database(
    db_url: str, tmp_path: Path
) -> None:
    imported_and_erased(tmp_path)
    key = HashKey.derive(get_settings().signing_key())
    expected = {
        key.digest(kind, value)
        for kind, value in [
            ("external_id", "S002"),
            ("email", JOSE_EMAIL),
            ("phone", "+5511912345678"),
            ("bluesky", "jose.bsky.example"),
        ]
    }
    with engine_for(db_url).connect() as connection:
        suppressed = set(connection.execute(sa.select(_S.c.value_hash)).scalars())
        listed = set(connection.execute(sa.select(_E.c.value_hash)).scalars())
        instance = dict(connection.execute(sa.select(_IV.c.key, _IV.c.value)).all())
    assert listed == expected
    assert suppressed == expected - {key.digest("external_id", "S002")}
    # Nothing in the database lets a copy of it recompute a hash: no salt, only a check value.
    assert set(instance) == {"identifier_hash_check"}
    unkeyed = hashlib.sha256(f"email\x00{JOSE_EMAIL}".encode()).hexdigest()
    assert unkeyed not in suppressed | listed
    guess = HashKey.derive(b"x" * 32).digest("email", JOSE_EMAIL)
    assert guess not in suppressed | listed


def test_another_secret_key_is_refused_rather_than_matching_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = imported_and_erased(tmp_path)
    before = dump_tables(engine_for(db_url))
    monkeypatch.setenv("ALUMNI_SECRET_KEY", "another key of at least thirty-two characters")
    get_settings.cache_clear()

    refused = cli("import", str(path))

    assert refused.exit_code == 1
    assert "made with another secret key" in refused.output
    assert dump_tables(engine_for(db_url)) == before
    with engine_for(db_url).connect() as connection, pytest.raises(WrongHashKey):
        suppressed_scopes(connection, [("email", JOSE_EMAIL)])


def _legacy_hash(salt: str, kind: str, value: str) -> str:
    """How revision 0004 hashed an address (salted SHA-256, the salt in the database)."""
    return hashlib.sha256(f"{salt}\x00{kind}\x00{value.strip().lower()}".encode()).hexdigest()


def test_suppressions_from_before_keyed_hashes_keep_holding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("ALUMNI_DATABASE_URL", url)
    monkeypatch.setenv("ALUMNI_SECRET_KEY_FILE", str(tmp_path / "secret"))
    get_settings.cache_clear()
    upgrade(url, "0004")
    salt = "ab" * 32
    old = [
        ("erased@example.org", "erased", "all"),  # an erasure made by 0004: address only
        ("left@example.org", "unsubscribed", "news"),
        ("bounced@example.org", "hard_bounce", "all"),
    ]
    with engine_for(url).begin() as connection:
        connection.execute(sa.insert(_IV).values(key="suppression_salt", value=salt))
        for address, reason, scope in old:
            connection.exec_driver_sql(
                "INSERT INTO suppression (kind, value_hash, scope, reason, created_at) "
                "VALUES ('email', ?, ?, ?, '2025-01-01 00:00:00')",
                (_legacy_hash(salt, "email", address), scope, reason),
            )
    ok("init")
    with engine_for(url).connect() as connection:
        found = suppressed_scopes(connection, [("email", a.upper()) for a, _, _ in old])
        erased = erased_among(connection, [("email", a) for a, _, _ in old])
    assert found == {
        ("email", "ERASED@EXAMPLE.ORG"): {"all"},
        ("email", "LEFT@EXAMPLE.ORG"): {"news"},
        ("email", "BOUNCED@EXAMPLE.ORG"): {"all"},
    }
    assert erased == {("email", "erased@example.org")}

    rows = [
        dict(ROWS[0], email="erased@example.org"),
        dict(ROWS[2], email="left@example.org"),
    ]
    refused = cli("import", str(write_csv(tmp_path / "old.csv", rows)), "--skip-invalid")
    assert refused.exit_code == 0, refused.output
    assert "row 2, column email: 'erased@example.org' belongs to an alum who was erased" in (
        refused.output
    )
    assert "row 3: the email of S003 is on the suppression list (news)" in refused.output

    # The next `alumni init` re-keys the old rows whose address a contact point holds.
    assert "1 suppressed address(es) moved to keyed hashes" in ok("init")
    with engine_for(url).connect() as connection:
        keyed = dict(connection.execute(sa.select(_S.c.reason, _S.c.keyed)).all())
        found_again = suppressed_scopes(connection, [("email", a) for a, _, _ in old])
    assert keyed == {"erased": False, "unsubscribed": True, "hard_bounce": False}
    assert len(found_again) == 3

    # Suppressing an old row's address again re-keys it; with the last one gone, so is the salt.
    engine = engine_for(url)
    with write_transaction(engine) as connection:
        for address, reason, scope in old:
            assert not suppress(connection, kind="email", value=address, reason=reason, scope=scope)
    with engine.connect() as connection:
        assert set(connection.execute(sa.select(_S.c.keyed)).scalars()) == {True}
        assert connection.execute(sa.select(_IV.c.key)).scalars().all() == ["identifier_hash_check"]
        assert len(suppressed_scopes(connection, [("email", a) for a, _, _ in old])) == 3
    get_settings.cache_clear()
