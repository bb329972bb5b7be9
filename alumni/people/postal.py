"""Where an alum lives and their phone number, written the way their country writes them.

The office keeps no street address (the import's columns are ``city`` and ``country``:
``alumni.people.validation.COLUMNS``), so a place is the city and the country's name in the
reader's language (Babel, CLDR): "Cairo, Egypt", "Le Caire, Égypte" is not attempted (a city is
shown as the alum wrote it), "القاهرة، مصر" joins with the Arabic comma. Chinese, Japanese and
Korean write the larger unit first: "日本 東京" (``COUNTRY_FIRST_LANGUAGES``).

A phone number (stored in E.164, ``+442079460958``) is shown as the alum's own country dials
it when it is a number of that country ("020 7946 0958" for an alum in GB), and in
international form otherwise ("+44 20 7946 0958" for an alum in France or with no country), as
``phonenumbers`` formats them. A value that is not a phone number is shown as stored.

Example:
    >>> phone_display("+442079460958", home_country="GB")
    '020 7946 0958'
    >>> place_line("Lyon", "FR", locale="en")
    'Lyon, France'
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from babel import Locale, UnknownLocaleError
from phonenumbers import PhoneNumberFormat

__all__ = ["COUNTRY_FIRST_LANGUAGES", "country_name", "phone_display", "place_line"]

# Languages that write the country before the city.
COUNTRY_FIRST_LANGUAGES: Final = frozenset({"zh", "ja", "ko"})
# The comma a language puts between a city and its country.
_COMMAS: Final = {"ar": "\u060c ", "fa": "\u060c ", "ur": "\u060c "}


def _babel(locale: str | None) -> Locale:
    # alumni.people may not import alumni.messages (the import contract), so not locale_format.
    if locale and locale.strip():
        try:
            return Locale.parse(locale.strip().replace("_", "-"), sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return Locale.parse("en")


def country_name(country: str | None, *, locale: str | None) -> str | None:
    """The name of ISO 3166 ``country`` in ``locale``'s language ("Égypte" for EG in ``fr``),
    the code itself when CLDR has no name for it, or None for no country."""
    if not country or not country.strip():
        return None
    code = country.strip().upper()
    return str(_babel(locale).territories.get(code, code))


def place_line(city: str | None, country: str | None, *, locale: str | None) -> str | None:
    """The city and the country's name as ``locale`` writes a place (see the module
    docstring); either may be missing, and None when both are."""
    babel_locale = _babel(locale)
    parts = [part for part in ((city or "").strip(), country_name(country, locale=locale)) if part]
    if not parts:
        return None
    if babel_locale.language in COUNTRY_FIRST_LANGUAGES:
        return " ".join(reversed(parts))
    return _COMMAS.get(babel_locale.language, ", ").join(parts)


def phone_display(value: str, *, home_country: str | None) -> str:
    """A stored phone number as the alum reads it: national form when it belongs to
    ``home_country`` (the alum's ISO 3166 country), international form otherwise."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    own = bool(home_country) and (
        phonenumbers.region_code_for_number(number) == (home_country or "").strip().upper()
    )
    form = PhoneNumberFormat.NATIONAL if own else PhoneNumberFormat.INTERNATIONAL
    return str(phonenumbers.format_number(number, form))
