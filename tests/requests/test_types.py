"""Request types: the shipped requests.toml holds the issue's table, ALUMNI_REQUESTS_FILE names
another file, and every mistake in a file is an error naming the file, the type and the field,
and what to write."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from alumni.requests.types import (
    REQUIRED_TYPES,
    RequestType,
    RequestTypesError,
    Span,
    load_request_types,
)
from alumni.settings import get_settings

SHIPPED = Path(__file__).resolve().parents[2] / "requests.toml"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ALUMNI_REQUESTS_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_shipped_file_holds_the_issues_table() -> None:
    types = load_request_types()
    assert list(types) == list(REQUIRED_TYPES)
    letter, certificate, referral = types["letter"], types["certificate"], types["referral"]
    welfare, question, idea = types["welfare"], types["question"], types["idea"]
    assert (letter.first_response, letter.resolution) == (
        Span(2, "business_days"),
        Span(10, "business_days"),
    )
    assert letter.needs_referee and not letter.confidential
    assert (certificate.first_response, certificate.resolution) == (
        Span(1, "business_days"),
        Span(5, "business_days"),
    )
    assert certificate.needs_identity_check
    assert (referral.first_response, referral.resolution) == (
        Span(2, "business_days"),
        Span(7, "business_days"),
    )
    assert referral.needs_consent
    assert welfare == RequestType(
        name="welfare",
        title="Welfare",
        first_response=Span(24, "hours"),
        next_update=Span(24, "hours"),
        resolution=None,
        escalate_every=Span(1, "hours"),
        director_after=Span(2, "hours"),
        confidential=True,
        needs_referee=False,
        needs_identity_check=False,
        needs_consent=False,
        needs_decision=False,
    )
    assert (question.first_response, question.resolution) == (
        Span(2, "business_days"),
        Span(5, "business_days"),
    )
    assert (idea.first_response, idea.resolution) == (Span(5, "business_days"), Span(14, "days"))
    assert idea.needs_decision
    for rtype in types.values():
        assert rtype.next_update is not None and rtype.title
        assert rtype.escalate_every is None or rtype.confidential  # only welfare climbs hourly
        assert rtype.director_after == (
            Span(2, "hours") if rtype.confidential else Span(1, "business_days")
        )
    assert get_settings().requests_file == SHIPPED


def test_alumni_requests_file_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "our-desk.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    mine.write_text(
        text.replace('first_response = "1 business day"', 'first_response = "4 business hours"')
        + '\n[transcript]\ntitle = "Transcript"\nfirst_response = "3 business days"\n'
        'next_update = "never"\nresolution = "10 business days"\ndirector_after = "2 days"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ALUMNI_REQUESTS_FILE", str(mine))
    get_settings.cache_clear()
    types = load_request_types()
    assert types["certificate"].first_response == Span(4, "business_hours")
    assert types["transcript"].next_update is None
    assert types["transcript"].director_after == Span(2, "days")
    assert load_request_types(SHIPPED)["certificate"].first_response == Span(1, "business_days")


def _with(tmp_path: Path, old: str, new: str, *, in_type: str = "letter") -> Path:
    """A copy of the shipped file with ``old`` replaced by ``new`` in the table of ``in_type``."""
    text = SHIPPED.read_text(encoding="utf-8")
    head, table, rest = text.partition(f"[{in_type}]\n")
    body, blank, tail = rest.partition("\n\n")
    assert old in body, (old, body)
    path = tmp_path / "requests.toml"
    path.write_text(head + table + body.replace(old, new, 1) + blank + tail, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "in_type", "says"),
    [
        (
            'first_response = "2 business days"',
            'frist_response = "2 business days"',
            "letter",
            r"\[letter\] has an unknown key 'frist_response'; the keys of a type are title, "
            "first_response,",
        ),
        (
            'resolution = "5 business days"',
            'resolution = "5 weeks"',
            "certificate",
            r"\[certificate\] resolution = '5 weeks': not a span of time; write a whole number "
            'and a unit, like "2 business days", .* or "never"',
        ),
        (
            'first_response = "2 business days"',
            'first_response = "-2 business days"',
            "question",
            r"\[question\] first_response = '-2 business days': a span must be at least 1; "
            'write a whole number and a unit, like "2 business days", "4 business hours", '
            r'"24 hours" or "14 days"$',
        ),
        (
            'escalate_every = "1 hour"',
            'escalate_every = "0 hours"',
            "welfare",
            r"\[welfare\] escalate_every = '0 hours': a span must be at least 1",
        ),
        (
            'director_after = "1 business day"',
            'director_after = "never"',
            "idea",
            r"\[idea\] director_after = 'never': not a span of time",
        ),
        (
            'first_response = "2 business days"',
            "first_response = 2",
            "referral",
            r"\[referral\] first_response = 2: not a span of time",
        ),
        (
            'next_update = "5 business days"\n',
            "",
            "letter",
            r"\[letter\] has no next_update: write next_update = a whole number and a unit, "
            '.* or "never"',
        ),
        (
            "confidential = true",
            'confidential = "yes"',
            "welfare",
            r"\[welfare\] confidential = 'yes': write true or false",
        ),
        (
            'title = "Question"',
            'title = ""',
            "question",
            r"\[question\] title: write the type's name for people",
        ),
    ],
)
def test_a_mistake_in_a_type_is_named(
    tmp_path: Path, old: str, new: str, in_type: str, says: str
) -> None:
    path = _with(tmp_path, old, new, in_type=in_type)
    with pytest.raises(RequestTypesError, match=rf"^{re.escape(str(path))}: {says}"):
        load_request_types(path)


def test_a_missing_type_is_named(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index("[referral]")
    path = tmp_path / "requests.toml"
    path.write_text(text[:start] + text[text.index("[welfare]") :], encoding="utf-8")
    with pytest.raises(
        RequestTypesError,
        match=rf"^{re.escape(str(path))}: the type\(s\) referral are missing; the desk needs "
        "all of letter, "
        "certificate, referral, welfare, question, idea: copy their tables from the shipped",
    ):
        load_request_types(path)


def test_a_file_that_is_not_request_types_is_named(tmp_path: Path) -> None:
    path = tmp_path / "requests.toml"
    path.write_text('version = 2\n[letter]\ntitle = "Letter"\n', encoding="utf-8")
    with pytest.raises(
        RequestTypesError, match=rf"^{re.escape(str(path))}: 'version' is not a request type"
    ):
        load_request_types(path)
    path.write_text('[Letter]\ntitle = "Letter"\n', encoding="utf-8")
    with pytest.raises(
        RequestTypesError, match=rf"^{re.escape(str(path))}: 'Letter' is not a request type"
    ):
        load_request_types(path)
    path.write_text("[letter\n", encoding="utf-8")
    with pytest.raises(RequestTypesError, match=rf"^{re.escape(str(path))}: not a TOML file: "):
        load_request_types(path)
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(
        RequestTypesError,
        match=rf"^{re.escape(str(missing))}: cannot read the request types file "
        r"\(No such file or directory\); "
        "point ALUMNI_REQUESTS_FILE at a copy of the shipped requests.toml",
    ):
        load_request_types(missing)


def test_spans_read_as_written() -> None:
    assert [str(Span(1, "business_days")), str(Span(24, "hours"))] == ["1 business day", "24 hours"]
    with pytest.raises(ValueError, match="not a span: 0 hours"):
        Span(0, "hours")
