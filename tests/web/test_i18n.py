"""The pages' words: every language complete, the alum's language chosen as the emails choose
theirs, the browser's from Accept-Language, dates written by Babel."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime

import pytest

from alumni.web.i18n import LOCALES, WORDS, accepted_locale, page_locale, words_for


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_every_language_has_every_key_with_the_same_placeholders(locale: str) -> None:
    english, other = WORDS["en"], WORDS[locale]
    assert set(other) == set(english)
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key
    # Translated, not copied: only names (Mastodon, Bluesky, Pause, ...) may read the same.
    same = {key for key in english if other[key] == english[key]}
    assert len(same) <= 5, sorted(same)


def test_the_languages_are_those_of_the_email_templates() -> None:
    assert set(LOCALES) == {"en", "es", "fr", "pt-BR", "ar"}


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("pt-BR", "pt-BR"),
        ("pt_br", "pt-BR"),
        ("ar-EG", "ar"),
        ("pt", "en"),
        ("pt-PT", "en"),
        ("es-MX", "es"),
        ("fr-CA", "fr"),
        ("FR", "fr"),
        ("de-DE", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_an_alums_locale_falls_back_as_the_email_templates_do(
    tag: str | None, expected: str
) -> None:
    assert page_locale(tag) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de, es;q=0.5, fr;q=0.4", "es"),
        ("en;q=0.1, pt-BR;q=0.9", "pt-BR"),
        ("es;q=0, fr", "fr"),
        ("es;q=oops, fr", "fr"),
        ("de, *", "en"),
        ("", "en"),
        (None, "en"),
        (";;;,,,", "en"),
    ],
)
def test_the_browsers_language_is_the_first_we_have(header: str | None, expected: str) -> None:
    assert accepted_locale(header) == expected


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    day = date(2025, 5, 1)
    assert [words_for(locale).day(day) for locale in LOCALES] == [
        "May 1, 2025",
        "1 de mayo de 2025",
        "1 mai 2025",
        "1 de maio de 2025",
        "1 مايو 2025",
    ]
    # A moment is read in the alum's zone: 02:00 UTC is still the day before in São Paulo.
    late = datetime(2025, 5, 2, 2, 0, tzinfo=UTC)
    assert words_for("en").day(late, "America/Sao_Paulo") == "May 1, 2025"
    assert words_for("en").day(late, None) == "May 2, 2025"
    assert words_for("en").day(late, "Not/AZone") == "May 2, 2025"
    with pytest.raises(KeyError, match="no page words for locale 'de'"):
        words_for("de")
