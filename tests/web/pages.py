"""Driving the app's pages over HTTP as a browser would (read a page's form token, send its
form, follow the 303 back to the page), and what every page must be (accessible, in a language,
changing nothing unless a form was sent)."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import sqlalchemy as sa
from sqlmodel import SQLModel

from alumni.db import engine_for
from alumni.messages.page_links import page_link
from alumni.models import table_of, utcnow
from alumni.settings import Settings

_FORM_TOKEN = re.compile(r'<input type="hidden" name="form_token" value="([^"]+)">')


def form_token_of(html: str) -> str:
    """The form token of the first form on a page."""
    found = _FORM_TOKEN.search(html)
    assert found is not None, "the page has no form token"
    return found[1]


def submit(client: httpx.Client, path: str, **fields: str | list[str]) -> httpx.Response:
    """Open the page at ``path`` and send its form with ``fields`` (and its form token)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    data: dict[str, str | list[str]] = {"form_token": form_token_of(page.text), **fields}
    return client.post(path, data=data)


def follow(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follow a saved form's 303, checking that it leads back to the page it came from."""
    assert response.status_code == 303, response.text
    target = urljoin(str(response.request.url), response.headers["location"])
    sent, landed = urlsplit(str(response.request.url)), urlsplit(target)
    assert (landed.scheme, landed.netloc, landed.path) == (sent.scheme, sent.netloc, sent.path)
    return client.get(target)


def page_path(
    settings: Settings, page: str, alumnus_id: int, *, now: datetime | None = None
) -> str:
    """The path of an alum's ``page`` as the link in their email has it, made at ``now``."""
    return page_link(settings.signing_key(), "", page, alumnus_id, now=now or utcnow())


def stored(url: str, *models: type[SQLModel]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables of ``models``: compare before and after to see what changed."""
    with engine_for(url).connect() as connection:
        return {
            model.__name__: sorted(
                (tuple(row) for row in connection.execute(sa.select(table_of(model)))), key=repr
            )
            for model in models
        }


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.inputs: list[dict[str, str | None]] = []
        self.described: list[str] = []
        self.buttons: list[str] = []
        self.scripts = 0
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if any(name.startswith("on") for name in found):
            self.scripts += 1
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "label" and found.get("for"):
            self.label_for.add(str(found["for"]))
        elif tag == "input":
            self.inputs.append(found)
        elif tag == "script":
            self.scripts += 1
        elif tag == "button":
            self._button = []
        if found.get("aria-describedby"):
            self.described.extend(str(found["aria-describedby"]).split())

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None


def assert_accessible(html: str, *, lang: str) -> None:
    """The page is in ``lang``, has no script, every field has its label and every
    ``aria-describedby`` names an element of the page, and every button says what it does."""
    page = _Page()
    page.feed(html)
    assert page.lang == lang
    assert page.scripts == 0
    for field in page.inputs:
        if field.get("type") != "hidden":
            assert field.get("id") in page.label_for, field
    assert set(page.described) <= page.ids
    assert all(page.buttons), page.buttons
