"""Names in the order the alum's culture writes them, and the name a salutation greets by."""

from __future__ import annotations

import pytest

from alumni.db import engine_for
from alumni.delivery.campaigns import preview
from alumni.people.names import family_name_first, full_name, greeting_name
from tests.factories import add_alumnus, add_campaign


@pytest.mark.parametrize(
    ("first", "last", "locale", "country", "expected"),
    [
        ("Ana", "Souza", "pt-BR", "BR", "Ana Souza"),
        ("Hiroshi", "Tanaka", "ja-JP", "JP", "Tanaka Hiroshi"),
        ("Hiroshi", "Tanaka", None, "JP", "Tanaka Hiroshi"),  # no locale: the country says
        ("Ferenc", "Nagy", "hu", None, "Nagy Ferenc"),
        ("Văn An", "Nguyễn", "vi-VN", "VN", "Nguyễn Văn An"),
        ("Min-jun", "Kim", "ko", "KR", "Kim Min-jun"),
        ("Ferenc", "Nagy", "en-GB", "HU", "Ferenc Nagy"),  # their locale says how they write
        ("Wei", "Zhang", "en", "CN", "Wei Zhang"),
        ("Wei", "Zhang", None, "cn", "Zhang Wei"),
        ("小明", "王", "zh-Hans-CN", "CN", "王小明"),  # Chinese characters: no space
        ("ひろし", "田中", "ja", "JP", "田中ひろし"),
        ("민준", "김", "ko-KR", None, "김민준"),
        ("Layla", "Haddad", "ar-EG", "EG", "Layla Haddad"),
        ("  Ana ", " Souza", None, None, "Ana Souza"),
        ("Ana", "", "ja", None, "Ana"),
        ("", "Tanaka", None, "JP", "Tanaka"),
    ],
)
def test_full_names_follow_the_alums_culture(
    first: str, last: str, locale: str | None, country: str | None, expected: str
) -> None:
    assert full_name(first, last, locale=locale, country=country) == expected


def test_the_culture_is_read_from_the_locale_first_then_the_country() -> None:
    assert family_name_first(locale="zh_TW", country=None)
    assert family_name_first(locale="", country="KR")  # a blank locale is no locale
    assert not family_name_first(locale="fr", country="JP")
    assert not family_name_first(locale=None, country=None)
    assert not family_name_first(locale=None, country="")


def test_a_greeting_uses_the_given_name_or_the_full_name_where_the_family_comes_first() -> None:
    assert greeting_name("Ana", "Souza", locale="pt-BR", country="BR") == "Ana"
    assert greeting_name("Hiroshi", "Tanaka", locale="ja", country="JP") == "Tanaka Hiroshi"
    assert greeting_name("Ferenc", "Nagy", locale=None, country="HU") == "Nagy Ferenc"
    assert greeting_name(" ", "Souza", locale="pt-BR", country="BR") == "Souza"


def test_a_campaign_greets_and_addresses_an_alum_in_their_order(sqlite_url: str) -> None:
    """The user's path: ``alumni campaign preview`` of the shipped reunion for a Japanese alum
    (no Japanese template: the English one) and a Brazilian one."""
    add_alumnus(
        sqlite_url, "JP-1", first_name="Hiroshi", last_name="Tanaka", locale="ja-JP", country="JP"
    )
    add_alumnus(sqlite_url, "BR-1", first_name="Ana", last_name="Souza", locale="pt-BR")
    campaign_id = add_campaign(sqlite_url, template="reunion")
    engine = engine_for(sqlite_url)

    tanaka = preview(engine, campaign_id, alumnus="JP-1")
    souza = preview(engine, campaign_id, alumnus="BR-1")

    assert tanaka.locale == "en" and "Dear Tanaka Hiroshi," in tanaka.text
    assert "Dear Tanaka Hiroshi," in tanaka.html
    assert b"To: Tanaka Hiroshi <" in tanaka.raw
    assert souza.locale == "pt-BR" and "Olá, Ana" in souza.text and "Souza" not in souza.text
    assert b"To: Ana Souza <" in souza.raw
