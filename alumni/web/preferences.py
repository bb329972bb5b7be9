"""``/preferences/<token>``: the alum chooses how we write to them, how often, and a pause.

``GET`` shows what they chose (never chose: every message, by email) and changes nothing.
``POST`` (with the page's form token, ``alumni.web.csrf``) checks each field:

- ``channels``: ticked boxes among ``alumni.people.preferences.CHANNELS`` (none ticked is a
  choice too: nothing but their own requests reaches them);
- ``frequency``: every message, a monthly digest of news, or only their own requests;
- ``pause_until``: empty (no pause), or a date ``YYYY-MM-DD`` after today and at most
  ``MAX_PAUSE_DAYS`` ahead, "today" being the alum's (their zone, else the office's). The pause
  ends at the start of that day in that zone: messages may go again from then on.

A problem is shown beside its field, with what was entered, and nothing is saved (422).
Saved, the choice replaces any earlier one (``alumni.people.preferences``), the alum's two-way
contact is noted, and the answer is 303 to the page with a "saved" notice. The planner honours
the choice in every campaign planned from then on (``alumni.delivery.audience``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alumni.db import write_transaction
from alumni.delivery.audience import pause_runs
from alumni.delivery.send_time import zone
from alumni.messages.page_links import PREFERENCES
from alumni.models import Frequency, utcnow
from alumni.people.preferences import (
    CHANNELS,
    Choice,
    offered_channels,
    read_choice,
    save_choice,
)
from alumni.people.two_way import note_two_way
from alumni.web.alum_links import Alum, alum_of_link
from alumni.web.csrf import FIELD, form_token, form_token_ok
from alumni.web.forms import Problems, Submitted, saved, submitted
from alumni.web.i18n import Words
from alumni.web.site import Site

__all__ = ["MAX_PAUSE_DAYS", "add_routes", "read_form"]

# The furthest a pause may reach; for longer, "only my own requests" says it better.
MAX_PAUSE_DAYS: Final = 366
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SAVED = "preferences"


def read_form(
    form: Submitted, *, now: datetime, tz: ZoneInfo, words: Words
) -> tuple[Choice | None, Problems]:
    """Check the submitted fields; return the choice (None if any field is wrong) and the
    problems by field id, each in ``words``' language.

    Args:
        now: the time of the request: "today" is its date in ``tz``.
        tz: the alum's zone (else the office's): a pause ends at the start of its day there.
    """
    today = now.astimezone(tz).date()
    problems: Problems = {}
    channels = frozenset(form.all("channels"))
    if not channels <= set(CHANNELS):
        problems["channels"] = words("err_channel")
    raw_frequency = form.one("frequency")
    frequency = Frequency(raw_frequency) if raw_frequency in set(Frequency) else None
    if frequency is None:
        problems["frequency"] = words("err_frequency")
    paused_until: datetime | None = None
    raw_day = form.one("pause_until")
    if raw_day:
        example = (today + timedelta(days=14)).isoformat()
        try:
            if _ISO_DAY.fullmatch(raw_day) is None:
                raise ValueError(raw_day)
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems["pause_until"] = words("err_date", example=example)
        else:
            if day <= today:
                problems["pause_until"] = words("err_date_past")
            elif day > today + timedelta(days=MAX_PAUSE_DAYS):
                problems["pause_until"] = words("err_date_far")
            else:
                paused_until = datetime(day.year, day.month, day.day, tzinfo=tz)
    if problems or frequency is None:
        return None, problems
    return Choice(channels, frequency, paused_until), problems


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/preferences/<token>`` (GET, POST)."""

    def zone_of(alum: Alum) -> ZoneInfo:
        return zone(alum.timezone, site.office_timezone)

    def page(
        alum: Alum,
        token: str,
        *,
        status: int,
        shown: dict[str, Any],
        problems: Problems,
        notice: str | None = None,
        paused_until: str | None = None,
        offered: tuple[str, ...] = CHANNELS,
    ) -> HTMLResponse:
        words = alum.words
        return site.page(
            "preferences.html.j2",
            status=status,
            words=words,
            title=words("pref_title"),
            greeting_name=alum.greeting_name,
            channels=offered,
            frequencies=[frequency.value for frequency in Frequency],
            chosen=shown,
            problems=problems,
            notice=notice,
            paused_until=paused_until,
            form_token=form_token(site.key, PREFERENCES, token, now=utcnow()),
        )

    @app.get("/preferences/{token:path}", response_class=HTMLResponse)
    def show(request: Request, token: str) -> HTMLResponse:
        alum = alum_of_link(site, request, PREFERENCES, token)
        if isinstance(alum, HTMLResponse):
            return alum
        with site.engine.connect() as connection:
            choice = read_choice(connection, alum.id)
            offered = offered_channels(connection, alum.id)
        tz = zone_of(alum)
        running = choice.paused_until if pause_runs(choice.paused_until, now=utcnow()) else None
        shown = {
            "channels": choice.channels,
            "frequency": choice.frequency.value,
            "pause_until": "" if running is None else running.astimezone(tz).date().isoformat(),
        }
        notice = alum.words("pref_saved") if request.query_params.get("saved") == _SAVED else None
        return page(
            alum,
            token,
            status=200,
            shown=shown,
            problems={},
            notice=notice,
            paused_until=None if running is None else alum.words.day(running, tz.key),
            offered=offered,
        )

    @app.post("/preferences/{token:path}", response_class=HTMLResponse)
    def save(
        request: Request, token: str, form: Annotated[Submitted, Depends(submitted)]
    ) -> Response:
        alum = alum_of_link(site, request, PREFERENCES, token)
        if isinstance(alum, HTMLResponse):
            return alum
        now = utcnow()
        if not form_token_ok(site.key, PREFERENCES, token, form.one(FIELD), now=now):
            return site.stale_form(alum.words)
        choice, problems = read_form(form, now=now, tz=zone_of(alum), words=alum.words)
        with site.engine.connect() as connection:
            offered = offered_channels(connection, alum.id)
            before = read_choice(connection, alum.id)
        if choice is None:
            shown = {
                "channels": frozenset(form.all("channels")),
                "frequency": form.one("frequency"),
                "pause_until": form.one("pause_until"),
            }
            return page(alum, token, status=422, shown=shown, problems=problems, offered=offered)
        # a channel the page did not offer keeps what was chosen before
        kept = before.channels - set(offered)
        choice = Choice(choice.channels | kept, choice.frequency, choice.paused_until)
        with write_transaction(site.engine) as connection:
            save_choice(connection, alum.id, choice, now=now)
            note_two_way(connection, alum.id, at=now, channel="web")
        return saved(token, _SAVED)
