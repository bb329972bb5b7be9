"""GDPR export (art. 20) and erasure (art. 17) of one alum, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from alumni.db import engine_for, make_engine, write_transaction
from alumni.models import Alumnus, Ambassador, Consent, ContactPoint, Suppression, table_of
from alumni.people.privacy import (
    EXPORT_FORMAT,
    ErasureConflict,
    erase_alumnus,
    export_alumnus,
    find_alumnus_id,
)
from alumni.people.suppression import suppressed_scopes

SINCE = datetime(2019, 6, 1, 9, 30, tzinfo=UTC)
ERASED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# Distinctive values, so that finding one anywhere in a dump can only mean a leak.
ZORA = {
    "external_id": "EXT-ZQ-7781",
    "first_name": "Zoraida",
    "last_name": "Quellmotte",
    "programme": "Glaciology",
    "city": "Tromsdalen",
}
ZORA_EMAIL = "Zoraida.Quellmotte@Example.org"
ZORA_OLD_EMAIL = "zq-1998@oldschool.example"
ZORA_PHONE = "+4791234567"
ZORA_MASTODON = "@zquellmotte@mastodon.example"
ZORA_BLUESKY = "zquellmotte.bsky.social"
ZORA_EVIDENCE = "signed form ZQ-consent-2019"
ZORA_SECRETS = [
    *ZORA.values(),
    ZORA_EMAIL,
    ZORA_OLD_EMAIL,
    ZORA_PHONE,
    ZORA_MASTODON.lstrip("@"),
    ZORA_BLUESKY,
    ZORA_EVIDENCE,
]

BRAM = {
    "external_id": "EXT-BV-1204",
    "first_name": "Bramwell",
    "last_name": "Vantongeren",
    "programme": "Law",
    "city": "Ghent",
}
BRAM_EMAIL = "bram.vantongeren@example.net"


def add_alumnus(connection: Connection, **values: Any) -> int:
    row = {
        "class_year": 2001,
        "country": "NO",
        "timezone": "Europe/Oslo",
        "locale": "nb-NO",
        "status": "active",
        "created_at": SINCE,
        "updated_at": SINCE,
        **values,
    }
    return int(connection.execute(sa.insert(table_of(Alumnus)).values(row)).inserted_primary_key[0])


def add_contact(
    connection: Connection, alumnus_id: int, kind: str, value: str, **values: Any
) -> None:
    row = {
        "alumnus_id": alumnus_id,
        "kind": kind,
        "value": value,
        "source": "import",
        "status": "ok",
        "created_at": SINCE,
        **values,
    }
    connection.execute(sa.insert(table_of(ContactPoint)).values(row))


def add_consent(connection: Connection, alumnus_id: int, purpose: str, evidence: str) -> None:
    connection.execute(
        sa.insert(table_of(Consent)).values(
            alumnus_id=alumnus_id,
            purpose=purpose,
            channel="any",
            granted=True,
            evidence=evidence,
            at=SINCE,
        )
    )


def add_ambassador(connection: Connection, alumnus_id: int, class_year: int) -> None:
    connection.execute(
        sa.insert(table_of(Ambassador)).values(
            alumnus_id=alumnus_id, class_year=class_year, since=SINCE
        )
    )


def add_zora_and_bram(connection: Connection) -> tuple[int, int]:
    """Two alumni of the same class with a full set of rows each; return their ids."""
    zora = add_alumnus(connection, **ZORA)
    add_contact(connection, zora, "email", ZORA_EMAIL, verified_at=SINCE)
    add_contact(connection, zora, "email", ZORA_OLD_EMAIL, superseded_at=SINCE)
    add_contact(connection, zora, "phone", ZORA_PHONE, label="mobile")
    add_contact(connection, zora, "mastodon", ZORA_MASTODON)
    add_contact(connection, zora, "bluesky", ZORA_BLUESKY)
    add_consent(connection, zora, "news", ZORA_EVIDENCE)
    add_consent(connection, zora, "events", ZORA_EVIDENCE)
    add_ambassador(connection, zora, 2001)

    bram = add_alumnus(connection, **BRAM)
    add_contact(connection, bram, "email", BRAM_EMAIL)
    add_consent(connection, bram, "news", "web form BV")
    add_ambassador(connection, bram, 2001)
    return zora, bram


def dump_text(connection: Connection, metadata: sa.MetaData = SQLModel.metadata) -> str:
    """Every value of every table, as lower-case text."""
    lines = [
        f"{table.name}: {' | '.join(map(str, row))}"
        for table in metadata.sorted_tables
        for row in connection.execute(sa.select(table))
    ]
    return "\n".join(lines).lower()


def without_stamp(export: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in export.items() if key != "exported_at"}


def test_export_holds_the_alums_rows_and_no_one_elses(db_url: str) -> None:
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        zora, _ = add_zora_and_bram(connection)
    with engine.connect() as connection:
        export = export_alumnus(connection, alumnus_id=zora)

    text = json.dumps(export)
    assert export["format"] == EXPORT_FORMAT and export["alumnus_id"] == zora
    tables = export["tables"]
    assert next(iter(tables)) == "alumnus"
    assert [row["external_id"] for row in tables["alumnus"]] == [ZORA["external_id"]]
    assert sorted(row["value"] for row in tables["contactpoint"]) == sorted(
        [ZORA_EMAIL, ZORA_OLD_EMAIL, ZORA_PHONE, ZORA_MASTODON, ZORA_BLUESKY]
    )
    assert sorted(row["purpose"] for row in tables["consent"]) == ["events", "news"]
    assert [(row["alumnus_id"], row["class_year"]) for row in tables["ambassador"]] == [
        (zora, 2001)
    ]
    email = next(row for row in tables["contactpoint"] if row["value"] == ZORA_EMAIL)
    assert datetime.fromisoformat(email["verified_at"]) == SINCE
    for value in [*BRAM.values(), BRAM_EMAIL, "web form BV"]:
        assert value not in text
    assert {
        row["alumnus_id"]
        for name in ("contactpoint", "consent", "ambassador")
        for row in tables[name]
    } == {zora}


def test_erase_leaves_no_personal_value_in_any_table(db_url: str) -> None:
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        zora, bram = add_zora_and_bram(connection)
    with engine.connect() as connection:
        bram_before = without_stamp(export_alumnus(connection, alumnus_id=bram))
        assert all(value.lower() in dump_text(connection) for value in ZORA_SECRETS)

    with write_transaction(engine) as connection:
        report = erase_alumnus(connection, alumnus_id=zora, now=ERASED_AT)

    # Tables that later issues add show up with 0: Zora has no rows there.
    assert {name: n for name, n in report.deleted.items() if n} == {
        "contactpoint": 5,
        "consent": 2,
        "ambassador": 1,
    }
    assert report.suppressed == 5 and not report.already_erased
    with engine.connect() as connection:
        dump = dump_text(connection)
        for value in ZORA_SECRETS:
            assert value.lower() not in dump, value
        assert without_stamp(export_alumnus(connection, alumnus_id=bram)) == bram_before
        found = suppressed_scopes(
            connection,
            [
                ("email", ZORA_EMAIL),
                ("email", ZORA_OLD_EMAIL),
                ("phone", ZORA_PHONE),
                ("mastodon", ZORA_MASTODON),
                ("bluesky", ZORA_BLUESKY),
                ("email", BRAM_EMAIL),
            ],
        )
        assert found == {
            ("email", ZORA_EMAIL): {"all"},
            ("email", ZORA_OLD_EMAIL): {"all"},
            ("phone", ZORA_PHONE): {"all"},
            ("mastodon", ZORA_MASTODON): {"all"},
            ("bluesky", ZORA_BLUESKY): {"all"},
        }
        reasons = connection.execute(sa.select(table_of(Suppression).c.reason)).scalars().all()
        assert reasons == ["erased"] * 5
        tombstone = (
            connection.execute(sa.select(table_of(Alumnus)).where(table_of(Alumnus).c.id == zora))
            .mappings()
            .one()
        )
    assert tombstone["external_id"] == f"erased-{zora}" and tombstone["status"] == "erased"
    assert (tombstone["first_name"], tombstone["last_name"]) == ("", "")
    assert [tombstone[c] for c in ("programme", "country", "city", "timezone", "locale")] == [
        None
    ] * 5
    assert tombstone["class_year"] == 2001 and tombstone["updated_at"] == ERASED_AT


def test_erasing_twice_is_harmless(db_url: str) -> None:
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        zora, _ = add_zora_and_bram(connection)
        erase_alumnus(connection, alumnus_id=zora, now=ERASED_AT)
    with engine.connect() as connection:
        after_first = dump_text(connection)

    with write_transaction(engine) as connection:
        again = erase_alumnus(connection, alumnus_id=zora, now=ERASED_AT)

    assert again.already_erased and again.suppressed == 0
    assert set(again.deleted.values()) == {0} and again.detached == {}
    with engine.connect() as connection:
        assert dump_text(connection) == after_first
        export = export_alumnus(connection, alumnus_id=zora)
    assert export["tables"]["alumnus"][0]["status"] == "erased"
    assert all(rows == [] for name, rows in export["tables"].items() if name != "alumnus")


def test_unknown_ids_are_named(db_url: str) -> None:
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        zora, _ = add_zora_and_bram(connection)
    missing = zora + 1000
    with engine.connect() as connection:
        with pytest.raises(LookupError, match=f"no alumnus with id {missing}"):
            export_alumnus(connection, alumnus_id=missing)
        with pytest.raises(LookupError, match="no alumnus with external id or id 'EXT-NOPE'"):
            find_alumnus_id(connection, "EXT-NOPE")
        with pytest.raises(LookupError, match=f"'{missing}'"):
            find_alumnus_id(connection, str(missing))
    with (
        write_transaction(engine) as connection,
        pytest.raises(LookupError, match=f"no alumnus with id {missing}"),
    ):
        erase_alumnus(connection, alumnus_id=missing, now=ERASED_AT)


def test_find_alumnus_id_prefers_the_external_id(db_url: str) -> None:
    engine = engine_for(db_url)
    with write_transaction(engine) as connection:
        zora, bram = add_zora_and_bram(connection)
        # Bram's external id is Zora's database id: the external id must win.
        connection.execute(
            sa.update(table_of(Alumnus))
            .where(table_of(Alumnus).c.id == bram)
            .values(external_id=str(zora))
        )
        other = add_alumnus(connection, external_id="EXT-OTHER", first_name="O", last_name="T")
    with engine.connect() as connection:
        assert find_alumnus_id(connection, ZORA["external_id"]) == zora
        assert find_alumnus_id(connection, str(zora)) == bram
        assert find_alumnus_id(connection, f" {other} ") == other


def later_tables_metadata() -> sa.MetaData:
    """Copies of the real tables plus tables a later issue might add, in a MetaData of their own.

    ``note`` (owned through ``alumnus_id``) has replies (owned through a NOT NULL reference) and
    pins (a nullable reference: a pin outlives its note); ``meetup`` is proposed by an ambassador
    through a nullable reference, and other alumni RSVP to it.
    """
    metadata = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    sa.Table(
        "note",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alumnus_id", sa.ForeignKey("alumnus.id"), nullable=False),
        sa.Column("body", sa.String(200), nullable=False),
    )
    sa.Table(
        "notereply",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note_id", sa.ForeignKey("note.id"), nullable=False),
        sa.Column("body", sa.String(200), nullable=False),
    )
    sa.Table(
        "pin",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note_id", sa.ForeignKey("note.id"), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
    )
    sa.Table(
        "meetup",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ambassador_id", sa.ForeignKey("ambassador.id"), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
    )
    sa.Table(
        "meetuprsvp",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("meetup_id", sa.ForeignKey("meetup.id"), nullable=False),
        sa.Column("alumnus_id", sa.ForeignKey("alumnus.id"), nullable=False),
    )
    return metadata


def test_the_walk_covers_tables_added_later(tmp_path: Path) -> None:
    metadata = later_tables_metadata()
    engine = make_engine(f"sqlite:///{tmp_path / 'later.db'}")
    metadata.create_all(engine)
    t = metadata.tables
    with write_transaction(engine) as connection:
        zora, bram = add_zora_and_bram(connection)
        note = connection.execute(
            sa.insert(t["note"]).values(alumnus_id=zora, body="Zoraida remembers the glacier trip")
        ).inserted_primary_key[0]
        connection.execute(sa.insert(t["notereply"]).values(note_id=note, body="Quellmotte ok"))
        connection.execute(sa.insert(t["pin"]).values(note_id=note, label="trips"))
        bram_note = connection.execute(
            sa.insert(t["note"]).values(alumnus_id=bram, body="Bramwell's note")
        ).inserted_primary_key[0]
        connection.execute(sa.insert(t["notereply"]).values(note_id=bram_note, body="Bram reply"))
        zora_ambassador = connection.execute(
            sa.select(t["ambassador"].c.id).where(t["ambassador"].c.alumnus_id == zora)
        ).scalar_one()
        meetup = connection.execute(
            sa.insert(t["meetup"]).values(
                ambassador_id=zora_ambassador, title="Class of 2001 picnic"
            )
        ).inserted_primary_key[0]
        connection.execute(sa.insert(t["meetuprsvp"]).values(meetup_id=meetup, alumnus_id=bram))

    with engine.connect() as connection:
        export = export_alumnus(connection, alumnus_id=zora, metadata=metadata)
    tables = export["tables"]
    assert [row["body"] for row in tables["note"]] == ["Zoraida remembers the glacier trip"]
    assert [row["body"] for row in tables["notereply"]] == ["Quellmotte ok"]
    assert [row["label"] for row in tables["pin"]] == ["trips"]
    assert [row["title"] for row in tables["meetup"]] == ["Class of 2001 picnic"]
    assert tables["meetuprsvp"] == [] and "Bram" not in json.dumps(export)

    with write_transaction(engine) as connection:
        report = erase_alumnus(connection, alumnus_id=zora, now=ERASED_AT, metadata=metadata)

    assert report.deleted["note"] == 1 and report.deleted["notereply"] == 1
    assert report.detached == {"pin": 1, "meetup": 1}
    with engine.connect() as connection:
        dump = dump_text(connection, metadata)
        assert "zoraida" not in dump and "quellmotte" not in dump
        assert "bramwell's note" in dump and "bram reply" in dump
        assert connection.execute(sa.select(t["pin"].c.note_id, t["pin"].c.label)).all() == [
            (None, "trips")
        ]
        assert connection.execute(sa.select(t["meetup"].c.ambassador_id)).scalars().all() == [None]
        assert connection.execute(sa.select(t["meetuprsvp"].c.alumnus_id)).scalars().all() == [bram]


def test_erasure_refuses_to_delete_other_alumnis_rows(tmp_path: Path) -> None:
    metadata = later_tables_metadata()
    # An RSVP can no longer outlive its meetup: erasing the proposer would take Bram's RSVP along.
    metadata.tables["meetup"].c.ambassador_id.nullable = False
    engine = make_engine(f"sqlite:///{tmp_path / 'conflict.db'}")
    metadata.create_all(engine)
    t = metadata.tables
    with write_transaction(engine) as connection:
        zora, bram = add_zora_and_bram(connection)
        zora_ambassador = connection.execute(
            sa.select(t["ambassador"].c.id).where(t["ambassador"].c.alumnus_id == zora)
        ).scalar_one()
        meetup = connection.execute(
            sa.insert(t["meetup"]).values(ambassador_id=zora_ambassador, title="Picnic")
        ).inserted_primary_key[0]
        rsvp = connection.execute(
            sa.insert(t["meetuprsvp"]).values(meetup_id=meetup, alumnus_id=bram)
        ).inserted_primary_key[0]
    with engine.connect() as connection:
        before = dump_text(connection, metadata)

    with (
        write_transaction(engine) as connection,
        pytest.raises(ErasureConflict, match=rf"meetuprsvp\.meetup_id \(rows \({rsvp},\)\)"),
    ):
        erase_alumnus(connection, alumnus_id=zora, now=ERASED_AT, metadata=metadata)

    with engine.connect() as connection:
        assert dump_text(connection, metadata) == before
        export = export_alumnus(connection, alumnus_id=zora, metadata=metadata)
    assert export["tables"]["meetuprsvp"] == []
