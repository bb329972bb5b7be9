"""``/ambassador/<token>``: an ambassador's class page, reached by their signed link
(``alumni.messages.ambassador_links``; ``alumni ambassador link`` prints it, the monthly digest
carries it).

``GET`` shows the class as ``alumni.reach.class_view`` sees it (coming events, how many the
office can reach, the classmates nobody can reach by name only, with a link to the
ambassador's own tip form (``alumni.web.tip_form``), the ambassadors' ideas with the office's
answers, their drafted messages) and changes nothing.

``POST`` (with the page's form token, ``alumni.web.csrf``) does one ``action``:

- ``idea``: propose an event or an idea (``kind``, ``text``): an ``idea`` request of the desk
  (``alumni.reach.ideas``), acknowledged at once by email;
- ``draft``: draft a message to the class (``name``, ``template``, ``send_on``, ``send_at``):
  stored for an officer's approval (``alumni.reach.drafts``); nothing sends it before;
- ``withdraw``: withdraw a draft of the class not yet approved (``campaign``).

The class is always the one of the role the link names, read anew on every request: a class
year sent in a form is ignored, a campaign of another class is refused (403) and changes
nothing, and the link of a role that ended names nobody (403). A problem with a field is shown
beside it and nothing is saved (422); a saved form answers 303 to the page.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alumni.db import write_transaction
from alumni.delivery.send_time import parse_send_at, zone
from alumni.messages.ambassador_links import AMBASSADOR, read_ambassador_token
from alumni.messages.page_links import TIP, page_link
from alumni.messages.rendering import TemplateStore
from alumni.messages.signing import BadToken
from alumni.models import utcnow
from alumni.people.two_way import note_two_way
from alumni.reach.ambassadors import (
    AmbassadorError,
    AmbassadorIdentity,
    ScopeError,
    identity_of,
)
from alumni.reach.class_view import ClassView, class_view
from alumni.reach.drafts import DRAFTABLE_TEMPLATES, NAME_LIMIT, draft_campaign, withdraw
from alumni.reach.ideas import IDEA_KINDS, IDEA_LIMIT, propose
from alumni.requests.send_now import send_notices_now
from alumni.web.csrf import FIELD, form_token, form_token_ok
from alumni.web.forms import Problems, Submitted, saved, submitted
from alumni.web.i18n import Words
from alumni.web.site import Site, request_words, words_of_alum

__all__ = ["add_routes", "read_draft", "read_idea"]

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SAVED = ("idea", "draft", "withdrawn")
_FIELDS = ("kind", "text", "name", "template", "send_on", "send_at")


def read_idea(form: Submitted, words: Words) -> tuple[dict[str, str], Problems]:
    """The idea form's fields, checked; problems by field id in ``words``' language."""
    kind, text = form.one("kind"), form.one("text")
    problems: Problems = {}
    if kind not in IDEA_KINDS:
        problems["kind"] = words("amb_err_kind")
    if not text:
        problems["text"] = words("amb_err_empty")
    elif len(text) > IDEA_LIMIT:
        problems["text"] = words("err_too_long", limit=IDEA_LIMIT, length=len(text))
    return {"kind": kind, "text": text}, problems


def read_draft(form: Submitted, words: Words, *, today: date) -> tuple[dict[str, str], Problems]:
    """The draft form's fields, checked; problems by field id in ``words``' language."""
    fields = {name: form.one(name) for name in ("name", "template", "send_on", "send_at")}
    problems: Problems = {}
    if not fields["name"]:
        problems["name"] = words("amb_err_empty")
    elif len(fields["name"]) > NAME_LIMIT:
        problems["name"] = words("err_too_long", limit=NAME_LIMIT, length=len(fields["name"]))
    if fields["template"] not in DRAFTABLE_TEMPLATES:
        problems["template"] = words("amb_err_template")
    try:
        parse_send_at(fields["send_at"])
    except ValueError:
        problems["send_at"] = words("amb_err_time")
    if fields["send_on"]:
        try:
            if _ISO_DAY.fullmatch(fields["send_on"]) is None:
                raise ValueError(fields["send_on"])
            day = date.fromisoformat(fields["send_on"])
        except ValueError:
            problems["send_on"] = words("err_date", example=today.isoformat())
        else:
            if day < today:
                problems["send_on"] = words("amb_err_day_past")
    return fields, problems


def _when(words: Words, moment: datetime, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return f"{words.day(moment, tz)} {local:%H:%M} ({tz})"


def _shown(view: ClassView, words: Words) -> dict[str, Any]:
    """The page's content, in ``words``' language."""
    return {
        "events": [
            {"title": e.title, "when": _when(words, e.starts_at, e.timezone), "place": e.place}
            for e in view.events
        ],
        "reach": {
            "reachable": view.reach.reachable,
            "contactable": view.reach.contactable,
            "percent": round(100 * view.reach.share),
            "by_email": view.reach.by_email,
            "by_social": view.reach.by_social,
            "unreachable": view.reach.unreachable,
            "reached_last_year": view.reach.reached_last_year,
        },
        "lost": [lost.display_name for lost in view.lost],
        "ideas": [
            {
                "summary": idea.summary,
                "state": words(f"decision_{idea.decision}")
                if idea.decision
                else words(f"status_{idea.status}"),
                "reason": idea.decision_reason,
            }
            for idea in view.ideas
        ],
        "drafts": [
            {
                "campaign_id": d.campaign_id,
                "name": d.name,
                "state": words("amb_draft_approved" if d.approved_at else "amb_draft_waiting"),
                "can_withdraw": d.approved_at is None,
            }
            for d in view.drafts
        ],
    }


def add_routes(app: FastAPI, site: Site) -> None:
    """Add ``/ambassador/<token>`` (GET, POST)."""

    def who(request: Request, token: str) -> AmbassadorIdentity | HTMLResponse:
        try:
            role = read_ambassador_token(site.key, token, now=utcnow())
        except BadToken as error:
            return site.refused(request_words(request), error)
        with site.engine.connect() as connection:
            identity = identity_of(connection, role)
        if identity is None:
            words = request_words(request)
            text = words("amb_gone", email=site.office_email)
            return site.message(words, 403, words("amb_gone_title"), text)
        return identity

    def page(
        identity: AmbassadorIdentity,
        token: str,
        *,
        status: int = 200,
        entered: dict[str, str] | None = None,
        problems: Problems | None = None,
        notice: str | None = None,
    ) -> HTMLResponse:
        words = words_of_alum(identity.locale)
        now = utcnow()
        with site.engine.connect() as connection:
            view = class_view(connection, identity.class_year, now=now)
        return site.page(
            "ambassador.html.j2",
            status=status,
            words=words,
            title=words("amb_title", year=identity.class_year),
            first_name=identity.first_name,
            entered={name: "" for name in _FIELDS} | (entered or {}),
            problems=problems or {},
            notice=notice,
            templates=DRAFTABLE_TEMPLATES,
            idea_limit=IDEA_LIMIT,
            name_limit=NAME_LIMIT,
            # the ambassador's own tip form (``alumni.web.tip_form``), beside this page
            tip_link=".." + page_link(site.key, "", TIP, identity.alumnus_id, now=now),
            form_token=form_token(site.key, AMBASSADOR, token, now=now),
            **_shown(view, words),
        )

    @app.get("/ambassador/{token}", response_class=HTMLResponse)
    def show(request: Request, token: str, saved: str | None = None) -> HTMLResponse:
        identity = who(request, token)
        if isinstance(identity, HTMLResponse):
            return identity
        words = words_of_alum(identity.locale)
        notice = words(f"amb_saved_{saved}") if saved in _SAVED else None
        return page(identity, token, notice=notice)

    @app.post("/ambassador/{token}", response_class=HTMLResponse)
    def act(
        request: Request,
        token: str,
        form: Annotated[Submitted, Depends(submitted)],
        background: BackgroundTasks,
    ) -> Response:
        identity = who(request, token)
        if isinstance(identity, HTMLResponse):
            return identity
        words = words_of_alum(identity.locale)
        now = utcnow()
        if not form_token_ok(site.key, AMBASSADOR, token, form.one(FIELD), now=now):
            return site.stale_form(words)
        action = form.one("action")
        try:
            if action == "idea":
                fields, problems = read_idea(form, words)
                if problems:
                    return page(identity, token, status=422, entered=fields, problems=problems)
                with write_transaction(site.engine) as connection:
                    request_id = propose(
                        connection, identity, kind=fields["kind"], text=fields["text"], now=now
                    )
                    note_two_way(connection, identity.alumnus_id, at=now, channel="web")
                background.add_task(
                    send_notices_now, site.engine, request_id, settings=site.settings
                )
                return saved(token, "idea")
            if action == "draft":
                tz = zone(identity.timezone, site.office_timezone)
                fields, problems = read_draft(form, words, today=now.astimezone(tz).date())
                if problems:
                    return page(identity, token, status=422, entered=fields, problems=problems)
                store = TemplateStore(
                    site.settings.templates_dir, default_locale=site.settings.default_locale
                )
                with write_transaction(site.engine) as connection:
                    draft_campaign(
                        connection,
                        identity,
                        name=fields["name"],
                        template=fields["template"],
                        send_at=fields["send_at"] or None,
                        send_on=fields["send_on"] or None,
                        store=store,
                        office_timezone=site.office_timezone,
                        now=now,
                    )
                    note_two_way(connection, identity.alumnus_id, at=now, channel="web")
                return saved(token, "draft")
            if action == "withdraw" and form.one("campaign").isdigit():
                with write_transaction(site.engine) as connection:
                    withdraw(connection, identity, int(form.one("campaign")))
                return saved(token, "withdrawn")
        except ScopeError:
            return site.message(words, 403, words("amb_scope_title"), words("amb_scope"))
        except AmbassadorError:
            return site.message(words, 404, words("not_found_title"), words("not_found"))
        return site.message(words, 400, words("unreadable_title"), words("unreadable"))
