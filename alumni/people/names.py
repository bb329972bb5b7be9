"""An alum's full name in the order their culture writes it.

Most of the office's alumni write the given name first ("Ana Souza"). Chinese, Japanese, Korean,
Hungarian and Vietnamese names are written family name first ("Tanaka Hiroshi", "Nagy Ferenc",
"Nguyễn Văn An"), and so is Mongolian and Khmer. Which order an alum uses is read from their
own locale's language when they have one (it says how they write), else from their country
(``FAMILY_FIRST_COUNTRIES``), else given name first. A name written wholly in Chinese characters,
kana or Hangul is joined without a space ("王小明", "김민준"), as those scripts write it.

A greeting ("Dear ...") uses the given name where the culture greets that way, and the full
name in the alum's order where the family name comes first (an office does not greet Tanaka
Hiroshi as "Hiroshi"): :func:`greeting_name`.

The order is the alum's, whatever language the message is in: a Japanese alum is "Tanaka
Hiroshi" in an English email too, as they would sign it.

Example:
    >>> full_name("Hiroshi", "Tanaka", locale="ja-JP", country=None)
    'Tanaka Hiroshi'
    >>> full_name("Ana", "Souza", locale="pt-BR", country="BR")
    'Ana Souza'
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

__all__ = [
    "FAMILY_FIRST_COUNTRIES",
    "FAMILY_FIRST_LANGUAGES",
    "family_name_first",
    "full_name",
    "greeting_name",
]

# ISO 639 languages whose speakers write the family name first.
FAMILY_FIRST_LANGUAGES: Final = frozenset({"zh", "ja", "ko", "hu", "vi", "mn", "km"})
# ISO 3166 countries where the family name comes first, for alumni without a locale.
FAMILY_FIRST_COUNTRIES: Final = frozenset(
    {"CN", "TW", "HK", "MO", "JP", "KR", "KP", "HU", "VN", "MN", "KH"}
)
# Chinese characters, kana and Hangul: scripts that write a name without spaces.
_NO_SPACE_RANGES: Final = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # CJK Extensions B-F and supplements
)


@lru_cache(maxsize=1024)  # asked for every message of a campaign, for a few locales
def family_name_first(*, locale: str | None, country: str | None) -> bool:
    """True when an alum of ``locale`` (a BCP 47 tag) and ``country`` (ISO 3166 alpha-2) writes
    the family name first: by the locale's language when there is one, else by the country."""
    if locale and locale.strip():
        language = locale.strip().replace("_", "-").split("-")[0].lower()
        return language in FAMILY_FIRST_LANGUAGES
    return bool(country) and (country or "").strip().upper() in FAMILY_FIRST_COUNTRIES


def _without_spaces(text: str) -> bool:
    return bool(text) and all(
        any(low <= ord(char) <= high for low, high in _NO_SPACE_RANGES) for char in text
    )


def full_name(first: str, last: str, *, locale: str | None, country: str | None) -> str:
    """The alum's full name in their order (see the module docstring); either part may be
    empty, and the other is returned alone."""
    first, last = first.strip(), last.strip()
    parts = [last, first] if family_name_first(locale=locale, country=country) else [first, last]
    parts = [part for part in parts if part]
    separator = "" if all(_without_spaces(part) for part in parts) else " "
    return separator.join(parts)


def greeting_name(first: str, last: str, *, locale: str | None, country: str | None) -> str:
    """The name to greet the alum by in a salutation: the given name ("Ana"), or the full name
    in their order where the family name comes first ("Tanaka Hiroshi")."""
    if family_name_first(locale=locale, country=country) or not first.strip():
        return full_name(first, last, locale=locale, country=country)
    return first.strip()
