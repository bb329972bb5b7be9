"""Submitted forms: their fields read with limits, and the answer to a form that was saved.

A form's fields come as lists of strings (a group of checkboxes sends one value per box).
Files are refused and sizes are capped, so a page never reads more than a form can hold; a body
that cannot be read answers the plain 400 page. Problems are ``Problems``: the field's id on the
page mapped to the message shown beside it.

A saved form answers ``303 See Other`` to its own page (POST-redirect-GET), with ``?saved=``
naming the notice to show: the address is built from the page's checked link token, never from
anything else the request sent, so it cannot lead off this site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fastapi import Request
from fastapi.responses import RedirectResponse

__all__ = ["MAX_FIELDS", "Problems", "Submitted", "saved", "submitted"]

MAX_FIELDS: Final = 32
_MAX_FIELD_BYTES: Final = 16 * 1024

Problems = dict[str, str]  # a field's id on the page -> what is wrong, in the page's language


@dataclass(frozen=True)
class Submitted:
    """The fields of one submitted form."""

    fields: Mapping[str, tuple[str, ...]]

    def one(self, name: str) -> str:
        """The field's first value without surrounding spaces; empty when it was not sent."""
        values = self.fields.get(name, ())
        return values[0].strip() if values else ""

    def all(self, name: str) -> tuple[str, ...]:
        """Every value sent for the field (e.g. the boxes ticked in a group)."""
        return self.fields.get(name, ())


async def submitted(request: Request) -> Submitted:
    """Read the request's form (a FastAPI dependency).

    Raises:
        HTTPException: 400 from Starlette when the body holds a file, too many fields or a field
            over its size (the app answers its plain "could not be read" page).
    """
    form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=_MAX_FIELD_BYTES)
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return Submitted({name: tuple(values) for name, values in fields.items()})


def saved(token: str, notice: str) -> RedirectResponse:
    """The 303 to the page itself, ``./<token>?saved=<notice>``, after its form was saved.

    The address is relative to the page (``/preferences/<token>`` leads to
    ``/preferences/<token>?saved=...``), so it works behind a proxy that serves the app under a
    path of its own, and it names no host: the browser stays on this one.

    Args:
        token: the page's link token, already checked (URL-safe characters and dots only).
        notice: which saved-notice the page shows.
    """
    return RedirectResponse(f"./{token.strip()}?saved={notice}", status_code=303)
