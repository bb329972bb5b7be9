"""The ambassador's class page served for real (uvicorn, over HTTP), on both databases: what it
shows of the class and nothing of anyone's contact details, its forms (an idea, a draft, a
withdrawal), and the scope: a forged class in a form, a tampered link, a campaign id of another
class and an ex-ambassador's old link all change nothing."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.messages.ambassador_links import ambassador_link
from alumni.messages.signing import make_token
from alumni.models import (
    Campaign,
    CampaignDraft,
    Event,
    Request,
    RequestNotice,
    table_of,
    utcnow,
)
from alumni.reach import ambassadors
from alumni.settings import Settings, get_settings
from tests.factories import add_alumnus, add_campaign
from tests.web.pages import assert_accessible, follow, form_token_of, stored
from tests.web_server import serving

CHANGEABLE = (Campaign, CampaignDraft, Request, RequestNotice)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return get_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serving(settings) as served:
        yield served


def make_ambassador(url: str, external_id: str) -> int:
    with write_transaction(engine_for(url)) as connection:
        return ambassadors.add_ambassador(connection, external_id, now=utcnow())


def path_of(settings: Settings, role: int) -> str:
    return ambassador_link(settings.signing_key(), "", role, now=utcnow())


def add_event(url: str, class_year: int, title: str) -> None:
    starts = utcnow() + timedelta(days=40)
    with write_transaction(engine_for(url)) as connection:
        connection.execute(
            sa.insert(table_of(Event)).values(
                uid=f"{title}@test",
                class_year=class_year,
                title=title,
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                timezone="Europe/Lisbon",
                place="The old hall",
                status="scheduled",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )


@pytest.fixture
def two_classes(db_url: str) -> dict[str, int]:
    """An ambassador of 2016 (Portuguese) and one of 2015, each with a classmate who cannot be
    reached and one who can, and an event of each class."""
    add_alumnus(
        db_url, "A1", class_year=2016, first_name="Ana", email="ana@example.org", locale="pt-BR"
    )
    add_alumnus(db_url, "A2", class_year=2016, first_name="Rui", last_name="Lost", email=None)
    add_alumnus(db_url, "A3", class_year=2016, first_name="Eva", email="eva.secret@example.org")
    add_alumnus(db_url, "B1", class_year=2015, first_name="Bo", email="bo@example.org")
    add_alumnus(db_url, "B2", class_year=2015, first_name="Zed", last_name="Gone", email=None)
    add_event(db_url, 2016, "Picnic of 2016")
    add_event(db_url, 2015, "Dinner of 2015")
    return {"2016": make_ambassador(db_url, "A1"), "2015": make_ambassador(db_url, "B1")}


def test_the_page_shows_the_class_and_no_contact_details(
    db_url: str, settings: Settings, client: httpx.Client, two_classes: dict[str, int]
) -> None:
    before = stored(db_url, *CHANGEABLE)
    page = client.get(path_of(settings, two_classes["2016"]))
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert_accessible(page.text, lang="pt-BR")
    assert "Turma de 2016" in text and "Picnic of 2016" in text
    assert "Rui Lost" in text  # the lost classmate, by name only
    assert "Conseguimos contatar 2 de 3 colegas" in text
    assert "Nos últimos 12 meses, 0 dos 3 tiveram notícias nossas" in text
    assert "../tip/" in text
    for other in ("Dinner of 2015", "Zed", "@example.org"):
        assert other not in text
    assert stored(db_url, *CHANGEABLE) == before  # a GET changes nothing


def test_an_idea_with_a_forged_class_is_still_the_ambassadors_own_class(
    db_url: str, settings: Settings, client: httpx.Client, two_classes: dict[str, int]
) -> None:
    path = path_of(settings, two_classes["2016"])
    token = form_token_of(client.get(path).text)
    sent = client.post(
        path,
        data={
            "form_token": token,
            "action": "idea",
            "kind": "event",
            "text": "A picnic by the river",
            "class_year": "2015",
        },
    )
    shown = follow(client, sent)
    assert "o escritório recebeu sua proposta" in html.unescape(shown.text)
    assert "A picnic by the river" in html.unescape(shown.text)
    with engine_for(db_url).connect() as connection:
        request = connection.execute(sa.select(table_of(Request))).one()
        ana = ambassadors.find_alumnus(connection, "A1")
    assert (request.type, request.alumnus_id) == ("idea", ana)
    assert "class of 2016" in request.summary and "2015" not in request.summary
    other = client.get(path_of(settings, two_classes["2015"]))
    assert "A picnic by the river" not in html.unescape(other.text)


def test_a_draft_is_saved_for_the_ambassadors_class_and_waits_for_approval(
    db_url: str, settings: Settings, client: httpx.Client, two_classes: dict[str, int]
) -> None:
    path = path_of(settings, two_classes["2016"])
    token = form_token_of(client.get(path).text)
    fields = {"form_token": token, "action": "draft", "class_year": "2015"}
    bad = client.post(path, data={**fields, "name": "", "template": "digest", "send_at": "9h"})
    assert bad.status_code == 422
    assert 'id="name-problem"' in bad.text and 'id="template-problem"' in bad.text
    assert 'id="send_at-problem"' in bad.text
    assert stored(db_url, Campaign) == {"Campaign": []}
    sent = client.post(
        path, data={**fields, "name": "Picnic news", "template": "newsletter", "send_at": "09:30"}
    )
    shown = follow(client, sent)
    assert "Aguardando a aprovação do escritório" in html.unescape(shown.text)
    with engine_for(db_url).connect() as connection:
        campaign = connection.execute(sa.select(table_of(Campaign))).one()
        draft = connection.execute(sa.select(table_of(CampaignDraft))).one()
    assert (campaign.class_year, campaign.status, campaign.template) == (
        2016,
        "draft",
        "newsletter",
    )
    assert draft.campaign_id == campaign.id and draft.approved_at is None


def test_a_campaign_of_another_class_cannot_be_withdrawn(
    db_url: str, settings: Settings, client: httpx.Client, two_classes: dict[str, int]
) -> None:
    theirs = add_campaign(db_url, class_year=2015)
    path = path_of(settings, two_classes["2016"])
    token = form_token_of(client.get(path).text)
    before = stored(db_url, *CHANGEABLE)
    refused = client.post(
        path, data={"form_token": token, "action": "withdraw", "campaign": str(theirs)}
    )
    assert refused.status_code == 403
    assert "Isto pertence a outra turma" in html.unescape(refused.text)
    assert stored(db_url, *CHANGEABLE) == before


def test_a_tampered_link_and_an_ex_ambassadors_old_link_do_nothing(
    db_url: str, settings: Settings, client: httpx.Client, two_classes: dict[str, int]
) -> None:
    key = settings.signing_key()
    path = path_of(settings, two_classes["2016"])
    token = form_token_of(client.get(path).text)
    # the 2016 link with the 2015 role's id put in: its signature no longer matches
    _, expiry, mac = path.rsplit("/", 1)[1].split(".")
    forged_payload = make_token(key, "ambassador", str(two_classes["2015"])).split(".")[0]
    forged = client.get(f"/ambassador/{forged_payload}.{expiry}.{mac}")
    assert forged.status_code == 400
    # a link of another purpose (a preferences page) does not open the class page
    other = make_token(key, "preferences", str(two_classes["2015"]))
    assert client.get(f"/ambassador/{other}").status_code == 400
    # an expired link
    old = ambassador_link(key, "", two_classes["2016"], now=datetime(2020, 1, 1, tzinfo=UTC))
    assert client.get(old).status_code == 400

    with write_transaction(engine_for(db_url)) as connection:
        ambassadors.remove_ambassador(connection, "A1")
    before = stored(db_url, *CHANGEABLE)
    gone = client.get(path)
    assert gone.status_code == 403 and "Picnic of 2016" not in gone.text
    posted = client.post(
        path, data={"form_token": token, "action": "idea", "kind": "idea", "text": "Still me"}
    )
    assert posted.status_code == 403
    assert stored(db_url, *CHANGEABLE) == before


def test_a_form_without_its_form_token_is_refused(
    db_url: str, settings: Settings, client: httpx.Client, two_classes: dict[str, int]
) -> None:
    path = path_of(settings, two_classes["2016"])
    before = stored(db_url, *CHANGEABLE)
    sent = client.post(path, data={"action": "idea", "kind": "idea", "text": "x"})
    assert sent.status_code == 403
    assert stored(db_url, *CHANGEABLE) == before


def test_an_arabic_speaking_ambassador_reads_the_page_right_to_left(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    add_alumnus(db_url, "R1", class_year=2016, first_name="Rania", locale="ar-EG")
    page = client.get(path_of(settings, make_ambassador(db_url, "R1")))
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert_accessible(page.text, lang="ar")
    assert "دفعة 2016" in html.unescape(page.text)
