"""``/details/<token>``: "are these still your details?" — confirm or correct each one.

``GET`` lists the alum's current contact details (email, phone, Mastodon, Bluesky), shown
plainly: the link is theirs, and it shows nobody else's. A phone number is written as the alum's
country dials it (``alumni.people.postal``); every value is isolated left to right, so an
address or a number reads right on an Arabic page. It changes nothing. Each detail has two
forms (each with the page's form token, ``alumni.web.csrf``):

- ``action=confirm``: the detail becomes verified now, status ok;
- ``action=correct`` with ``value``: checked like a spreadsheet cell (email-validator,
  phonenumbers with the alum's country, handle forms); the old detail is kept as history and
  the new one is stored with source ``alum:web``, verified now
  (``alumni.people.contact_details``).

A value that cannot be used is shown again beside its field with what is wrong (422), and
nothing is saved. A detail changed since the page was opened (corrected in another window)
changes nothing and the page shows the details as they are now (409). Saved, the alum's
two-way contact is noted and the answer is 303 to the page with a "saved" notice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alumni.db import write_transaction
from alumni.messages.page_links import DETAILS
from alumni.models import utcnow
from alumni.people.contact_details import (
    Detail,
    DetailGone,
    InvalidDetail,
    confirm_detail,
    correct_detail,
    current_details,
)
from alumni.people.postal import phone_display, place_line
from alumni.people.two_way import note_two_way
from alumni.web.alum_links import Alum, alum_of_link
from alumni.web.csrf import FIELD, form_token, form_token_ok
from alumni.web.forms import Problems, Submitted, saved, submitted
from alumni.web.site import Site

__all__ = ["add_routes"]

# (input type, autocomplete) per kind: the right keyboard on a phone, the browser's own
# suggestions for the person's address and number.
_INPUTS = {
    "email": ("email", "email"),
    "phone": ("tel", "tel"),
    "mastodon": ("text", "off"),
    "bluesky": ("text", "off"),
}
_NOTICES = {"confirmed": "det_saved_confirmed", "corrected": "det_saved_corrected"}


def _shown(detail: Detail, alum: Alum) -> dict[str, Any]:
    input_type, autocomplete = _INPUTS.get(detail.kind, ("text", "off"))
    verified = detail.verified_at
    return {
        "id": detail.id,
        "kind": detail.kind if detail.kind in _INPUTS else "email",
        # A phone as the alum's country dials it ("020 7946 0958" at home, "+44 ..." abroad).
        "value": (
            phone_display(detail.value, home_country=alum.country)
            if detail.kind == "phone"
            else detail.value
        ),
        "verified_on": None if verified is None else alum.words.day(verified, alum.timezone),
        "input_type": input_type,
        "autocomplete": autocomplete,
    }


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/details/<token>`` (GET, POST)."""

    def page(
        alum: Alum,
        token: str,
        *,
        status: int,
        notice: str | None = None,
        problems: Problems | None = None,
        entered: dict[str, str] | None = None,
    ) -> HTMLResponse:
        with site.engine.connect() as connection:
            details = current_details(connection, alum.id)
        words = alum.words
        return site.page(
            "details.html.j2",
            status=status,
            words=words,
            title=words("det_title"),
            greeting_name=alum.greeting_name,
            # Where the office has them living, as the page's language writes a place.
            place=place_line(alum.city, alum.country, locale=words.locale),
            details=[_shown(detail, alum) for detail in details if detail.kind in _INPUTS],
            notice=notice,
            problems=problems or {},
            entered=entered or {},
            form_token=form_token(site.key, DETAILS, token, now=utcnow()),
        )

    @app.get("/details/{token:path}", response_class=HTMLResponse)
    def show(request: Request, token: str) -> HTMLResponse:
        alum = alum_of_link(site, request, DETAILS, token)
        if isinstance(alum, HTMLResponse):
            return alum
        key = _NOTICES.get(request.query_params.get("saved", ""))
        return page(alum, token, status=200, notice=None if key is None else alum.words(key))

    @app.post("/details/{token:path}", response_class=HTMLResponse)
    def change(
        request: Request, token: str, form: Annotated[Submitted, Depends(submitted)]
    ) -> Response:
        alum = alum_of_link(site, request, DETAILS, token)
        if isinstance(alum, HTMLResponse):
            return alum
        words = alum.words
        now = utcnow()
        if not form_token_ok(site.key, DETAILS, token, form.one(FIELD), now=now):
            return site.stale_form(words)
        action, raw_id, value = form.one("action"), form.one("detail"), form.one("value")
        if action not in ("confirm", "correct") or not raw_id.isdigit():
            return site.message(words, 422, words("unreadable_title"), words("unreadable"))
        detail_id = int(raw_id)
        field = f"value-{detail_id}"
        if action == "correct" and not value:
            return page(alum, token, status=422, problems={field: words("err_empty")})
        try:
            with write_transaction(site.engine) as connection:
                if action == "confirm":
                    confirm_detail(connection, alum.id, detail_id, now=now)
                else:
                    correct_detail(
                        connection, alum.id, detail_id, value, now=now, country=alum.country
                    )
                note_two_way(connection, alum.id, at=now, channel="web")
        except DetailGone:
            return page(alum, token, status=409, notice=words("det_changed"))
        except InvalidDetail as error:
            kind = error.kind if error.kind in _INPUTS else "email"
            return page(
                alum,
                token,
                status=422,
                problems={field: words(f"err_{kind}")},
                entered={field: value},
            )
        return saved(token, "confirmed" if action == "confirm" else "corrected")
