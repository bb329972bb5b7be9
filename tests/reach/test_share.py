"""Share kits as an officer makes them (`alumni share kit`), on both databases: one link per
sharer with a short signed referral code, and the text for each network within its length, in
the sharer's language; a text too long for a network is refused naming it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.messages.signing import TamperedToken
from alumni.models import ShareLink, table_of, utcnow
from alumni.reach import ambassadors
from alumni.reach.share import read_share_code
from alumni.settings import get_settings
from alumni.social.text import BLUESKY_LIMIT, length
from tests.factories import add_alumnus
from tests.snapshot import dump_tables

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result.output


def kits_of(output: str) -> dict[str, dict[str, str]]:
    """Each sharer's link and texts by network, from `alumni share kit`'s output."""
    kits: dict[str, dict[str, str]] = {}
    for block in re.split(r"(?m)^# ", output)[1:]:
        head, _, rest = block.partition("\n")
        external_id = re.search(r"\((\w+)\)", head)
        assert external_id is not None, head
        kit = {"head": head, "link": re.search(r"link: (\S+)", rest)[1]}  # type: ignore[index]
        for part in re.split(r"(?m)^## ", rest)[1:]:
            title, _, text = part.partition("\n")
            kit[title.split(" ")[0]] = text.strip()
        kits[external_id[1]] = kit
    return kits


def test_each_ambassador_gets_a_link_of_their_own_and_text_for_each_network(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_BASE_URL", "https://alumni.school.example")
    get_settings.cache_clear()
    add_alumnus(db_url, "A1", class_year=2016, first_name="Ana", locale="es")
    add_alumnus(db_url, "A2", class_year=2016, first_name="Ben", locale="en")
    add_alumnus(db_url, "A3", class_year=2016, first_name="Cleo", locale="fr-CA")
    with write_transaction(engine_for(db_url)) as connection:
        for external_id in ("A1", "A2"):
            ambassadors.add_ambassador(connection, external_id, now=utcnow())

    kits = kits_of(invoke("share", "kit", "--class-year", "2016"))
    assert sorted(kits) == ["A1", "A2"]
    key = get_settings().signing_key()
    codes = set()
    for kit in kits.values():
        link = kit["link"]
        assert link.startswith("https://alumni.school.example/join/")
        code = link.rsplit("/", 1)[1]
        assert len(code) <= 20  # short enough to type
        codes.add(read_share_code(key, code))
        for network in ("mastodon", "bluesky"):
            assert link in kit[network]
            assert "#Class2016" in kit[network]
    assert len(codes) == 2  # one link each
    assert "Promoción de 2016" in kits["A1"]["bluesky"] and "Ana sí" in kits["A1"]["bluesky"]
    assert "Class of 2016" in kits["A2"]["mastodon"]
    assert length("bluesky", kits["A1"]["bluesky"]) <= BLUESKY_LIMIT
    assert "in es" in kits["A1"]["head"] and "(" in kits["A1"]["head"]

    # any alum may share too; the same sharer always gets the same link
    cleo = kits_of(invoke("share", "kit", "--class-year", "2016", "--alumnus", "A3"))
    assert "Promotion 2016" in cleo["A3"]["mastodon"]  # fr-CA falls back to fr
    again = kits_of(invoke("share", "kit", "--class-year", "2016"))
    assert {k: v["link"] for k, v in again.items()} == {k: v["link"] for k, v in kits.items()}
    with engine_for(db_url).connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(ShareLink))
            ).scalar_one()
            == 3
        )


def test_a_damaged_code_is_not_read() -> None:
    key = b"k" * 32
    from alumni.messages.signing import make_short_code

    code = make_short_code(key, "share", 42)
    assert read_share_code(key, code.upper()) == 42
    for bad in (code[:-1] + ("a" if code[-1] != "a" else "b"), "1-" + code.split("-")[1], "x"):
        with pytest.raises(TamperedToken):
            read_share_code(key, bad)
    with pytest.raises(TamperedToken):  # a code of another purpose
        read_share_code(key, make_short_code(key, "other", 42))


def test_a_kit_for_another_class_or_a_class_without_ambassadors_is_refused(db_url: str) -> None:
    add_alumnus(db_url, "A1", class_year=2016)
    add_alumnus(db_url, "B1", class_year=2015)
    before = dump_tables(engine_for(db_url))
    for args, words in (
        (["--class-year", "2015", "--alumnus", "A1"], "is of the class of 2016, not 2015"),
        (["--class-year", "2015"], "has no ambassador"),
        (["--class-year", "2015", "--alumnus", "NOPE"], "no alum has external id"),
    ):
        result = runner.invoke(app, ["share", "kit", *args], env={"COLUMNS": "300"})
        assert result.exit_code == 1 and words in result.output, result.output
    assert dump_tables(engine_for(db_url)) == before


def test_a_text_too_long_for_a_network_is_refused_naming_it(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "social" / "share" / "en.txt.j2").write_text(
        "Class of {{ class.year }}: " + "join us! " * 40 + "{{ links.join }}\n"
    )
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    add_alumnus(sqlite_url, "A1", locale="en")
    result = runner.invoke(
        app, ["share", "kit", "--class-year", "2016", "--alumnus", "A1"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert (
        "social/share/en.txt.j2" in said and "Bluesky post is" in said and "shorten it by" in said
    )
