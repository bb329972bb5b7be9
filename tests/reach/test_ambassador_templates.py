"""The ambassador digest, the sign-up confirmation and the share text render in every language
they ship in, from the one template store (sandboxed, nothing undefined), with no English left
in the other languages' subjects."""

from __future__ import annotations

from pathlib import Path

import pytest

from alumni.delivery.ambassador_kit import ClassDigest
from alumni.messages.rendering import TemplateStore
from alumni.social.text import check_length

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("ar", "en", "es", "fr", "pt-BR")
STORE = TemplateStore(ROOT / "templates")
OFFICE = {"name": "Alumni Office", "email": "alumni@school.example", "postal_address": "1 Road"}


def digest_context(lost: tuple[str, ...]) -> dict[str, object]:
    return {
        "alum": {"first_name": "Ana", "last_name": "Lima", "class_year": 2016},
        "cohort": {"year": 2016},
        "campaign": {"name": "Ambassador digest"},
        "office": OFFICE,
        "links": {
            "unsubscribe": "https://s.example/unsubscribe/x",
            "ambassador": "https://s.example/ambassador/AMB",
            "tip": "https://s.example/tip/TIP",
        },
        "class_digest": ClassDigest(
            year=2016,
            events=({"title": "Picnic", "when": "1 May", "place": "Park", "online_url": ""},),
            reach={
                "contactable": 4,
                "reachable": 3,
                "by_email": 3,
                "by_social": 0,
                "unreachable": 1,
                "reached_last_year": 2,
                "percent": 75,
            },
            lost=lost,
            ideas=({"summary": "A mentoring circle", "status": "open"},),
        ),
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_the_ambassador_digest_renders_in_each_language(locale: str) -> None:
    assert locale in STORE.locales("ambassador_digest")
    email = STORE.render_email("ambassador_digest", locale, digest_context(("Rui Lost",)))
    assert email.locale == locale
    for part in (email.text, email.html):
        assert "Rui Lost" in part and "https://s.example/tip/TIP" in part
        assert "https://s.example/ambassador/AMB" in part and "Picnic" in part
    english = STORE.render_email("ambassador_digest", "en", digest_context(("Rui Lost",)))
    assert (email.subject == english.subject) == (locale == "en")
    assert ('<html lang="ar" dir="rtl">' in email.html) == (locale == "ar")
    nobody_lost = STORE.render_email("ambassador_digest", locale, digest_context(()))
    assert "/tip/" not in nobody_lost.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_confirmation_renders_in_each_language(locale: str) -> None:
    context = {
        "signup": {"first_name": "Joana", "class_year": 2016},
        "office": OFFICE,
        "links": {"confirm": "https://s.example/join/confirm/C"},
    }
    email = STORE.render_email("join_confirm", locale, context)
    assert email.locale == locale and "2016" in email.subject
    assert "https://s.example/join/confirm/C" in email.text
    assert "https://s.example/join/confirm/C" in email.html
    assert ('<html lang="ar" dir="rtl">' in email.html) == (locale == "ar")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_share_text_renders_in_each_language(locale: str) -> None:
    context = {
        "class": {"year": 2016, "hashtag": "#Class2016"},
        "cohort": {"classmates": 120, "countries": 9},
        "sharer": {"first_name": "Ana"},
        "links": {"join": "https://s.example/join/1-abc"},
    }
    post = STORE.render_post("share", locale, context)
    assert post.locale == locale
    assert "https://s.example/join/1-abc" in post.text and "Ana" in post.text
    for network in ("bluesky", "mastodon"):
        check_length(network, post.text)  # the kit refuses a text too long for a network
