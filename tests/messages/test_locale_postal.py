"""Phone numbers as the alum's country dials them, and places in the reader's language."""

from __future__ import annotations

import pytest

from alumni.people.postal import country_name, phone_display, place_line


@pytest.mark.parametrize(
    ("stored", "home", "expected"),
    [
        ("+442079460958", "GB", "020 7946 0958"),  # at home: as a Londoner dials it
        ("+442079460958", "gb", "020 7946 0958"),
        ("+442079460958", "FR", "+44 20 7946 0958"),  # abroad: the international form
        ("+442079460958", None, "+44 20 7946 0958"),
        ("+5511912345678", "BR", "(11) 91234-5678"),
        ("+5511912345678", "PT", "+55 11 91234-5678"),
        ("+33123456789", "FR", "01 23 45 67 89"),
        ("+81312345678", "JP", "03-1234-5678"),
        ("+201001234567", "DE", "+20 10 01234567"),
        ("not a number", "GB", "not a number"),  # shown as stored, never an error
        ("+1", "US", "+1"),
    ],
)
def test_phones_are_written_as_the_alums_country_dials_them(
    stored: str, home: str | None, expected: str
) -> None:
    assert phone_display(stored, home_country=home) == expected


def test_country_names_are_in_the_readers_language() -> None:
    assert country_name("EG", locale="en") == "Egypt"
    assert country_name("eg", locale="fr") == "Égypte"
    assert country_name("EG", locale="ar-EG") == "مصر"
    assert country_name("BR", locale="pt-BR") == "Brasil"
    assert country_name("JP", locale="nonsense-tag!") == "Japan"
    assert country_name("ZZZ", locale="en") == "ZZZ"  # not a country CLDR knows: as given
    assert country_name(None, locale="en") is None and country_name(" ", locale="en") is None


@pytest.mark.parametrize(
    ("city", "country", "locale", "expected"),
    [
        ("Lyon", "FR", "en", "Lyon, France"),
        ("Lyon", "FR", "fr", "Lyon, France"),
        ("Recife", "BR", "es", "Recife, Brasil"),
        ("القاهرة", "EG", "ar", "القاهرة، مصر"),  # the Arabic comma
        ("東京", "JP", "ja", "日本 東京"),  # the country first
        ("서울", "KR", "ko", "대한민국 서울"),
        (None, "DE", "en", "Germany"),
        ("Lagos", None, "en", "Lagos"),
        (None, None, "en", None),
        ("  ", "", "en", None),
    ],
)
def test_a_place_is_written_as_the_readers_language_writes_it(
    city: str | None, country: str | None, locale: str, expected: str | None
) -> None:
    assert place_line(city, country, locale=locale) == expected
