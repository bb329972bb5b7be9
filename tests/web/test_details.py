"""The "still yours?" page over real HTTP under uvicorn: an alum's own details shown plainly and
nobody else's, confirmed or corrected with the old value kept as history, and every refusal
changing nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.messages.page_links import DETAILS, PREFERENCES
from alumni.models import Alumnus, ContactPoint, table_of, utcnow
from alumni.settings import Settings
from alumni.web.csrf import form_token
from tests.factories import add_alumnus
from tests.web.pages import assert_accessible, follow, form_token_of, page_path, stored, submit
from tests.web.test_app import assert_hardened

_CP = table_of(ContactPoint)
_A = table_of(Alumnus)
IMPORTED = datetime(2021, 3, 4, 10, 0, tzinfo=UTC)
TOUCHED = (ContactPoint, Alumnus)


def add_detail(url: str, alumnus_id: int, kind: str, value: str, **values: Any) -> int:
    with write_transaction(engine_for(url)) as connection:
        detail_id: int = connection.execute(
            sa.insert(_CP)
            .values(
                alumnus_id=alumnus_id,
                kind=kind,
                value=value,
                source="import",
                status=values.pop("status", "ok"),
                created_at=IMPORTED,
                **values,
            )
            .returning(_CP.c.id)
        ).scalar_one()
    return detail_id


def details_of(url: str, alumnus_id: int) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(_CP).where(_CP.c.alumnus_id == alumnus_id).order_by(_CP.c.id)
            )
        )


def person(url: str, **values: Any) -> tuple[int, dict[str, int]]:
    """An alum in Brazil with an email (bouncing), a phone and a Mastodon handle."""
    alumnus_id = add_alumnus(
        url, "D-1", first_name="Dora", country="BR", timezone="America/Sao_Paulo", **values
    )
    ids = {
        "email": add_detail(url, alumnus_id, "email", "dora@old.example.org", status="bouncing"),
        "phone": add_detail(
            url, alumnus_id, "phone", "+5511912345678", label="mobile", verified_at=IMPORTED
        ),
        "mastodon": add_detail(url, alumnus_id, "mastodon", "@dora@mastodon.example"),
    }
    return alumnus_id, ids


def test_the_page_shows_the_alums_current_details_plainly_and_nobody_elses(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    alumnus_id, ids = person(sqlite_url)
    old = add_detail(sqlite_url, alumnus_id, "email", "dora@older.example.org")
    with write_transaction(engine_for(sqlite_url)) as connection:
        connection.execute(sa.update(_CP).where(_CP.c.id == old).values(superseded_at=IMPORTED))
    stranger = add_alumnus(sqlite_url, "D-2", email="eve@example.org", first_name="Eve")
    add_detail(sqlite_url, stranger, "phone", "+447700900123")
    before = stored(sqlite_url, *TOUCHED)

    page = sqlite_client.get(page_path(sqlite_settings, DETAILS, alumnus_id))

    assert page.status_code == 200
    assert_hardened(page)
    assert_accessible(page.text, lang="en")
    text = page.text
    # Dora's Brazilian number as Brazil dials it (stored +5511912345678), isolated left to right.
    for value in ("dora@old.example.org", "(11) 91234-5678", "@dora@mastodon.example"):
        assert f'<bdi dir="ltr">{value}</bdi>' in text
    assert "+5511912345678" not in text
    assert "dora@older.example.org" not in text  # history is not a current detail
    assert "eve@example.org" not in text and "+447700900123" not in text and "Eve" not in text
    email_heading = f'<h2 id="detail-{ids["email"]}">Email</h2>'
    assert text.index(email_heading) < text.index(f'<h2 id="detail-{ids["phone"]}">Phone</h2>')
    assert "Last confirmed on March 4, 2021." in text  # the phone, in Dora's zone
    assert text.count("Not confirmed yet.") == 2
    assert f'type="email" id="value-{ids["email"]}"' in text
    assert f'type="tel" id="value-{ids["phone"]}"' in text
    assert stored(sqlite_url, *TOUCHED) == before


def test_confirming_a_detail_makes_it_verified_now_and_ok(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    alumnus_id, ids = person(db_url)
    path = page_path(settings, DETAILS, alumnus_id)
    started = utcnow()

    answer = submit(client, path, action="confirm", detail=str(ids["email"]))

    assert answer.status_code == 303
    page = follow(client, answer)
    assert "Thank you: you confirmed this detail." in page.text
    rows = {row.id: row for row in details_of(db_url, alumnus_id)}
    assert len(rows) == 3
    confirmed = rows[ids["email"]]
    assert confirmed.status == "ok" and confirmed.verified_at >= started
    assert confirmed.superseded_at is None and confirmed.value == "dora@old.example.org"
    assert confirmed.source == "confirmed by alum; first from import"
    assert rows[ids["phone"]].verified_at == IMPORTED  # the others are as they were
    assert rows[ids["phone"]].source == "import"
    with engine_for(db_url).connect() as connection:
        noted = connection.execute(
            sa.select(_A.c.last_two_way_at, _A.c.last_two_way_channel).where(_A.c.id == alumnus_id)
        ).one()
    assert noted.last_two_way_channel == "web" and noted.last_two_way_at >= started


@pytest.mark.parametrize(
    ("kind", "typed", "kept", "label"),
    [
        ("email", "  Dora.Nova@Example.ORG ", "Dora.Nova@example.org", None),
        ("phone", "(11) 98765-4321", "+5511987654321", "mobile"),  # read in Dora's country
        ("mastodon", "dora@Social.Example.net", "@dora@social.example.net", None),
    ],
)
def test_correcting_a_detail_keeps_the_old_one_as_history(
    db_url: str,
    settings: Settings,
    client: httpx.Client,
    kind: str,
    typed: str,
    kept: str,
    label: str | None,
) -> None:
    alumnus_id, ids = person(db_url)
    path = page_path(settings, DETAILS, alumnus_id)
    started = utcnow()

    answer = submit(client, path, action="correct", detail=str(ids[kind]), value=typed)

    page = follow(client, answer)
    assert "Thank you: we keep the new detail from now on." in page.text
    assert (typed if kind == "phone" else kept) in page.text  # a phone as Brazil writes it
    rows = details_of(db_url, alumnus_id)
    assert len(rows) == 4
    old = next(row for row in rows if row.id == ids[kind])
    new = rows[-1]
    assert old.superseded_at is not None and old.superseded_at >= started
    assert old.superseded_by_import_id is None
    assert (new.kind, new.value, new.label, new.source, new.status) == (
        kind,
        kept,
        label,
        "alum:web",
        "ok",
    )
    assert new.verified_at == old.superseded_at
    assert new.superseded_at is None
    current = [row for row in rows if row.superseded_at is None]
    assert sorted(row.kind for row in current) == ["email", "mastodon", "phone"]


@pytest.mark.parametrize(
    ("kind", "typed", "words"),
    [
        ("email", "dora at example dot org", "This is not an email address we can use."),
        ("email", "dora@example.test", "This is not an email address we can use."),
        ("phone", "12", "This is not a phone number we can use."),
        ("mastodon", "dora", "This is not a Mastodon handle."),
        ("email", "   ", "Write the new value"),
    ],
)
def test_a_value_that_cannot_be_used_is_named_beside_its_field_and_nothing_changes(
    sqlite_url: str,
    sqlite_settings: Settings,
    sqlite_client: httpx.Client,
    kind: str,
    typed: str,
    words: str,
) -> None:
    alumnus_id, ids = person(sqlite_url)
    path = page_path(sqlite_settings, DETAILS, alumnus_id)
    before = stored(sqlite_url, *TOUCHED)

    answer = submit(sqlite_client, path, action="correct", detail=str(ids[kind]), value=typed)

    assert answer.status_code == 422
    assert_accessible(answer.text, lang="en")
    assert "Nothing was saved." in answer.text
    field = f"value-{ids[kind]}"
    problem = re.search(rf'<p class="field-problem" id="{field}-problem">([^<]+)</p>', answer.text)
    assert problem is not None and words in problem[1]
    assert f'id="{field}" name="value" value="{typed.strip()}"' in answer.text
    assert f'aria-invalid="true" aria-describedby="{field}-problem"' in answer.text
    assert answer.text.count('class="field-problem"') == 1
    assert stored(sqlite_url, *TOUCHED) == before


def test_another_alums_detail_or_one_changed_since_changes_nothing(
    db_url: str, settings: Settings, client: httpx.Client
) -> None:
    alumnus_id, ids = person(db_url)
    stranger = add_alumnus(db_url, "D-2", first_name="Eve")
    theirs = add_detail(db_url, stranger, "email", "eve@example.org")
    path = page_path(settings, DETAILS, alumnus_id)
    page = client.get(path)
    token = form_token_of(page.text)
    # Corrected from another window after this page was opened: the first correction wins.
    moved = submit(client, path, action="correct", detail=str(ids["email"]), value="a@example.org")
    assert moved.status_code == 303
    before = stored(db_url, *TOUCHED)

    for detail, action in ((theirs, "confirm"), (theirs, "correct"), (ids["email"], "correct")):
        answer = client.post(
            path,
            data={"form_token": token, "action": action, "detail": str(detail), "value": "b@x.org"},
        )
        assert answer.status_code == 409, (detail, action)
        assert "This detail was changed since you opened the page" in answer.text
        assert "eve@example.org" not in answer.text
        assert "a@example.org" in answer.text  # the details as they are now

    for data in ({"action": "delete", "detail": str(ids["phone"])}, {"action": "confirm"}):
        answer = client.post(path, data={"form_token": token, **data})
        assert answer.status_code == 422
    assert stored(db_url, *TOUCHED) == before


def test_a_post_without_a_valid_form_token_is_refused_and_changes_nothing(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    alumnus_id, ids = person(sqlite_url)
    path = page_path(sqlite_settings, DETAILS, alumnus_id)
    token = path.rsplit("/", 1)[1]
    key = sqlite_settings.signing_key()
    before = stored(sqlite_url, *TOUCHED)
    for value in (
        None,
        "forged",
        form_token(key, PREFERENCES, token, now=utcnow()),
        form_token(key, DETAILS, token, now=datetime(2025, 1, 1, tzinfo=UTC)),
    ):
        data = {"action": "confirm", "detail": str(ids["email"])}
        if value is not None:
            data["form_token"] = value
        answer = sqlite_client.post(path, data=data)
        assert answer.status_code == 403
        assert "Please send the form again" in answer.text
    assert stored(sqlite_url, *TOUCHED) == before


def test_the_page_is_in_the_alums_language_with_its_dates(
    sqlite_url: str, sqlite_settings: Settings, sqlite_client: httpx.Client
) -> None:
    alumnus_id, ids = person(sqlite_url, locale="pt-BR")
    path = page_path(sqlite_settings, DETAILS, alumnus_id)

    page = sqlite_client.get(path)

    assert_accessible(page.text, lang="pt-BR")
    assert "<h1>Estes ainda são seus dados?</h1>" in page.text
    assert "Confirmado pela última vez em 4 de março de 2021." in page.text
    wrong = submit(sqlite_client, path, action="correct", detail=str(ids["phone"]), value="1")
    assert "Este não é um número de telefone que possamos usar." in wrong.text
