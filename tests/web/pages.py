"""Driving the app's pages over HTTP as a browser would: read a page's form token, send its
form, follow the 303 back to the page."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

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
