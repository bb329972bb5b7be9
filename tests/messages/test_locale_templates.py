"""Every core template (campaigns, event mailings, request notices, social posts) in every
language the office writes in, Arabic right to left among them, each rendering for a sample alum.

The families are read from the shipped ``templates/`` folder, so a template added later without
its translations fails here, naming the family, the template and the missing language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from alumni.delivery.digest_kit import DigestContext, RenderedItem
from alumni.messages.rendering import EMAIL_FAMILIES, REQUEST, TemplateStore
from alumni.web.i18n import LOCALES as PAGE_LOCALES
from tests.messages.test_rendering import sample_context

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ["ar", "en", "es", "fr", "pt-BR"]
# The core templates of issue 13.7; other templates (added by later work) may be English only.
CORE = {
    "email": ["digest", "newsletter", "reunion"],
    "invite": ["cancel", "invite", "place", "reminder", "thanks", "update", "waitlist"],
    "request": ["ack", "closed", "decision", "resumed", "update", "waiting"],
    "social": ["newsletter", "reunion"],
}
# English left in an Arabic part, once Jinja, tags, entities, URLs and the context are removed.
_ENGLISH_WORD = re.compile(r"\b[A-Za-z]{4,}\b")


@pytest.fixture(scope="module")
def store() -> TemplateStore:
    return TemplateStore(ROOT / "templates")


def context_for(family: str, name: str) -> dict[str, Any]:
    """A sample alum's context for one template, as its kit builds it."""
    context = sample_context()
    context["alum"] = {**context["alum"], "display_name": "Ana Souza", "greeting_name": "Ana"}
    if name == "digest":
        items = (RenderedItem("News", "News from school", "Hello."),)
        context["digest"] = DigestContext(month="2026-11", month_name="November", items=items)
    if family == "invite":
        context["event"] = {
            "title": "Summer reunion",
            "description": "",
            "place": "The Old Library",
            "online_url": "https://meet.school.example/reunion",
            "when_local": "LOCAL-TIME",
            "when_event": "EVENT-TIME",
            "same_zone": False,
            "online_first": False,
            "sequence": 0,
        }
        context["links"] = {
            **context["links"],
            **{
                answer: f"https://alumni.school.example/rsvp/{answer}"
                for answer in ("yes", "no", "maybe")
            },
        }
    if family == REQUEST:
        context["request"] = {
            "id": 42,
            "type": "idea",
            "title": "Idea",
            "kind": name,
            "status": "open",
            "confidential": False,
            "summary": "A garden for the school",
            "opened": "OPENED",
            "answer_by": "ANSWER-BY",
            "resolve_by": "RESOLVE-BY",
            "your_deadline": None,
            "words": ["We are on it."],
            "outcome": "resolved" if name == "closed" else None,
            "decision": "accepted" if name == "decision" else None,
            "reason": "It is a good idea." if name == "decision" else None,
        }
        context["links"] = {
            **context["links"],
            "request_status": "https://alumni.school.example/requests/status/t",
        }
    return context


def social_context() -> dict[str, Any]:
    base = sample_context()
    return {
        "cohort": base["cohort"],
        "campaign": base["campaign"],
        "office": base["office"],
        "class": {"year": 2001, "hashtag": "#Class2001"},
        "event": None,
        "links": {"more": "https://alumni.school.example/s/abc"},
    }


def english_left(text: str, context: dict[str, Any]) -> list[str]:
    """Latin-script words of ``text`` that come from the template, not from the context."""
    text = re.sub(r"<[^>]+>|&\w+;|https?://\S+|\S+@\S+", " ", text)
    given = set(_ENGLISH_WORD.findall(repr(context).replace("\\n", " ")))
    return [word for word in _ENGLISH_WORD.findall(text) if word not in given]


def test_the_pages_speak_the_languages_of_the_templates() -> None:
    assert sorted(PAGE_LOCALES) == sorted(LOCALES)


@pytest.mark.parametrize("family", sorted(CORE))
def test_every_core_template_exists_in_every_language(store: TemplateStore, family: str) -> None:
    assert set(CORE[family]) <= set(store.names(family))
    for name in CORE[family]:
        if family == "social":
            found = sorted(store.post_locales(name).values())
        else:
            found = store.locales(name, family=family)
            assert store.incomplete_locales(name, family=family) == {}, name
        assert set(LOCALES) <= set(found), f"{family}/{name} lacks {set(LOCALES) - set(found)}"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("family", "name"), [(family, name) for family in EMAIL_FAMILIES for name in CORE[family]]
)
def test_every_email_renders_for_a_sample_alum(
    store: TemplateStore, family: str, name: str, locale: str
) -> None:
    context = context_for(family, name)
    email = store.render_email(name, locale, context, family=family)
    assert email.locale == locale
    assert email.subject and "\n" not in email.subject
    assert "Ana" in email.text and "Ana" in email.html
    assert context["links"]["unsubscribe"] in email.text
    assert "<" not in email.text.replace("<br>", "")  # the text part is text, not markup
    opening = re.search(r"<html[^>]*>", email.html)
    body = re.search(r"<body[^>]*>", email.html)
    assert opening and body
    if locale == "ar":
        assert 'lang="ar"' in opening[0] and 'dir="rtl"' in opening[0]
        assert 'dir="rtl"' in body[0]
        for part in (email.subject, email.text, email.html):
            assert not english_left(part, context), english_left(part, context)
    else:
        assert f'lang="{locale}"' in opening[0] and "rtl" not in email.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", CORE["social"])
def test_every_social_post_renders(store: TemplateStore, name: str, locale: str) -> None:
    context = social_context()
    post = store.render_post(name, locale, context)
    assert post.locale == locale
    assert "#Class2001" in post.text and len(post.text) <= 300  # Bluesky's limit
    if locale == "ar":
        assert not english_left(post.text.replace("#alumni", ""), context)


@pytest.mark.parametrize(
    ("family", "name"), [(family, name) for family in EMAIL_FAMILIES for name in CORE[family]]
)
def test_an_egyptian_alum_gets_the_arabic_template(
    store: TemplateStore, family: str, name: str
) -> None:
    for tag in ("ar-EG", "ar_EG", "AR-eg", "ar-Arab-EG"):
        assert store.email_locale(name, tag, family=family) == "ar"
    email = store.render_email(name, "ar-EG", context_for(family, name), family=family)
    assert email.locale == "ar" and '<html lang="ar" dir="rtl">' in email.html


@pytest.mark.parametrize("name", CORE["social"])
def test_an_egyptian_alums_post_is_the_arabic_one(store: TemplateStore, name: str) -> None:
    assert store.render_post(name, "ar-EG", social_context()).locale == "ar"
