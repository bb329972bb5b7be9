"""The unsubscribe page in the one look and the alum's language: one-click still needs no form
token, counts as the alum's two-way contact, and offers the preference page instead."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.delivery.report import campaign_report
from alumni.models import Alumnus, Campaign, table_of, utcnow
from alumni.settings import Settings
from tests.web.pages import assert_accessible, stored
from tests.web.test_app import ADDRESS, MASKED, ONE_CLICK, add_delivery, unsubscribe_path

_A = table_of(Alumnus)


def set_locale(url: str, locale: str) -> None:
    with engine_for(url).begin() as connection:
        connection.execute(sa.update(_A).values(locale=locale))


def last_two_way(url: str) -> tuple[object, object]:
    with engine_for(url).connect() as connection:
        row = connection.execute(sa.select(_A.c.last_two_way_at, _A.c.last_two_way_channel)).one()
    return row.last_two_way_at, row.last_two_way_channel


def test_one_click_counts_as_two_way_contact_and_a_get_does_not(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    path = unsubscribe_path(settings, add_delivery(db_url))
    client.get(path)
    assert last_two_way(db_url) == (None, None)
    started = utcnow()

    assert client.post(path, data=ONE_CLICK).status_code == 200

    at, channel = last_two_way(db_url)
    assert channel == "web" and at is not None and at >= started  # type: ignore[operator]
    assert client.post(path, data=ONE_CLICK).status_code == 200  # again: counted once
    assert web_responses(db_url) == {"unsubscribed": 1, "clicked": 0}


def web_responses(url: str) -> dict[str, int]:
    with engine_for(url).connect() as connection:
        (campaign,) = connection.execute(sa.select(table_of(Campaign).c.id)).scalars()
        responses = campaign_report(connection, campaign).responses
    return {key: responses[key] for key in ("unsubscribed", "clicked")}


def test_the_pages_are_in_the_alums_language_and_offer_the_preference_page(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    path = unsubscribe_path(sqlite_settings, add_delivery(sqlite_url))
    set_locale(sqlite_url, "fr-BE")
    before = stored(sqlite_url, Alumnus)

    page = sqlite_client.get(path, headers={"Accept-Language": "es"})

    assert_accessible(page.text, lang="fr")
    assert f"Ne plus envoyer d’actualités ni d’événements à {MASKED} ?" in page.text
    assert '<button type="submit" name="List-Unsubscribe" value="One-Click">' in page.text
    assert ADDRESS.lower() not in page.text.lower()
    link = page.text.split('<a href="', 1)[1].split('"', 1)[0]
    assert link.startswith("../preferences/")
    preferences = sqlite_client.get(urljoin(f"{sqlite_client.base_url}{path}", link))
    assert preferences.status_code == 200
    assert "Vos préférences de messages" in preferences.text
    assert stored(sqlite_url, Alumnus) == before

    done = sqlite_client.post(path, data=ONE_CLICK)
    assert "<h1>Vous êtes désabonné</h1>" in done.text
    again = sqlite_client.post(path, data=ONE_CLICK)
    assert "<h1>Déjà désabonné</h1>" in again.text


def test_a_damaged_link_is_refused_in_the_browsers_language(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    for language, words in (
        ("es-ES,es;q=0.9,en;q=0.8", "el enlace está dañado o incompleto"),
        ("de-CH, pt-BR;q=0.7, fr;q=0.8", "ce lien est abîmé ou incomplet"),
        ("pt-BR", "este link está danificado ou incompleto"),
        ("de", "this link is damaged or incomplete"),
        ("*;q=0.5, es;q=0", "this link is damaged or incomplete"),
    ):
        answer = sqlite_client.get(
            "/unsubscribe/not-a-token", headers={"Accept-Language": language}
        )
        assert answer.status_code == 400
        assert words in answer.text, language
