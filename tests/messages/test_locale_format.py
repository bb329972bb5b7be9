"""Dates, times, numbers and lists per locale (Babel), and the filters of the one template store
that write them in the template's language, refined by the alum's own tag."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from alumni.messages.locale_format import (
    babel_locale,
    comma,
    format_clock,
    format_day,
    format_moment,
    format_month,
    format_number,
    format_words,
    reading_locale,
    text_direction,
    zone_of,
)
from alumni.messages.rendering import RenderError, TemplateStore
from tests.messages.test_rendering import sample_context

NNBSP = "\u202f"  # CLDR's narrow no-break space (before PM, in French thousands)
EVENING = datetime(2027, 6, 12, 18, 0, tzinfo=UTC)  # 19:00 in London, 20:00 in Cairo


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "June 12, 2027"),
        ("en-GB", "12 June 2027"),
        ("es", "12 de junio de 2027"),
        ("fr", "12 juin 2027"),
        ("pt-BR", "12 de junho de 2027"),
        ("ar", "12 يونيو 2027"),
        ("ar-EG", "12 يونيو 2027"),
        ("ja", "2027年6月12日"),
        ("xx-Nowhere", "June 12, 2027"),  # unknown: English, never an error
        (None, "June 12, 2027"),
    ],
)
def test_a_day_is_written_as_each_language_writes_it(tag: str | None, expected: str) -> None:
    assert format_day(date(2027, 6, 12), tag) == expected


def test_a_moment_is_read_in_the_zone_given_before_its_day_is_written() -> None:
    late = datetime(2027, 6, 13, 2, 0, tzinfo=UTC)
    assert format_day(late, "en", zone="America/Sao_Paulo") == "June 12, 2027"
    assert format_day(late, "en", zone=None) == "June 13, 2027"
    assert format_day(late, "en", zone="Not/AZone") == "June 13, 2027"
    assert format_day(late, "en", zone="UTC", width="full") == "Sunday, June 13, 2027"
    with pytest.raises(ValueError, match="no time zone"):
        format_day(datetime(2027, 6, 13, 2, 0), "en")


def test_times_are_in_the_readers_zone_and_clock() -> None:
    assert format_clock(EVENING, "en", zone="Europe/London") == f"7:00{NNBSP}PM"
    assert format_clock(EVENING, "en-GB", zone="Europe/London") == "19:00"
    assert format_clock(EVENING, "fr", zone="Europe/Paris") == "20:00"
    assert format_clock(EVENING, "ar", zone="Africa/Cairo") == "9:00 م"


def test_a_moment_joins_day_and_time_as_cldr_says_and_names_the_zone() -> None:
    assert format_moment(EVENING, "en", zone="Europe/London") == (
        f"Saturday, June 12, 2027, 7:00{NNBSP}PM (Europe/London)"
    )
    assert format_moment(EVENING, "ar-EG", zone="Africa/Cairo") == (
        "السبت، 12 يونيو 2027، 9:00 م (Africa/Cairo)"
    )
    assert format_moment(EVENING, "pt-BR", zone="America/Sao_Paulo") == (
        "sábado, 12 de junho de 2027 15:00 (America/Sao_Paulo)"
    )
    assert format_moment(EVENING, "en", zone="Not/AZone").endswith("(UTC)")


def test_numbers_lists_and_months() -> None:
    assert format_number(1234567.5, "en") == "1,234,567.5"
    assert format_number(1234567.5, "fr") == f"1{NNBSP}234{NNBSP}567,5"
    assert format_number(1234567.5, "pt-BR") == "1.234.567,5"
    assert format_number(1234, "ar") == "1,234"  # Latin digits, as the office's years are
    assert format_words(["Lima", "Oslo", "Cairo"], "en") == "Lima, Oslo, and Cairo"
    assert format_words(["Lima", "Oslo", "Cairo"], "fr") == "Lima, Oslo et Cairo"
    assert format_words(["ليما", "أوسلو", "القاهرة"], "ar") == "ليما وأوسلو والقاهرة"
    assert format_words([], "en") == ""
    assert format_month(date(2026, 11, 1), "fr") == "novembre 2026"
    assert format_month(date(2026, 11, 1), "ar") == "نوفمبر 2026"


def test_direction_and_the_locale_to_format_in() -> None:
    assert [text_direction(tag) for tag in ("ar", "ar-EG", "he", "fa-IR", "en", "ja", None)] == [
        "rtl",
        "rtl",
        "rtl",
        "rtl",
        "ltr",
        "ltr",
        "ltr",
    ]
    assert reading_locale("ar", "ar-EG") == "ar-EG"
    assert reading_locale("en", "en-GB") == "en-GB"
    assert reading_locale("en", "de-DE") == "en"  # an English email is English throughout
    assert reading_locale("ar", "ar-XX-bogus-tag-") == "ar"
    assert reading_locale("pt-BR", None) == "pt-BR"
    assert str(babel_locale("pt_BR")) == "pt_BR" and str(babel_locale("nonsense!")) == "en"
    assert [comma(tag) for tag in ("en", "pt-BR", "ar-EG", "fa")] == [", ", ", ", "، ", "، "]
    assert str(zone_of("Bad/Zone")) == "UTC" and str(zone_of("Africa/Cairo")) == "Africa/Cairo"


def write_template(root: Path, locale: str, text: str) -> None:
    folder = root / "email" / "t"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{locale}.subject.j2").write_text("Subject\n", encoding="utf-8")
    (folder / f"{locale}.txt.j2").write_text(text + "\n{{ links.unsubscribe }}\n", encoding="utf-8")
    (folder / f"{locale}.html.j2").write_text(
        text + "\n{{ links.unsubscribe }}\n", encoding="utf-8"
    )


def test_the_store_filters_write_in_the_templates_language_refined_by_the_alums(
    tmp_path: Path,
) -> None:
    text = (
        "{{ cohort.classmates|format_number }} | {{ when|format_date }} | "
        "{{ when|format_date('full', 'Africa/Cairo') }} | {{ when|format_time('Africa/Cairo') }} | "
        "{{ when|format_datetime('Europe/London') }} | {{ cities|format_list }}"
    )
    for locale in ("en", "fr", "ar"):
        write_template(tmp_path, locale, text)
    store = TemplateStore(tmp_path)
    context = {**sample_context(cohort={"classmates": 1234}), "when": EVENING}
    context["cities"] = ["Lima", "Oslo"]

    def first_line(locale: str | None) -> str:
        return store.render_email("t", locale, context).text.splitlines()[0]

    assert first_line("en") == (
        f"1,234 | June 12, 2027 | Saturday, June 12, 2027 | 9:00{NNBSP}PM | "
        f"Saturday, June 12, 2027, 7:00{NNBSP}PM (Europe/London) | Lima and Oslo"
    )
    # An alum in Britain reads the English template the British way.
    assert first_line("en-GB").startswith("1,234 | 12 June 2027 | Saturday, 12 June 2027 | 21:00")
    # A German alum falls back to English: the dates are English too, never German.
    assert first_line("de-DE") == first_line("en")
    # Canadian French writes its own way: "21 h 00" and a plain no-break space in 1 234.
    assert first_line("fr-CA").startswith("1\xa0234 | 12 juin 2027 | samedi 12 juin 2027 | 21 h 00")
    assert first_line("fr").startswith(f"1{NNBSP}234 | 12 juin 2027 | samedi 12 juin 2027 | 21:00")
    assert first_line("ar-EG") == (
        "1,234 | 12 يونيو 2027 | السبت، 12 يونيو 2027 | 9:00 م | "
        "السبت، 12 يونيو 2027، 7:00 م (Europe/London) | Lima وOslo"
    )
    # HTML is still escaped after a filter.
    context["cities"] = ["<b>Lima</b>", "Oslo"]
    assert "&lt;b&gt;Lima&lt;/b&gt;" in store.render_email("t", "en", context).html


def test_a_filter_given_what_it_cannot_format_names_the_template(tmp_path: Path) -> None:
    write_template(tmp_path, "en", "{{ alum.first_name|format_number }}")
    store = TemplateStore(tmp_path)
    with pytest.raises(RenderError, match=r"email/t/en\.(txt|html)\.j2"):
        store.render_email("t", "en", sample_context())
