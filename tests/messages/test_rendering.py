"""Rendering: sandbox, escaping, strict variables, locale fallback, preflight, shipped templates."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from markupsafe import escape

from alumni.messages.rendering import (
    TEMPLATE_REF,
    PreflightError,
    RenderedEmail,
    RenderError,
    TemplateStore,
    locale_candidates,
    preflight,
)

SHIPPED = Path(__file__).resolve().parents[2] / "templates"
SHIPPED_NAMES = ["newsletter", "reunion"]
# Shipped too; its context adds ``digest``, so tests/delivery/test_digest.py renders it.
SHIPPED_DIGEST = "digest"
SHIPPED_LOCALES = ["ar", "en", "es", "fr", "pt-BR"]

SIMPLE = {
    "subject": "Hello {{ alum.first_name }}",
    "txt": "Dear {{ alum.first_name }}\nUnsubscribe: {{ links.unsubscribe }}\n",
    "html": '<p>Dear {{ alum.first_name }}</p><a href="{{ links.unsubscribe }}">Unsubscribe</a>\n',
}


def sample_context(**sections: dict[str, Any]) -> dict[str, Any]:
    """The context contract of alumni.messages.rendering, filled in; ``sections`` update it."""
    context: dict[str, Any] = {
        "alum": {
            "first_name": "Ana",
            "last_name": "Souza",
            "display_name": "Ana Souza",
            "greeting_name": "Ana",
            "class_year": 2001,
            "programme": "Civil Engineering",
            "city": "Recife",
            "country": "BR",
        },
        "cohort": {
            "year": 2001,
            "classmates": 212,
            "years_since": 25,
            "next_milestone": 25,
            "next_milestone_year": 2026,
            "countries": 14,
        },
        "campaign": {"name": "Class of 2001 reunion"},
        "office": {
            "name": "Alumni Relations Office",
            "email": "alumni@school.example",
            "postal_address": "1 College Road\nSpringfield 12345\nUnited States",
        },
        "links": {
            "unsubscribe": "https://alumni.school.example/u/abc123?c=7&s=x",
            "preferences": "https://alumni.school.example/p/abc123",
            "details": "https://alumni.school.example/d/abc123",
            "request": "https://alumni.school.example/requests/new/abc123",
        },
    }
    for key, values in sections.items():
        context[key] = {**context[key], **values}
    return context


SPARSE: dict[str, dict[str, Any]] = {
    "alum": {"programme": None, "city": None, "country": None},
    "cohort": {"next_milestone": None, "next_milestone_year": None, "years_since": 55},
    "links": {"preferences": None},
}


def make_store(
    root: Path, templates: dict[str, dict[str, str]], name: str = "t", family: str = "email"
) -> TemplateStore:
    """Write ``{locale: {part: source}}`` as <family>/<name>/<locale>.<part>.j2 and open a store."""
    folder = root / family / name
    folder.mkdir(parents=True, exist_ok=True)
    for locale, parts in templates.items():
        for part, source in parts.items():
            (folder / f"{locale}.{part}.j2").write_text(source, encoding="utf-8")
    return TemplateStore(root)


def marked(locale: str) -> dict[str, str]:
    """A complete template set whose every part says which locale file it came from."""
    return {part: f"[{locale}] {source}" for part, source in SIMPLE.items()}


# --- locale candidates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pt-BR", ["pt-BR", "pt", "en"]),
        ("zh-Hant-TW", ["zh-Hant-TW", "zh-Hant", "zh", "en"]),
        (None, ["en"]),
        ("", ["en"]),
        ("  ", ["en"]),
        ("en", ["en"]),
        ("EN-gb", ["EN-gb", "EN"]),
        ("pt_BR", ["pt-BR", "pt", "en"]),
        ("en-US-x-twain", ["en-US-x-twain", "en-US", "en"]),
    ],
)
def test_locale_candidates(locale: str | None, expected: list[str]) -> None:
    assert locale_candidates(locale) == expected


def test_locale_candidates_end_with_the_given_default() -> None:
    assert locale_candidates("pt-BR", default="es") == ["pt-BR", "pt", "es"]
    assert locale_candidates("ES-mx", default="es") == ["ES-mx", "ES"]


# --- locale fallback in the store --------------------------------------------------------------


def test_fallback_goes_from_region_to_language_to_default(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": marked("en"), "pt": marked("pt"), "pt-BR": marked("pt-BR")})
    context = sample_context()
    assert store.render_email("t", "pt-BR", context).text.startswith("[pt-BR]")
    assert store.render_email("t", "pt-PT", context).locale == "pt"
    assert store.render_email("t", "fr-CA", context).locale == "en"
    assert store.render_email("t", None, context).locale == "en"


def test_region_without_language_file_falls_to_default(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": marked("en"), "pt-BR": marked("pt-BR")})
    email = store.render_email("t", "pt-PT", sample_context())
    assert email.locale == "en"
    assert email.subject == "[en] Hello Ana"


@pytest.mark.parametrize("asked", ["pt-br", "PT-BR", "pt_BR", "Pt-bR"])
def test_locale_match_is_case_insensitive(tmp_path: Path, asked: str) -> None:
    store = make_store(tmp_path, {"en": marked("en"), "pt-BR": marked("pt-BR")})
    email = store.render_email("t", asked, sample_context())
    assert email.locale == "pt-BR"
    assert email.html.startswith("[pt-BR]")


def test_incomplete_locale_is_never_used_half(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": marked("en"), "fr": {"subject": "[fr] Bonjour"}})
    email = store.render_email("t", "fr", sample_context())
    assert (email.locale, email.subject) == ("en", "[en] Hello Ana")
    assert store.locales("t") == ["en"]
    assert store.incomplete_locales("t") == {"fr": ["txt", "html"]}


def test_no_complete_locale_names_the_template_and_candidates(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {"subject": "x", "txt": "x"}})
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "pt-BR", sample_context())
    assert caught.value.template == "email/t"
    assert "pt-BR, pt, en" in str(caught.value)


def test_unknown_template_lists_the_known_ones(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": marked("en")}, name="reunion")
    with pytest.raises(RenderError, match=r"email/renuion: no such email template.*reunion"):
        store.render_email("renuion", "en", sample_context())
    with pytest.raises(RenderError, match="lower-case letters"):
        store.render_email("../secrets", "en", sample_context())


def test_templates_are_compiled_once_and_kept(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": marked("en"), "pt": marked("pt")})
    assert store.render_email("t", "pt-BR", sample_context()).locale == "pt"
    for path in (tmp_path / "email" / "t").glob("pt.*"):
        path.unlink()
    # The first store resolved and compiled pt once; it neither probes nor re-reads the files.
    assert store.render_email("t", "pt-BR", sample_context()).locale == "pt"
    assert TemplateStore(tmp_path).render_email("t", "pt-BR", sample_context()).locale == "en"


# --- escaping and subjects ---------------------------------------------------------------------


def test_html_is_autoescaped_and_text_and_subject_are_not(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": SIMPLE})
    hostile = "<script>alert('x')</script>"
    email = store.render_email("t", "en", sample_context(alum={"first_name": hostile}))
    assert "<script>" not in email.html
    assert str(escape(hostile)) in email.html
    assert hostile in email.text
    assert email.subject == f"Hello {hostile}"


def test_subject_whitespace_and_line_breaks_collapse_to_one_line(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, {"en": {**SIMPLE, "subject": "\n  Hello\t\t{{ alum.first_name }}  \n\n!\n"}}
    )
    injected = "Ana\r\nBcc: everyone@example.org\u2028\x00Lee\x0b"
    email = store.render_email("t", "en", sample_context(alum={"first_name": injected}))
    assert email.subject == "Hello Ana Bcc: everyone@example.org Lee !"


def test_empty_subject_is_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "subject": "{{ alum.first_name }}\n"}})
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context(alum={"first_name": " \r\n\t"}))
    assert caught.value.template == "email/t/en.subject.j2"
    assert "subject is empty" in str(caught.value)


def test_rendered_email_is_frozen(tmp_path: Path) -> None:
    email = make_store(tmp_path, {"en": SIMPLE}).render_email("t", "en", sample_context())
    assert isinstance(email, RenderedEmail)
    with pytest.raises(AttributeError):
        email.subject = "changed"  # type: ignore[misc]


# --- sandbox -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ alum.first_name.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_refuses_python_internals(tmp_path: Path, source: str) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "html": source}})
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context())
    assert caught.value.template == "email/t/en.html.j2"
    assert str(caught.value).startswith("template email/t/en.html.j2: the sandbox refused it")
    assert isinstance(caught.value.__cause__, SecurityError)


def test_sandbox_refuses_changing_the_context(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, {"en": {**SIMPLE, "txt": "{{ links.update({'unsubscribe': 'x'}) }}"}}
    )
    context = sample_context()
    before = copy.deepcopy(context)
    with pytest.raises(RenderError, match=r"en\.txt\.j2: the sandbox refused it"):
        store.render_email("t", "en", context)
    assert context == before


@pytest.mark.parametrize(
    "source",
    [
        "{{ alum.first_name }}/{{ alum['first_name'] }}",
        "{{ shadow.items is callable }}/{{ shadow['items'] }}/{{ shadow.keys()|list|length }}",
        "{{ shadow.get('items') }}/{{ shadow.copy is defined }}",
        "{{ shadow.__class__ }}",
        "{{ shadow._private }}",
        "{{ shadow.update({'a': 1}) }}",
        "{{ alum.nickname }}",
        "{% for key, value in shadow|dictsort %}{{ key }}={{ value }};{% endfor %}",
        "{% for i in range(3) %}{{ i }}{% endfor %}{% set ns = namespace(n=4) %}{{ ns.n }}",
        "{{ cycler('a', 'b').next() }}{{ range.__name__ }}",
    ],
)
def test_keys_and_globals_read_as_in_jinjas_own_sandbox(tmp_path: Path, source: str) -> None:
    # The store reads a dict's keys without trying an attribute first, and keeps a template's
    # globals in a dict (speed): same answers and refusals as Jinja's own immutable sandbox.
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    context = {
        **sample_context(),
        "shadow": {"items": "kept", "copy": 1, "__class__": "x", "_private": "p"},
    }
    text = source + "\n{{ links.unsubscribe }}"
    store = make_store(tmp_path, {"en": {**SIMPLE, "txt": text}})
    reference = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    try:
        expected: str | type[Exception] = reference.from_string(text).render(context)
    except (SecurityError, UndefinedError) as exc:
        expected = type(exc)
    if isinstance(expected, str):
        assert store.render_email("t", "en", context).text == expected
    else:
        with pytest.raises(RenderError) as caught:
            store.render_email("t", "en", context)
        assert isinstance(caught.value.__cause__, expected)


# --- strict variables --------------------------------------------------------------------------


def test_undefined_top_level_variable_is_named(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "txt": "Hi {{ nickname }}\n"}})
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context())
    assert caught.value.variable == "nickname"
    assert caught.value.locale == "en"
    assert isinstance(caught.value.__cause__, UndefinedError)


def test_undefined_nested_attribute_is_named_with_its_path(tmp_path: Path) -> None:
    store = make_store(
        tmp_path,
        {"pt": {**SIMPLE, "html": "<p>\n{{ cohort.year }}: {{ cohort.next_milestone }}</p>"}},
    )
    context = sample_context()
    del context["cohort"]["next_milestone"]
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "pt-BR", context)
    assert caught.value.variable == "cohort.next_milestone"
    assert str(caught.value) == (
        "template email/t/pt.html.j2: variable 'cohort.next_milestone' is undefined; "
        "add it to the context or remove it from the template"
    )


def test_undefined_subscript_and_undefined_in_a_condition_are_named(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "txt": "{% if alum['nick'] %}x{% endif %}\n"}})
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context())
    assert caught.value.variable == "alum.nick"


def test_printing_none_is_refused_with_the_variable(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, {"en": {**SIMPLE, "txt": "{{ alum.first_name }} in {{ alum.city }}\n"}}
    )
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context(alum={"city": None}))
    assert caught.value.variable == "alum.city"
    assert "would print as 'None'" in str(caught.value)
    assert "{% if alum.city %}" in str(caught.value)


def test_attribute_of_none_names_the_none_variable(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "txt": "{{ alum.city.upper() }}\n"}})
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context(alum={"city": None}))
    assert caught.value.variable == "alum.city"
    assert "'alum.city' is None" in str(caught.value)


def test_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "html": "<p>\n{% if alum.city %}\n</p>"}})
    with pytest.raises(RenderError, match=r"en\.html\.j2: syntax error on line 3"):
        store.render_email("t", "en", sample_context())


def test_other_template_errors_name_template_and_line(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "txt": "a\n{{ cohort.classmates / 0 }}\n"}})
    with pytest.raises(RenderError, match=r"en\.txt\.j2: ZeroDivisionError: .*\(line 2\)"):
        store.render_email("t", "en", sample_context())


# --- the invite family (event mailings) ---------------------------------------------------------


def test_invite_family_has_its_own_locales_beside_email(tmp_path: Path) -> None:
    make_store(tmp_path, {"en": marked("en"), "fr": marked("fr")})
    store = make_store(tmp_path, {"en": marked("invite en")}, family="invite")
    context = sample_context()
    assert store.render_email("t", "fr", context).subject == "[fr] Hello Ana"
    invite = store.render_email("t", "fr", context, family="invite")
    assert (invite.locale, invite.subject) == ("en", "[invite en] Hello Ana")
    assert store.email_locale("t", "fr-CA") == "fr"
    assert store.email_locale("t", "fr-CA", family="invite") == "en"
    assert store.names("invite") == ["t"]
    assert store.locales("t", family="invite") == ["en"]


def test_invite_printing_none_is_refused_with_the_variable(tmp_path: Path) -> None:
    line = "Where: {{ event.place }}\n"
    store = make_store(tmp_path, {"en": {**SIMPLE, "txt": line}}, family="invite")
    context = {**sample_context(), "event": {"place": None}}
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", context, family="invite")
    assert (caught.value.template, caught.value.variable) == ("invite/t/en.txt.j2", "event.place")
    assert "would print as 'None'" in str(caught.value)


def test_invite_templates_run_in_the_sandbox(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, {"en": {**SIMPLE, "html": "{{ ''.__class__.__mro__ }}"}}, family="invite"
    )
    with pytest.raises(RenderError) as caught:
        store.render_email("t", "en", sample_context(), family="invite")
    assert str(caught.value).startswith("template invite/t/en.html.j2: the sandbox refused it")
    assert isinstance(caught.value.__cause__, SecurityError)


def test_preflight_of_the_invite_family_names_its_files(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {"subject": "x", "txt": "x"}, "es": SIMPLE}, "t", "invite")
    with pytest.raises(PreflightError) as caught:
        preflight(store, "t", [("delivery 9", "es", sample_context())], family="invite")
    assert [failure.template for _, failure in caught.value.failures] == ["invite/t/en.html.j2"]
    with pytest.raises(PreflightError, match=r"template invite/nope: no such invite template"):
        preflight(store, "nope", [("delivery 9", "en", sample_context())], family="invite")


def test_email_locale_without_a_complete_locale_names_the_template(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {"subject": "x"}}, family="invite")
    with pytest.raises(RenderError) as caught:
        store.email_locale("t", "pt-BR", family="invite")
    assert caught.value.template == "invite/t"


def test_unknown_family_is_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": SIMPLE})
    with pytest.raises(ValueError, match="email templates are email, invite"):
        store.render_email("t", "en", sample_context(), family="social")


# --- the shipped templates ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> TemplateStore:
    return TemplateStore(SHIPPED)


def test_shipped_templates_are_complete(shipped: TemplateStore) -> None:
    assert {SHIPPED_DIGEST, *SHIPPED_NAMES} <= set(shipped.names())
    for name in shipped.names():  # every email the school sends, in every shipped language
        assert (name, shipped.locales(name)) == (name, SHIPPED_LOCALES)
        assert shipped.incomplete_locales(name) == {}


@pytest.mark.parametrize("sections", [{}, SPARSE], ids=["full", "sparse"])
@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_template_renders(
    shipped: TemplateStore, name: str, locale: str, sections: dict[str, dict[str, Any]]
) -> None:
    context = sample_context(**sections)
    email = shipped.render_email(name, locale, context)
    assert email.locale == locale
    assert email.subject.strip() and "\n" not in email.subject and "\r" not in email.subject
    assert str(context["cohort"]["year"]) in email.subject
    unsubscribe = context["links"]["unsubscribe"]
    assert f'href="{escape(unsubscribe)}"' in email.html
    assert unsubscribe in email.text
    assert "1 College Road<br>Springfield 12345<br>United States" in email.html
    assert "1 College Road\nSpringfield 12345\nUnited States" in email.text
    assert "Ana" in email.text and "Ana" in email.html
    if context["alum"]["programme"]:
        assert "2001 (Civil Engineering)." in email.text
        assert "2001 (Civil Engineering)." in email.html
    else:
        assert "2001." in email.text and "2001." in email.html
    direction = ' dir="rtl"' if locale == "ar" else ""  # Arabic is written right to left
    assert email.html.startswith(f'<!DOCTYPE html>\n<html lang="{locale}"{direction}>')
    # Email-client-safe: no scripts, no external images, stylesheets or fonts.
    assert not re.search(r"<script|<link|<style|\ssrc=|url\(", email.html, re.IGNORECASE)
    assert 3_000 <= len(email.html.encode()) <= 6_500
    preferences = context["links"]["preferences"]
    if preferences:
        assert preferences in email.text and str(escape(preferences)) in email.html
    else:
        assert "None" not in email.text
    ask = context["links"]["request"]  # every message leads to the request form
    assert ask in email.text and f'href="{escape(ask)}"' in email.html


def test_shipped_reunion_uses_the_class_numbers(shipped: TemplateStore) -> None:
    full = shipped.render_email("reunion", "en", sample_context())
    assert "25 years" in full.subject and "2026" in full.subject
    assert "212 classmates" in full.text and "14 countries" in full.text
    assert "Recife" in full.text
    sparse = shipped.render_email("reunion", "en", sample_context(**SPARSE))
    assert "2026" not in sparse.subject
    assert "It has been 55 years" in sparse.text
    assert "If you cannot travel" in sparse.text


@pytest.mark.parametrize("locale", [locale for locale in SHIPPED_LOCALES if locale != "en"])
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_translations_really_differ_from_english(
    shipped: TemplateStore, name: str, locale: str
) -> None:
    context = sample_context()
    english = shipped.render_email(name, "en", context)
    other = shipped.render_email(name, locale, context)
    assert other.subject != english.subject
    for english_part, other_part in ((english.text, other.text), (english.html, other.html)):
        english_words = prose_words(english_part, context)
        shared = english_words & prose_words(other_part, context)
        assert len(shared) < 0.2 * len(english_words), sorted(shared)


def prose_words(body: str, context: dict[str, Any]) -> set[str]:
    """The words of a rendered part that come from the template, not from the context."""
    body = re.sub(r"<[^>]+>|&\w+;", " ", body)
    for section in context.values():
        for value in section.values():
            body = body.replace(str(value), " ")
    return set(re.findall(r"[^\W\d_]{4,}", body.lower()))


def test_shipped_templates_pass_preflight(shipped: TemplateStore) -> None:
    recipients = [
        (f"alum-{index}", locale, sample_context(**sections))
        for index, (locale, sections) in enumerate(
            [("en", {}), ("es-MX", SPARSE), ("fr-BE", {}), ("pt-br", SPARSE), (None, SPARSE)]
        )
    ]
    for name in SHIPPED_NAMES:
        assert preflight(shipped, name, recipients) == len(recipients)


# --- preflight ---------------------------------------------------------------------------------


def test_preflight_returns_how_many_it_rendered(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": SIMPLE, "fr": SIMPLE})
    recipients = ((f"alum-{index}", "fr", sample_context()) for index in range(7))
    assert preflight(store, "t", recipients) == 7


def test_preflight_reports_every_failing_recipient_and_variable(tmp_path: Path) -> None:
    store = make_store(
        tmp_path,
        {
            "en": {**SIMPLE, "txt": SIMPLE["txt"] + "{{ cohort.next_milestone }}\n"},
            "fr": {**SIMPLE, "html": SIMPLE["html"] + "{{ alum.city }}\n"},
        },
    )
    no_milestone = sample_context()
    del no_milestone["cohort"]["next_milestone"]
    recipients = [
        ("alum-1", "en", sample_context()),
        ("alum-2", "en", no_milestone),
        ("alum-3", "fr", sample_context(alum={"city": None})),
        ("alum-4", "fr", sample_context()),
        ("alum-5", "en-GB", no_milestone),
    ]
    with pytest.raises(PreflightError) as caught:
        preflight(store, "t", recipients)
    error = caught.value
    found = [(ref, failure.variable, failure.template) for ref, failure in error.failures]
    assert found == [
        ("alum-2", "cohort.next_milestone", "email/t/en.txt.j2"),
        ("alum-3", "alum.city", "email/t/fr.html.j2"),
        ("alum-5", "cohort.next_milestone", "email/t/en.txt.j2"),
    ]
    assert (error.failed, error.checked) == (3, 5)
    text = str(error)
    assert text.startswith("3 of 5 recipients could not be rendered")
    # one line per cause, with how many it hit and the first of them
    assert text.splitlines()[1:] == [
        "  2 recipients: template email/t/en.txt.j2: variable 'cohort.next_milestone' is "
        "undefined; add it to the context or remove it from the template (e.g. alum-2)",
        f"  1 recipient: template email/t/fr.html.j2: {error.failures[1][1].message} (e.g. alum-3)",
    ]
    assert "alum-1" not in text and "alum-4" not in text and "alum-5" not in text


def test_preflight_keeps_every_distinct_problem_within_max_errors(tmp_path: Path) -> None:
    store = make_store(
        tmp_path, {"en": {**SIMPLE, "txt": SIMPLE["txt"] + "{{ alum.nickname }}{{ alum.city }}"}}
    )
    recipients: list[tuple[str, str | None, Mapping[str, Any]]] = [
        (f"alum-{index}", "en", sample_context()) for index in range(40)
    ]
    recipients.append(("alum-late", "en", sample_context(alum={"nickname": "Ana", "city": None})))
    with pytest.raises(PreflightError) as caught:
        preflight(store, "t", recipients, max_errors=5)
    refs = [ref for ref, _ in caught.value.failures]
    assert len(refs) == 5
    assert refs[0] == "alum-0" and refs[-1] == "alum-late"
    assert {failure.variable for _, failure in caught.value.failures} == {
        "alum.nickname",
        "alum.city",
    }
    assert caught.value.failed == 41
    # 41 failures, listed as 5, told as two causes with every recipient counted
    assert [(c.recipients, c.error.variable, c.example) for c in caught.value.causes()] == [
        (40, "alum.nickname", "alum-0"),
        (1, "alum.city", "alum-late"),
    ]
    assert len(str(caught.value).splitlines()) == 3
    assert caught.value.unexplained() == 0


def test_preflight_fails_when_default_locale_lacks_a_part(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {"subject": "x", "txt": "x"}, "fr": SIMPLE})
    with pytest.raises(PreflightError) as caught:
        preflight(store, "t", [("alum-1", "fr", sample_context())])
    assert [(ref, failure.template) for ref, failure in caught.value.failures] == [
        (TEMPLATE_REF, "email/t/en.html.j2")
    ]
    assert "falls back to en" in str(caught.value)


def test_preflight_fails_on_a_half_made_locale(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": SIMPLE, "es": {"subject": "Hola", "txt": "Hola"}})
    with pytest.raises(PreflightError) as caught:
        preflight(store, "t", [("alum-1", "en", sample_context())])
    assert [failure.template for _, failure in caught.value.failures] == ["email/t/es.html.j2"]


def test_preflight_of_unknown_template(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": SIMPLE})
    with pytest.raises(PreflightError, match=r"all recipients: template email/nope: no such"):
        preflight(store, "nope", [("alum-1", "en", sample_context())])


def test_preflight_requires_a_visible_unsubscribe_link(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"en": {**SIMPLE, "html": "<p>Dear {{ alum.first_name }}</p>"}})
    with pytest.raises(PreflightError) as caught:
        preflight(store, "t", [("alum-1", "en", sample_context())])
    ((ref, failure),) = caught.value.failures
    assert (ref, failure.template, failure.variable) == (
        "alum-1",
        "email/t/en.html.j2",
        "links.unsubscribe",
    )
    assert preflight(store, "t", [("alum-1", "en", sample_context())], require_unsubscribe=False)
