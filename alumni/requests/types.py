"""Request types and their SLA rules, read from ``requests.toml`` (or ``ALUMNI_REQUESTS_FILE``).

Each table of the file is one type (``[letter]``, ``[welfare]``, ...) with its deadlines as
spans such as ``"2 business days"``, ``"24 hours"`` or ``"never"``, and its special steps. The
file is checked whole when it is read: an unknown key, a bad span, a missing field or a missing
type of the six the desk relies on raises `RequestTypesError` naming the file, the type and the
field, and what to write. Nothing here touches the database.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from alumni.settings import get_settings

SpanUnit = Literal["business_days", "business_hours", "hours", "days"]
# The six types the desk, its pages and its ladder are written for.
REQUIRED_TYPES = ("letter", "certificate", "referral", "welfare", "question", "idea")
_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,15}")  # fits Request.type (16 characters)
_SPAN = re.compile(r"(-?\d+)\s+(business\s+)?(day|days|hour|hours)")
_SPAN_EXAMPLE = (
    'a whole number and a unit, like "2 business days", "4 business hours", "24 hours" or "14 days"'
)


class RequestTypesError(ValueError):
    """The request types file cannot be used; the message names the file, type and field."""


@dataclass(frozen=True)
class Span:
    """A length of SLA time: business days and hours count only the office's open hours;
    ``hours`` and ``days`` run on every day (a day is a calendar day of the office)."""

    amount: int
    unit: SpanUnit

    def __post_init__(self) -> None:
        if self.amount < 1 or self.unit not in get_args(SpanUnit):
            raise ValueError(f"not a span: {self.amount} {self.unit}")

    def __str__(self) -> str:
        """As written in requests.toml: "1 business day", "24 hours"."""
        words = self.unit.replace("_", " ")
        return f"{self.amount} {words.removesuffix('s') if self.amount == 1 else words}"


@dataclass(frozen=True)
class RequestType:
    """The rules of one kind of request."""

    name: str  # letter / certificate / referral / welfare / question / idea
    title: str  # "Recommendation letter" (English; pages translate by name)
    first_response: Span
    next_update: Span | None  # how long the alum may wait between two words from us
    resolution: Span | None  # None: never closed automatically (welfare)
    escalate_every: Span | None  # welfare: the ladder climbs by the hour
    director_after: Span  # how long after a breach the director hears of it
    confidential: bool  # welfare: content only for named officers
    needs_referee: bool
    needs_identity_check: bool
    needs_consent: bool
    needs_decision: bool


# Each key of a type's table: (required, "never" allowed). Booleans default to false.
_SPANS = {
    "first_response": (True, False),
    "next_update": (True, True),
    "resolution": (True, True),
    "escalate_every": (False, True),
    "director_after": (True, False),
}
_FLAGS = (
    "confidential",
    "needs_referee",
    "needs_identity_check",
    "needs_consent",
    "needs_decision",
)
_KEYS = ("title", *_SPANS, *_FLAGS)


def load_request_types(path: Path | None = None) -> dict[str, RequestType]:
    """Read and check the request types file.

    Args:
        path: the file; None: ``Settings.requests_file`` (``ALUMNI_REQUESTS_FILE``, by default
            ``requests.toml`` at the repository root).

    Returns:
        The types by name, in the file's order.

    Raises:
        RequestTypesError: the file is missing or not TOML, or a type or field is wrong; the
            message names the file, the type and the field, and what to write.
    """
    path = get_settings().requests_file if path is None else path
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RequestTypesError(
            f"{path}: cannot read the request types file ({exc.strerror}); point "
            "ALUMNI_REQUESTS_FILE at a copy of the shipped requests.toml"
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RequestTypesError(f"{path}: not a TOML file: {exc}") from exc
    types: dict[str, RequestType] = {}
    for name, table in document.items():
        if not _TYPE_NAME.fullmatch(name) or not isinstance(table, dict):
            raise RequestTypesError(
                f"{path}: {name!r} is not a request type; write each type as a table named "
                "in lowercase letters, digits and _ (at most 16), like [letter]"
            )
        types[name] = _request_type(path, name, table)
    missing = [name for name in REQUIRED_TYPES if name not in types]
    if missing:
        raise RequestTypesError(
            f"{path}: the type(s) {', '.join(missing)} are missing; the desk needs all of "
            f"{', '.join(REQUIRED_TYPES)}: copy their tables from the shipped requests.toml"
        )
    return types


def _request_type(path: Path, name: str, table: dict[str, Any]) -> RequestType:
    where = f"{path}: [{name}]"
    unknown = [key for key in table if key not in _KEYS]
    if unknown:
        raise RequestTypesError(
            f"{where} has an unknown key {unknown[0]!r}; the keys of a type are {', '.join(_KEYS)}"
        )
    title = table.get("title")
    if not isinstance(title, str) or not title.strip():
        raise RequestTypesError(
            f"{where} title: write the type's name for people, like "
            'title = "Recommendation letter"'
        )
    spans = {key: _span(where, key, table.get(key), *rule) for key, rule in _SPANS.items()}
    flags: dict[str, bool] = {}
    for key in _FLAGS:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise RequestTypesError(f"{where} {key} = {value!r}: write true or false")
        flags[key] = value
    first_response, director_after = spans["first_response"], spans["director_after"]
    assert first_response is not None and director_after is not None  # required: never None
    return RequestType(
        name=name,
        title=title.strip(),
        first_response=first_response,
        next_update=spans["next_update"],
        resolution=spans["resolution"],
        escalate_every=spans["escalate_every"],
        director_after=director_after,
        **flags,
    )


def _span(where: str, key: str, value: object, required: bool, may_be_never: bool) -> Span | None:
    """The span written as ``value`` ("2 business days", "never"); None for never or absent."""
    never = ' or "never"' if may_be_never else ""
    if value is None:
        if required:
            raise RequestTypesError(f"{where} has no {key}: write {key} = {_SPAN_EXAMPLE}{never}")
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    if may_be_never and text == "never":
        return None
    match = _SPAN.fullmatch(text)
    if match is None or int(match[1]) < 1:
        reason = "not a span of time" if match is None else "a span must be at least 1"
        raise RequestTypesError(
            f"{where} {key} = {value!r}: {reason}; write {_SPAN_EXAMPLE}{never}"
        )
    unit = ("business_" if match[2] else "") + match[3].rstrip("s") + "s"
    return Span(int(match[1]), cast(SpanUnit, unit))
