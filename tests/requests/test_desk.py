"""The request desk's operations on both databases: each step's status, timestamps and audit
rows; the refusals (which change nothing); what the desk shows and to whom; a reply becoming a
request through the desk.

The office runs on the shipped defaults (requests.toml, Monday to Friday 09:00-17:00, UTC).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from alumni.db import engine_for, write_transaction
from alumni.models import Request, RequestEvent, RequestNotice, RequestPause, table_of
from alumni.people.privacy import erase_alumnus, export_alumnus
from alumni.requests import desk
from alumni.requests.clock import BusinessCalendar
from alumni.requests.referrals import agreed_to_referrals, record_referral_consent
from alumni.requests.types import load_request_types
from alumni.tracking.reply_requests import open_request_from_reply
from tests.factories import add_alumnus
from tests.snapshot import dump_tables

MONDAY = datetime(2027, 5, 3, 10, 0, tzinfo=UTC)  # 10:00, office open
OFFICER = "ola@school.example.org"
LEAD = "lead@school.example.org"
TYPES = load_request_types()
CALENDAR = BusinessCalendar(tz=ZoneInfo("UTC"))
_Q = table_of(Request)
_E = table_of(RequestEvent)
_P = table_of(RequestPause)
_N = table_of(RequestNotice)


def at(days: float = 0, hours: float = 0) -> datetime:
    return MONDAY + timedelta(days=days, hours=hours)


def open_one(url: str, type: str = "letter", **given: Any) -> int:
    values: dict[str, Any] = {
        "type": type,
        "summary": f"A {type} for my application",
        "source": "officer",
        "opened_at": MONDAY,
        "now": MONDAY,
        "actor": OFFICER,
        "types": TYPES,
    }
    values.update(given)
    if "alumnus_id" not in values:
        values["alumnus_id"] = add_alumnus(url, f"R-{type}-{values['summary'][:8]}")
    with write_transaction(engine_for(url)) as connection:
        return desk.open_request(connection, **values)


def step(url: str, operation: Any, request_id: int, **given: Any) -> None:
    with write_transaction(engine_for(url)) as connection:
        operation(connection, request_id, **given)


def request_row(url: str, request_id: int) -> Any:
    with engine_for(url).connect() as connection:
        return connection.execute(sa.select(_Q).where(_Q.c.id == request_id)).one()


def trail(url: str, request_id: int) -> list[tuple[Any, ...]]:
    with engine_for(url).connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.select(_E.c.at, _E.c.actor, _E.c.action, _E.c.detail, _E.c.to_alum)
                .where(_E.c.request_id == request_id)
                .order_by(_E.c.id)
            )
        ]


def pauses(url: str, request_id: int) -> list[tuple[Any, ...]]:
    with engine_for(url).connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.select(_P.c.started_at, _P.c.ended_at)
                .where(_P.c.request_id == request_id)
                .order_by(_P.c.id)
            )
        ]


def notices(url: str, request_id: int) -> list[str]:
    """The kinds of the alum's notices queued for the request, in order."""
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(
                sa.select(_N.c.kind).where(_N.c.request_id == request_id).order_by(_N.c.id)
            ).scalars()
        )


def refused(url: str, operation: Any, *args: Any, match: str, **given: Any) -> str:
    """Run a step that the desk must refuse; check it said ``match`` and changed nothing."""
    before = dump_tables(engine_for(url))
    with (
        pytest.raises(desk.DeskError, match=match) as caught,
        write_transaction(engine_for(url)) as connection,
    ):
        operation(connection, *args, **given)
    assert dump_tables(engine_for(url)) == before
    return str(caught.value)


def view(
    url: str,
    request_id: int,
    *,
    viewer: str | None = OFFICER,
    now: datetime = MONDAY,
    officers: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    with engine_for(url).connect() as connection:
        return desk.request_view(
            connection,
            request_id,
            viewer=viewer,
            now=now,
            types=TYPES,
            calendar=CALENDAR,
            officers=officers,
        )


def test_opening_writes_the_request_as_it_came_and_its_audit_rows(db_url: str) -> None:
    ana = add_alumnus(db_url, "A001")
    came = at(days=-3, hours=-1)  # Friday 09:00: logged on Monday from a phone call
    request_id = open_one(
        db_url,
        "letter",
        alumnus_id=ana,
        opened_at=came,
        owner=" jo@school.example.org ",
        deadline=at(days=20),
    )

    row = request_row(db_url, request_id)
    assert (row.type, row.status, row.alumnus_id, row.source) == ("letter", "open", ana, "officer")
    assert (row.opened_at, row.created_at, row.last_update_at) == (came, MONDAY, came)
    assert (row.owner, row.deadline, row.first_response_at) == (
        "jo@school.example.org",
        at(days=20),
        None,
    )
    assert (row.closed_at, row.outcome, row.escalation_level) == (None, None, 0)
    assert trail(db_url, request_id) == [
        (MONDAY, OFFICER, "opened", "letter from officer", False),
        (MONDAY, OFFICER, "assigned", "jo@school.example.org", False),
    ]
    assert notices(db_url, request_id) == ["ack"]  # the acknowledgement, at once


def test_every_step_sets_status_timestamps_pauses_and_its_audit_row(db_url: str) -> None:
    request_id = open_one(db_url, "letter")
    with write_transaction(engine_for(db_url)) as connection:  # the ladder's, never the desk's
        connection.execute(sa.update(_Q).where(_Q.c.id == request_id).values(escalation_level=2))

    step(db_url, desk.assign, request_id, owner=LEAD, actor=OFFICER, now=at(hours=1))
    step(
        db_url,
        desk.add_note,
        request_id,
        text="Called the registry",
        to_alum=False,
        actor=LEAD,
        now=at(hours=2),
    )
    row = request_row(db_url, request_id)
    assert (row.status, row.owner, row.first_response_at) == ("open", LEAD, None)

    step(
        db_url,
        desk.add_note,
        request_id,
        text="We are on it",
        to_alum=True,
        actor=LEAD,
        now=at(hours=3),
    )
    row = request_row(db_url, request_id)
    assert (row.status, row.first_response_at, row.last_update_at) == (
        "in_progress",
        at(hours=3),
        at(hours=3),
    )

    step(db_url, desk.wait_on_alum, request_id, actor=LEAD, now=at(days=1), reason="Your CV?")
    row = request_row(db_url, request_id)
    assert (row.status, row.first_response_at, row.last_update_at) == (
        "waiting",
        at(hours=3),
        at(days=1),
    )
    assert pauses(db_url, request_id) == [(at(days=1), None)]

    step(db_url, desk.resume, request_id, actor=LEAD, now=at(days=2))
    assert request_row(db_url, request_id).status == "in_progress"
    assert pauses(db_url, request_id) == [(at(days=1), at(days=2))]

    step(
        db_url,
        desk.set_referee,
        request_id,
        referee="prof@school.example.org",
        actor=LEAD,
        now=at(days=2, hours=1),
    )
    step(
        db_url,
        desk.close,
        request_id,
        outcome="resolved",
        actor=LEAD,
        now=at(days=3),
        reason="Letter sent to the university",
        types=TYPES,
    )
    row = request_row(db_url, request_id)
    assert (row.status, row.outcome, row.closed_at, row.last_update_at) == (
        "closed",
        "resolved",
        at(days=3),
        at(days=3),
    )
    assert (row.referee, row.first_response_at, row.escalation_level) == (
        "prof@school.example.org",
        at(hours=3),
        2,
    )
    assert trail(db_url, request_id) == [
        (MONDAY, OFFICER, "opened", "letter from officer", False),
        (at(hours=1), OFFICER, "assigned", LEAD, False),
        (at(hours=2), LEAD, "note", "Called the registry", False),
        (at(hours=3), LEAD, "reply", "We are on it", True),
        (at(days=1), LEAD, "waiting", "Your CV?", True),
        (at(days=2), LEAD, "resumed", None, False),
        (at(days=2, hours=1), LEAD, "referee", "prof@school.example.org", False),
        (at(days=3), LEAD, "closed", "resolved: Letter sent to the university", True),
    ]
    # A notice at each change of status and each word to the alum; none for internal steps.
    assert notices(db_url, request_id) == ["ack", "update", "waiting", "resumed", "closed"]

    # An internal note still goes on a closed request's trail; nothing else does.
    step(
        db_url,
        desk.add_note,
        request_id,
        text="Thanked the professor",
        to_alum=False,
        actor=LEAD,
        now=at(days=4),
    )
    assert trail(db_url, request_id)[-1] == (
        at(days=4),
        LEAD,
        "note",
        "Thanked the professor",
        False,
    )


def test_a_reply_while_waiting_keeps_the_clock_stopped_and_a_close_ends_the_pause(
    db_url: str,
) -> None:
    request_id = open_one(db_url, "question")
    step(db_url, desk.wait_on_alum, request_id, actor=OFFICER, now=at(hours=1))
    step(
        db_url,
        desk.add_note,
        request_id,
        text="Any news?",
        to_alum=True,
        actor=OFFICER,
        now=at(days=2),
    )
    row = request_row(db_url, request_id)
    assert (row.status, row.first_response_at, row.last_update_at) == (
        "waiting",
        at(hours=1),
        at(days=2),
    )
    assert pauses(db_url, request_id) == [(at(hours=1), None)]

    step(
        db_url,
        desk.close,
        request_id,
        outcome="withdrawn",
        actor=OFFICER,
        now=at(days=3),
        types=TYPES,
    )
    assert request_row(db_url, request_id).status == "closed"
    assert pauses(db_url, request_id) == [(at(hours=1), at(days=3))]


def test_the_steps_of_each_type_are_refused_until_done_and_change_nothing(db_url: str) -> None:
    letter = open_one(db_url, "letter")
    message = refused(
        db_url,
        desk.close,
        letter,
        outcome="resolved",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match="no referee",
    )
    assert f"alumni request referee {letter} --name EMAIL" in message

    certificate = open_one(db_url, "certificate")
    message = refused(
        db_url,
        desk.close,
        certificate,
        outcome="resolved",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match="check the alum's identity",
    )
    assert f"alumni request identity {certificate} --checked" in message
    step(db_url, desk.check_identity, certificate, actor=LEAD, now=at(hours=2), types=TYPES)
    row = request_row(db_url, certificate)
    assert (row.identity_checked_at, row.identity_checked_by) == (at(hours=2), LEAD)
    refused(
        db_url,
        desk.check_identity,
        certificate,
        actor=OFFICER,
        now=at(hours=3),
        types=TYPES,
        match=f"already checked by {LEAD}",
    )
    step(
        db_url,
        desk.close,
        certificate,
        outcome="resolved",
        actor=LEAD,
        now=at(hours=4),
        types=TYPES,
    )
    assert request_row(db_url, certificate).outcome == "resolved"

    idea = open_one(db_url, "idea")
    for outcome in ("resolved", "declined"):
        message = refused(
            db_url,
            desk.close,
            idea,
            outcome=outcome,
            actor=OFFICER,
            now=at(days=1),
            types=TYPES,
            match="has no decision",
        )
        assert f"alumni request decide {idea} --decision" in message
    refused(
        db_url,
        desk.decide_idea,
        idea,
        decision="accepted",
        reason="  ",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match="give the reason",
    )
    refused(
        db_url,
        desk.decide_idea,
        idea,
        decision="maybe",
        reason="why",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match="'maybe' is not known",
    )
    refused(
        db_url,
        desk.decide_idea,
        letter,
        decision="accepted",
        reason="why",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match=f"request {letter} is a letter request: only idea requests are decided",
    )
    step(
        db_url,
        desk.decide_idea,
        idea,
        decision="planned",
        reason="For the 2028 reunion",
        actor=LEAD,
        now=at(days=1),
        types=TYPES,
    )
    row = request_row(db_url, idea)
    assert (row.decision, row.decision_reason, row.status, row.first_response_at) == (
        "planned",
        "For the 2028 reunion",
        "in_progress",
        at(days=1),
    )
    assert notices(db_url, idea) == ["ack", "decision"]
    assert trail(db_url, idea)[-1] == (
        at(days=1),
        LEAD,
        "decision",
        "planned: For the 2028 reunion",
        True,
    )
    step(db_url, desk.close, idea, outcome="resolved", actor=LEAD, now=at(days=2), types=TYPES)

    # An idea the alum withdrew needs no decision.
    withdrawn = open_one(db_url, "idea", summary="Second idea")
    step(
        db_url,
        desk.close,
        withdrawn,
        outcome="withdrawn",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
    )

    refused(
        db_url,
        desk.close,
        idea,
        outcome="resolved",
        actor=OFFICER,
        now=at(days=3),
        types=TYPES,
        match=f"request {idea} is already closed \\(resolved",
    )
    refused(
        db_url,
        desk.assign,
        idea,
        owner=LEAD,
        actor=OFFICER,
        now=at(days=3),
        match=f"request {idea} is closed",
    )
    refused(
        db_url,
        desk.add_note,
        idea,
        text="Hello",
        to_alum=True,
        actor=OFFICER,
        now=at(days=3),
        match="nothing to reply to the alum",
    )
    refused(
        db_url,
        desk.set_referee,
        certificate + 100,
        referee=LEAD,
        actor=OFFICER,
        now=at(days=3),
        types=TYPES,
        match=f"request {certificate + 100} does not exist",
    )


def test_a_referral_asks_only_an_alum_who_agreed_to_be_asked(db_url: str) -> None:
    seeker = add_alumnus(db_url, "SEEK1")
    contact = add_alumnus(db_url, "CONT1")
    gone = add_alumnus(db_url, "GONE1", status="do_not_contact")

    # No consent row: not agreed. The refusal says how to record the agreement.
    message = refused(
        db_url,
        desk.open_request,
        type="referral",
        alumnus_id=seeker,
        summary="An introduction at Acme",
        source="officer",
        opened_at=MONDAY,
        now=MONDAY,
        actor=OFFICER,
        types=TYPES,
        asked_alumnus_id=contact,
        match="alum CONT1 has not agreed to be asked",
    )
    assert "alumni request consent CONT1 --referrals yes --evidence TEXT" in message

    # Opened without naming anyone yet (from the web form, say); resolving needs someone asked.
    request_id = open_one(db_url, "referral", alumnus_id=seeker)
    refused(
        db_url,
        desk.close,
        request_id,
        outcome="resolved",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match=f"alumni request ask {request_id} --alumnus EXTERNAL_ID",
    )
    refused(
        db_url,
        desk.ask_for_introduction,
        request_id,
        asked_alumnus_id=contact,
        actor=OFFICER,
        now=at(hours=1),
        types=TYPES,
        match="CONT1 has not agreed",
    )
    refused(
        db_url,
        desk.ask_for_introduction,
        request_id,
        asked_alumnus_id=seeker,
        actor=OFFICER,
        now=at(hours=1),
        types=TYPES,
        match="SEEK1 is the alum who asks",
    )
    with write_transaction(engine_for(db_url)) as connection:
        record_referral_consent(connection, gone, granted=True, evidence="form", now=at(hours=1))
    refused(
        db_url,
        desk.ask_for_introduction,
        request_id,
        asked_alumnus_id=gone,
        actor=OFFICER,
        now=at(hours=1),
        types=TYPES,
        match="GONE1 is do_not_contact",
    )

    with write_transaction(engine_for(db_url)) as connection:
        record_referral_consent(
            connection,
            contact,
            granted=True,
            evidence="Email of 1 May to the office",
            now=at(hours=1),
        )
        assert agreed_to_referrals(connection, contact)
    step(
        db_url,
        desk.ask_for_introduction,
        request_id,
        asked_alumnus_id=contact,
        actor=OFFICER,
        now=at(hours=2),
        types=TYPES,
    )
    assert request_row(db_url, request_id).asked_alumnus_id == contact
    assert trail(db_url, request_id)[-1] == (
        at(hours=2),
        OFFICER,
        "asked",
        f"alumnus {contact}",
        False,
    )

    # They change their mind before the introduction: it is not resolved behind their back.
    with write_transaction(engine_for(db_url)) as connection:
        record_referral_consent(
            connection, contact, granted=False, evidence="Phone, 4 May", now=at(hours=3)
        )
    refused(
        db_url,
        desk.close,
        request_id,
        outcome="resolved",
        actor=OFFICER,
        now=at(days=1),
        types=TYPES,
        match="CONT1 has not agreed",
    )

    with write_transaction(engine_for(db_url)) as connection:
        record_referral_consent(
            connection, contact, granted=True, evidence="Phone, 5 May", now=at(hours=5)
        )
    second = open_one(
        db_url,
        "referral",
        alumnus_id=seeker,
        summary="Another one",
        asked_alumnus_id=contact,
        now=at(hours=6),
        opened_at=at(hours=6),
    )
    assert trail(db_url, second)[-1] == (at(hours=6), OFFICER, "asked", f"alumnus {contact}", False)
    step(db_url, desk.close, second, outcome="resolved", actor=OFFICER, now=at(days=1), types=TYPES)


def test_erasing_the_alum_asked_keeps_the_referral_and_erasing_the_seeker_removes_it(
    db_url: str,
) -> None:
    seeker = add_alumnus(db_url, "SEEK1")
    contact = add_alumnus(db_url, "CONT1")
    with write_transaction(engine_for(db_url)) as connection:
        record_referral_consent(connection, contact, granted=True, evidence="Form", now=MONDAY)
    request_id = open_one(
        db_url, "referral", alumnus_id=seeker, summary="Acme, please", asked_alumnus_id=contact
    )

    with write_transaction(engine_for(db_url)) as connection:
        exported = export_alumnus(connection, alumnus_id=contact)
        assert "Acme, please" not in repr(exported)  # the seeker's words are not the asked's
        report = erase_alumnus(connection, alumnus_id=contact, now=at(days=1))
    assert report.deleted["request"] == 0 and report.detached == {"request": 1}
    row = request_row(db_url, request_id)
    assert (row.summary, row.alumnus_id, row.asked_alumnus_id) == ("Acme, please", seeker, None)
    assert "CONT1" not in repr(trail(db_url, request_id))

    with write_transaction(engine_for(db_url)) as connection:
        assert "Acme, please" in repr(export_alumnus(connection, alumnus_id=seeker))
        erase_alumnus(connection, alumnus_id=seeker, now=at(days=2))
        assert connection.execute(sa.select(sa.func.count()).select_from(_Q)).scalar_one() == 0
        assert connection.execute(sa.select(sa.func.count()).select_from(_E)).scalar_one() == 0


def test_bad_input_is_refused_with_what_to_do_and_changes_nothing(db_url: str) -> None:
    ana = add_alumnus(db_url, "A001")
    base: dict[str, Any] = {
        "alumnus_id": ana,
        "summary": "Help",
        "source": "officer",
        "opened_at": MONDAY,
        "now": MONDAY,
        "actor": OFFICER,
        "types": TYPES,
    }
    message = refused(
        db_url,
        desk.open_request,
        **{**base, "type": "gift"},
        match="request type 'gift' is not known",
    )
    assert "letter, certificate, referral, welfare, question, idea" in message
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "question", "opened_at": at(hours=1)},
        match="is in the future",
    )
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "question", "opened_at": MONDAY.replace(tzinfo=None)},
        match="has no time zone",
    )
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "letter", "deadline": at(days=-1)},
        match="is not after the request came",
    )
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "question", "summary": " \n "},
        match="the summary is empty",
    )
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "question", "owner": "jo"},
        match="owner 'jo' is not an email address",
    )
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "question", "alumnus_id": ana + 99},
        match=f"alumnus {ana + 99} does not exist",
    )
    refused(
        db_url,
        desk.open_request,
        **{**base, "type": "question", "source": "fax"},
        match="source 'fax' is not known",
    )
    with (
        pytest.raises(desk.DeskError, match="no alum has external id 'Z404'"),
        engine_for(db_url).connect() as connection,
    ):
        desk.find_alumnus(connection, "Z404")

    request_id = open_one(db_url, "question", alumnus_id=ana)
    refused(
        db_url,
        desk.resume,
        request_id,
        actor=OFFICER,
        now=at(hours=1),
        match="is not waiting on the alum",
    )
    step(db_url, desk.wait_on_alum, request_id, actor=OFFICER, now=at(hours=1))
    refused(
        db_url,
        desk.wait_on_alum,
        request_id,
        actor=OFFICER,
        now=at(hours=2),
        match="already waits on the alum",
    )
    refused(
        db_url,
        desk.close,
        request_id,
        outcome="done",
        actor=OFFICER,
        now=at(hours=2),
        types=TYPES,
        match="outcome 'done' is not known",
    )
    refused(
        db_url,
        desk.add_note,
        request_id,
        text="",
        to_alum=False,
        actor=OFFICER,
        now=at(hours=2),
        match="the note is empty",
    )
    refused(
        db_url,
        desk.add_note,
        request_id,
        text="x" * 4001,
        to_alum=False,
        actor=OFFICER,
        now=at(hours=2),
        match="more than 4000",
    )
    refused(
        db_url,
        desk.assign,
        request_id,
        owner="not an email@x",
        actor=OFFICER,
        now=at(hours=2),
        match="is not an email address",
    )
    refused(
        db_url,
        desk.set_referee,
        request_id,
        referee=LEAD,
        actor=OFFICER,
        now=at(hours=2),
        types=TYPES,
        match="is a question request: only letter requests have a referee",
    )
    refused(
        db_url, desk.assign, request_id, owner=LEAD, actor=" ", now=at(hours=2), match="the actor"
    )


def test_welfare_content_is_shown_only_to_named_officers_and_never_in_an_error(
    db_url: str,
) -> None:
    secret = "I lost my job and my flat"
    request_id = open_one(db_url, "welfare", summary=secret)
    step(
        db_url,
        desk.add_note,
        request_id,
        text=f"Note: {secret}",
        to_alum=False,
        actor=OFFICER,
        now=at(hours=1),
    )
    named = frozenset({"Carer@School.example.org"})

    for viewer in (OFFICER, None):
        hidden = view(db_url, request_id, viewer=viewer, now=at(hours=2), officers=named)
        assert secret not in repr(hidden)
        assert hidden["summary"] == "(confidential)" and hidden["confidential"] is True
        assert (hidden["id"], hidden["type"], hidden["owner"], hidden["age_hours"]) == (
            request_id,
            "welfare",
            None,
            2.0,
        )
        assert "alumnus" not in hidden
        assert [e["action"] for e in hidden["events"]] == ["opened", "note"]
        with engine_for(db_url).connect() as connection:
            listed = desk.list_requests(
                connection,
                overdue=False,
                type=None,
                viewer=viewer,
                now=at(hours=2),
                types=TYPES,
                calendar=CALENDAR,
                officers=named,
            )
        assert secret not in repr(listed) and listed[0]["summary"] == "(confidential)"

    shown = view(
        db_url, request_id, viewer="carer@school.example.org", now=at(hours=2), officers=named
    )
    assert shown["summary"] == secret and shown["events"][1]["detail"] == f"Note: {secret}"
    assert shown["alumnus"].startswith("R-welfare")

    # Refusals name the request, never its words.
    for message in (
        refused(
            db_url,
            desk.set_referee,
            request_id,
            referee=LEAD,
            actor=OFFICER,
            now=at(hours=3),
            types=TYPES,
            match="only letter requests",
        ),
        refused(
            db_url,
            desk.wait_on_alum,
            request_id,
            actor=OFFICER,
            now=at(hours=3),
            reason=secret * 200,
            match="the reason has",
        ),
    ):
        assert secret not in message


def test_show_gives_the_deadlines_of_the_shipped_rules_and_list_puts_breaches_first(
    db_url: str,
) -> None:
    # Letter opened Friday 15:00: 2 business days -> Tuesday 15:00; 10 -> Friday 15:00 next week.
    friday = at(days=-3, hours=5)
    letter = open_one(db_url, "letter", opened_at=friday)
    shown = view(db_url, letter, now=MONDAY)
    assert (shown["first_response_due"], shown["next_update_due"], shown["resolution_due"]) == (
        "2027-05-04T15:00:00+00:00",
        None,
        "2027-05-14T15:00:00+00:00",
    )
    assert shown["breached"] == [] and shown["paused"] is False

    # Welfare: 24 hours any day; never resolved automatically.
    welfare = open_one(db_url, "welfare", opened_at=at(days=-2))  # Saturday 10:00
    # Question answered on Monday: the next update is due 3 business days later.
    question = open_one(db_url, "question", opened_at=friday)
    step(db_url, desk.add_note, question, text="Looking", to_alum=True, actor=OFFICER, now=MONDAY)
    waiting = open_one(db_url, "certificate", opened_at=friday, summary="Paused one")
    step(db_url, desk.wait_on_alum, waiting, actor=OFFICER, now=MONDAY)
    closed = open_one(db_url, "question", opened_at=at(days=-10), summary="Done long ago")
    step(db_url, desk.add_note, closed, text="Done", to_alum=True, actor=OFFICER, now=at(days=-9))
    step(
        db_url, desk.close, closed, outcome="resolved", actor=OFFICER, now=at(days=-9), types=TYPES
    )

    assert view(db_url, welfare)["first_response_due"] == "2027-05-02T10:00:00+00:00"
    assert view(db_url, welfare)["resolution_due"] is None
    assert view(db_url, question)["next_update_due"] == "2027-05-06T10:00:00+00:00"
    paused = view(db_url, waiting)
    assert paused["paused"] is True and paused["status"] == "waiting"
    assert [paused[k] for k in ("first_response_due", "next_update_due", "resolution_due")] == [
        None,
        None,
        None,
    ]

    def listing(now: datetime, **given: Any) -> list[dict[str, Any]]:
        with engine_for(db_url).connect() as connection:
            return desk.list_requests(
                connection,
                viewer=OFFICER,
                now=now,
                types=TYPES,
                calendar=CALENDAR,
                **{"overdue": False, "type": None, **given},
            )

    # Monday: welfare's first response passed yesterday; the rest by the soonest due.
    assert [v["id"] for v in listing(MONDAY)] == [welfare, letter, question, waiting]
    assert listing(MONDAY)[0]["breached"] == ["first_response"]
    assert [v["id"] for v in listing(MONDAY, overdue=True)] == [welfare]
    # Wednesday noon: the letter's first response (Tuesday 15:00) has passed too.
    wednesday = at(days=2, hours=2)
    assert [v["id"] for v in listing(wednesday, overdue=True)] == [welfare, letter]
    assert [v["id"] for v in listing(wednesday, type="question")] == [question]
    with pytest.raises(ValueError, match="request type 'gift' is not known"):
        listing(wednesday, type="gift")
    # As of last week, the request closed since was open, and the later ones had not come.
    assert [(v["id"], v["status"]) for v in listing(at(days=-9, hours=-1))] == [(closed, "open")]


def test_two_officers_closing_at_once_close_it_once(db_url: str) -> None:
    request_id = open_one(db_url, "question")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def close_it(officer: str) -> None:
        barrier.wait()
        try:
            step(
                db_url,
                desk.close,
                request_id,
                outcome="resolved",
                actor=officer,
                now=at(hours=1),
                types=TYPES,
            )
            outcomes.append("closed")
        except desk.DeskError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=close_it, args=(who,)) for who in (OFFICER, LEAD)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "closed"
    assert "is already closed" in sorted(outcomes)[1]
    assert [row[2] for row in trail(db_url, request_id)] == ["opened", "closed"]


def test_a_reply_opens_its_request_through_the_desk_as_of_when_it_came(db_url: str) -> None:
    from tests.tracking.samples import sample
    from tests.tracking.world import invited_class, responses, track

    received = at(days=-1)
    _, (ana,) = invited_class(db_url, 1, now=received - timedelta(days=1))
    track(db_url, sample("reply-plain-quoted-signature.eml", ana.fill()), now=received)
    (reply,) = responses(db_url)

    with write_transaction(engine_for(db_url)) as connection:
        request_id = open_request_from_reply(
            connection, reply.id, type="question", now=MONDAY, actor=OFFICER
        )
    row = request_row(db_url, request_id)
    assert (row.source, row.alumnus_id, row.response_id) == ("reply", ana.alumnus_id, reply.id)
    assert (row.opened_at, row.created_at, row.last_update_at) == (received, MONDAY, received)
    assert trail(db_url, request_id) == [(MONDAY, OFFICER, "opened", "question from reply", False)]
