"""The preference page over real HTTP under uvicorn: what it shows, what it saves, and every way
a request is refused without changing anything (bad links, forms without a valid form token,
fields that do not check out)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for
from alumni.messages.page_links import DETAILS, PAGE_LINK_LIFETIME, PREFERENCES
from alumni.messages.signing import make_token
from alumni.models import Alumnus, ContactPoint, Frequency, Preference, table_of, utcnow
from alumni.people.preferences import EVERY_MESSAGE, Choice, read_choice
from alumni.settings import Settings
from alumni.web.csrf import FORM_TOKEN_LIFETIME, form_token
from tests.factories import add_alumnus
from tests.web.pages import (
    assert_accessible,
    follow,
    form_token_of,
    page_path,
    stored,
    submit,
)
from tests.web.test_app import assert_hardened

# Where the alum lives decides what "today" and "until" mean for a pause.
ZONE = "America/Sao_Paulo"
TOUCHED = (Preference, Alumnus, ContactPoint)


def alum(url: str, **values: object) -> int:
    return add_alumnus(
        url,
        "P-1",
        email="bea@example.org",
        first_name="Bea",
        timezone=ZONE,
        **values,  # type: ignore[arg-type]
    )


def choice_of(url: str, alumnus_id: int) -> Choice:
    with engine_for(url).connect() as connection:
        return read_choice(connection, alumnus_id)


def two_way(url: str, alumnus_id: int) -> tuple[datetime | None, str | None]:
    table = table_of(Alumnus)
    with engine_for(url).connect() as connection:
        row = connection.execute(
            sa.select(table.c.last_two_way_at, table.c.last_two_way_channel).where(
                table.c.id == alumnus_id
            )
        ).one()
    return row.last_two_way_at, row.last_two_way_channel


def local_today() -> date:
    return utcnow().astimezone(ZoneInfo(ZONE)).date()


def test_the_page_shows_every_message_by_email_until_the_alum_chooses(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    alumnus_id = alum(sqlite_url)
    path = page_path(sqlite_settings, PREFERENCES, alumnus_id)
    before = stored(sqlite_url, *TOUCHED)

    page = sqlite_client.get(path)

    assert page.status_code == 200
    assert_hardened(page)
    assert_accessible(page.text, lang="en")
    assert "Bea, choose how we keep in touch" in page.text
    assert re.search(r'id="channel-email" name="channels" value="email" checked', page.text)
    assert re.search(r'id="frequency-every" name="frequency" value="every" checked', page.text)
    assert 'id="pause_until" name="pause_until" value=""' in page.text
    assert "saved" not in page.text.lower()
    # A GET (a mail scanner, a reload) changes nothing, not even the last two-way contact.
    assert stored(sqlite_url, *TOUCHED) == before


def test_a_saved_choice_is_stored_noted_as_two_way_and_shown_after_a_303_to_the_page(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    alumnus_id = alum(db_url)
    path = page_path(settings, PREFERENCES, alumnus_id)
    until = local_today() + timedelta(days=30)
    started = utcnow()

    answer = submit(
        client, path, channels=["email"], frequency="digest", pause_until=until.isoformat()
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == f"./{path.rsplit('/', 1)[1]}?saved=preferences"
    assert "set-cookie" not in answer.headers
    page = follow(client, answer)
    assert "Your preferences are saved." in page.text
    assert 'role="status"' in page.text
    assert re.search(r'value="digest" checked', page.text)
    assert f'value="{until.isoformat()}"' in page.text
    assert f"Paused until {until:%B} {until.day}, {until.year}." in page.text
    stored_choice = choice_of(db_url, alumnus_id)
    # Mastodon was not offered (no handle): it keeps what it was, every message
    assert stored_choice.channels == frozenset({"email", "mastodon"})
    assert stored_choice.frequency == Frequency.digest
    # The pause ends at the start of the chosen day where the alum lives.
    assert stored_choice.paused_until == datetime(
        until.year, until.month, until.day, tzinfo=ZoneInfo(ZONE)
    )
    noted_at, channel = two_way(db_url, alumnus_id)
    assert channel == "web" and noted_at is not None and noted_at >= started

    # Saving again replaces the choice: no box ticked (the only one offered), no pause.
    again = submit(client, path, frequency="every", pause_until="")
    assert again.status_code == 303
    assert choice_of(db_url, alumnus_id) == Choice(frozenset({"mastodon"}), Frequency.every, None)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"frequency": "weekly"}, "frequency", "Choose one of the options."),
        ({"frequency": ""}, "frequency", "Choose one of the options."),
        (
            {"frequency": "every", "channels": ["email", "pigeon"]},
            "channels",
            "Choose among the channels listed.",
        ),
        ({"frequency": "every", "pause_until": "next week"}, "pause_until", "as YYYY-MM-DD"),
        ({"frequency": "every", "pause_until": "2027-02-30"}, "pause_until", "as YYYY-MM-DD"),
        ({"frequency": "every", "pause_until": "today"}, "pause_until", "as YYYY-MM-DD"),
    ],
)
def test_a_field_that_does_not_check_out_is_named_beside_it_and_nothing_is_saved(
    sqlite_url: str,
    sqlite_settings: Settings,
    sqlite_client: httpx.Client,
    fields: dict[str, str | list[str]],
    field: str,
    words: str,
) -> None:
    alumnus_id = alum(sqlite_url)
    path = page_path(sqlite_settings, PREFERENCES, alumnus_id)
    before = stored(sqlite_url, *TOUCHED)

    answer = submit(sqlite_client, path, **fields)

    assert answer.status_code == 422
    assert_hardened(answer)
    assert_accessible(answer.text, lang="en")
    assert "Nothing was saved." in answer.text
    problem = re.search(rf'<p class="field-problem" id="{field}-problem">([^<]+)</p>', answer.text)
    assert problem is not None and words in problem[1]
    assert f'aria-describedby="{field}-problem"' in answer.text or (
        f'aria-describedby="{field}-hint {field}-problem"' in answer.text
    )
    assert answer.text.count('class="field-problem"') == 1
    assert stored(sqlite_url, *TOUCHED) == before


def test_a_pause_must_end_after_today_and_within_a_year_of_the_alums_today(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    alumnus_id = alum(sqlite_url)
    path = page_path(sqlite_settings, PREFERENCES, alumnus_id)
    today = local_today()
    for day, words in (
        (today, "Choose a day after today."),
        (today - timedelta(days=3), "Choose a day after today."),
        (today + timedelta(days=367), "Choose a day within a year from today"),
    ):
        answer = submit(sqlite_client, path, frequency="every", pause_until=day.isoformat())
        assert answer.status_code == 422, day
        assert words in answer.text
        assert f'value="{day.isoformat()}"' in answer.text  # what was typed is kept
    assert choice_of(sqlite_url, alumnus_id) == EVERY_MESSAGE
    last = today + timedelta(days=366)
    assert submit(sqlite_client, path, frequency="every", pause_until=last.isoformat()).is_redirect


def test_a_post_without_a_valid_form_token_is_refused_and_changes_nothing(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    alumnus_id = alum(db_url)
    other = add_alumnus(db_url, "P-2", email="carl@example.org", first_name="Carl")
    path = page_path(settings, PREFERENCES, alumnus_id)
    token = path.rsplit("/", 1)[1]
    key = settings.signing_key()
    genuine = form_token_of(client.get(path).text)
    other_page = page_path(settings, PREFERENCES, other).rsplit("/", 1)[1]
    forged = {
        "missing": None,
        "empty": "",
        "made up": "not-a-form-token",
        "altered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
        "another alum's page": form_token(key, PREFERENCES, other_page, now=utcnow()),
        "another page of theirs": form_token(key, DETAILS, token, now=utcnow()),
        "a link token": token,
        "expired": form_token(
            key, PREFERENCES, token, now=utcnow() - FORM_TOKEN_LIFETIME - timedelta(seconds=1)
        ),
    }
    before = stored(db_url, *TOUCHED)

    for case, value in forged.items():
        data = {"frequency": "own_requests"}
        if value is not None:
            data["form_token"] = value
        answer = client.post(path, data=data)
        assert answer.status_code == 403, case
        assert "Please send the form again" in answer.text, case
        assert "nothing was changed" in answer.text, case
        assert_hardened(answer)

    assert stored(db_url, *TOUCHED) == before
    # The genuine token still works: the refusals spent nothing.
    assert client.post(path, data={"form_token": genuine, "frequency": "every"}).is_redirect


def test_bad_links_are_refused_and_an_expired_one_says_when_in_the_alums_language(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    alumnus_id = alum(sqlite_url, locale="es-MX")
    key = sqlite_settings.signing_key()
    good = page_path(sqlite_settings, PREFERENCES, alumnus_id)
    middle = len(good) // 2
    tampered = good[:middle] + ("B" if good[middle] != "B" else "C") + good[middle + 1 :]
    made = utcnow() - PAGE_LINK_LIFETIME - timedelta(days=1)
    expired = page_path(sqlite_settings, PREFERENCES, alumnus_id, now=made)
    damaged = "this link is damaged or incomplete"
    cases = {
        tampered: damaged,
        good[:-4]: damaged,
        f"{good}/more": damaged,
        page_path(sqlite_settings, DETAILS, alumnus_id).replace("/details/", "/preferences/"): (
            damaged
        ),
        f"/preferences/{make_token(key, PREFERENCES, 'bea@example.org')}": damaged,
        f"/preferences/{make_token(key, 'unsubscribe', str(alumnus_id))}": damaged,
        "/preferences/": damaged,
    }
    before = stored(sqlite_url, *TOUCHED)
    for path, words in cases.items():
        for method in ("GET", "POST"):
            answer = sqlite_client.request(method, path, data={"frequency": "own_requests"})
            assert answer.status_code == 400, (method, path)
            assert words in answer.text
            assert "Nothing was changed." in answer.text
            assert 'lang="en"' in answer.text
            assert "Bea" not in answer.text
            assert_hardened(answer)

    for method in ("GET", "POST"):
        answer = sqlite_client.request(method, expired, data={"frequency": "own_requests"})
        assert answer.status_code == 400
        assert 'lang="es"' in answer.text
        assert "Este enlace ha caducado" in answer.text
        expired_on = (made + PAGE_LINK_LIFETIME).astimezone(ZoneInfo(ZONE)).date()
        assert f"caducó el {expired_on.day} de " in answer.text
        assert "alumni@school.example" in answer.text  # where to write instead
        assert "<form" not in answer.text
    assert stored(sqlite_url, *TOUCHED) == before


def test_a_link_to_someone_no_longer_on_our_lists_has_nothing_to_show(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    erased = alum(sqlite_url, status="erased")
    for path in (
        page_path(sqlite_settings, PREFERENCES, erased),
        page_path(sqlite_settings, PREFERENCES, erased + 1000),
    ):
        for method in ("GET", "POST"):
            answer = sqlite_client.request(method, path, data={"frequency": "every"})
            assert answer.status_code == 200
            assert "no longer leads to anyone on our lists" in answer.text
            assert "<form" not in answer.text
    assert choice_of(sqlite_url, erased) == EVERY_MESSAGE


@pytest.mark.parametrize(
    ("locale", "lang", "words"),
    [
        ("pt-BR", "pt-BR", "Suas preferências de e-mail"),
        ("pt-br", "pt-BR", "Suas preferências de e-mail"),
        ("fr-CA", "fr", "Vos préférences de messages"),
        ("es", "es", "Tus preferencias de correo"),
        ("pt", "en", "Your email preferences"),  # as the email templates: pt-BR is not pt
        ("de", "en", "Your email preferences"),
        (None, "en", "Your email preferences"),
    ],
)
def test_the_page_is_in_the_alums_language(
    sqlite_url: str,
    sqlite_settings: Settings,
    sqlite_client: httpx.Client,
    locale: str | None,
    lang: str,
    words: str,
) -> None:
    alumnus_id = alum(sqlite_url, locale=locale)
    path = page_path(sqlite_settings, PREFERENCES, alumnus_id)

    page = sqlite_client.get(path, headers={"Accept-Language": "de, en;q=0.5"})

    assert page.status_code == 200
    assert_accessible(page.text, lang=lang)
    assert f"<h1>{words}</h1>" in page.text
    problem = sqlite_client.post(path, data={"form_token": form_token_of(page.text)})
    assert problem.status_code == 422
    assert_accessible(problem.text, lang=lang)


def test_the_mastodon_box_is_offered_to_an_alum_with_a_handle_and_kept_for_the_others(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    from tests.factories import add_handle

    without = alum(db_url)
    with_handle = add_alumnus(db_url, "P-2", email="cy@example.org", first_name="Cy")
    add_handle(db_url, with_handle, "@cy@social.example")

    plain = client.get(page_path(settings, PREFERENCES, without))
    offered = client.get(page_path(settings, PREFERENCES, with_handle))

    assert 'id="channel-email"' in plain.text and 'id="channel-mastodon"' not in plain.text
    assert re.search(
        r'id="channel-mastodon" name="channels" value="mastodon" checked', offered.text
    )
    # email off on a page without the box: the direct messages stay as they were
    submit(client, page_path(settings, PREFERENCES, without), channels=[], frequency="every")
    assert choice_of(db_url, without).channels == frozenset({"mastodon"})
    # both off where the box is offered
    submit(client, page_path(settings, PREFERENCES, with_handle), channels=[], frequency="every")
    assert choice_of(db_url, with_handle).channels == frozenset()
