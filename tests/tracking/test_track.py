"""track_message against SQLite and PostgreSQL: each kind's Response and effects, idempotence,
forged tokens, the soft-bounce rule and the next campaign's plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from alumni.db import engine_for
from alumni.delivery import planning
from alumni.delivery.sending import UNSUBSCRIBE
from alumni.events.rsvp import apply_answer
from alumni.messages.signing import make_return_token, make_token
from alumni.models import Alumnus, Delivery, EventMailing, Rsvp, Suppression, table_of
from alumni.settings import get_settings
from tests.factories import add_campaign
from tests.tracking.samples import EXPECTED, is_template, sample
from tests.tracking.world import (
    OPTIONS,
    Sent,
    contact_status,
    invited_class,
    responses,
    scopes,
    suppressed_because,
    track,
)

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
_A = table_of(Alumnus)
_D = table_of(Delivery)
_M = table_of(EventMailing)
_RS = table_of(Rsvp)
_S = table_of(Suppression)


def last_two_way(url: str, alumnus_id: int) -> tuple[datetime | None, str | None]:
    with engine_for(url).connect() as connection:
        row = connection.execute(
            sa.select(_A.c.last_two_way_at, _A.c.last_two_way_channel).where(_A.c.id == alumnus_id)
        ).one()
    return row.last_two_way_at, row.last_two_way_channel


def suppression_rows(url: str) -> int:
    with engine_for(url).connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(_S)).scalar_one())


def bounce_of(
    sent: Sent, name: str = "postfix-dsn-user-unknown.eml", n: int = 0, **fill: str
) -> bytes:
    """A bounce sample for ``sent``; ``n`` makes another message of the same (a new digest)."""
    raw = sample(name, sent.fill(**fill))
    return raw.replace(b"<4XyZ1k2bQwz9sWp@mx.school.example>", f"<bounce-{n}@mx.example>".encode())


def test_every_templated_sample_is_tied_to_its_delivery_and_recorded(db_url: str) -> None:
    names = sorted(n for n, e in EXPECTED.items() if "response" in e)
    assert all(is_template(n) for n in names)
    _, sent = invited_class(db_url, len(names), now=NOW)

    for name, mine in zip(names, sent, strict=True):
        tracked = track(db_url, sample(name, mine.fill()), now=NOW)

        expected = EXPECTED[name]
        assert (tracked.kind, tracked.outcome) == (expected["kind"], "handled"), (name, tracked)
        assert tracked.alumnus_id == mine.alumnus_id, name
        # mail with neither our token nor a reference to our message is tied to the alum only
        assert tracked.delivery_id in (mine.delivery_id, None), name
        recorded = responses(db_url)[-1]
        assert (recorded.kind, recorded.source, recorded.alumnus_id) == (
            expected["response"],
            "email",
            mine.alumnus_id,
        ), name
        assert recorded.delivery_id == tracked.delivery_id
        assert recorded.detail == tracked.detail
        assert "{{" not in (tracked.detail or "") and mine.message_id not in (tracked.detail or "")
    assert len(responses(db_url)) == len(names)


def test_a_hard_bounce_invalidates_and_suppresses_the_address_once(db_url: str) -> None:
    _, (ana, bea) = invited_class(db_url, 2, now=NOW)
    raw = bounce_of(ana)

    first = track(db_url, raw, now=NOW)

    assert (first.kind, first.outcome, first.delivery_id) == ("bounce", "handled", ana.delivery_id)
    assert first.message_id == "<bounce-0@mx.example>"
    assert first.sender == "mailer-daemon@mx.school.example"
    assert "5.1.1" in (first.detail or "") and "suppressed" in (first.detail or "")
    (recorded,) = responses(db_url)
    assert recorded.kind == "bounce_hard"
    assert (recorded.delivery_id, recorded.campaign_id, recorded.alumnus_id) == (
        ana.delivery_id,
        ana.campaign_id,
        ana.alumnus_id,
    )
    assert recorded.author == "mailer-daemon@mx.school.example"
    assert recorded.at == NOW and not recorded.needs_attention
    assert contact_status(db_url, ana.address) == "invalid"
    assert scopes(db_url, ana.address) == {"all"}
    assert suppressed_because(db_url, ana.address, "hard_bounce")
    assert contact_status(db_url, bea.address) == "ok" and scopes(db_url, bea.address) == set()
    assert last_two_way(db_url, ana.alumnus_id) == (None, None)  # a bounce is nobody's answer

    rows = suppression_rows(db_url)
    again = track(db_url, raw, now=NOW + timedelta(hours=1))

    assert again == first
    assert len(responses(db_url)) == 1 and suppression_rows(db_url) == rows


def test_a_soft_bounce_marks_the_contact_bouncing_and_suppresses_nothing(db_url: str) -> None:
    _, (ana,) = invited_class(db_url, 1, now=NOW)

    tracked = track(db_url, bounce_of(ana, "postfix-dsn-mailbox-full.eml"), now=NOW)

    assert tracked.outcome == "handled" and "5.2.2" in (tracked.detail or "")
    assert [r.kind for r in responses(db_url)] == ["bounce_soft"]
    assert contact_status(db_url, ana.address) == "bouncing"
    assert scopes(db_url, ana.address) == set()


def test_a_soft_bounce_after_a_hard_one_leaves_the_address_invalid(db_url: str) -> None:
    _, (ana,) = invited_class(db_url, 1, now=NOW)

    track(db_url, bounce_of(ana, n=1), now=NOW)
    track(db_url, bounce_of(ana, "postfix-dsn-mailbox-full.eml", n=2), now=NOW + DAY)

    assert [r.kind for r in responses(db_url)] == ["bounce_hard", "bounce_soft"]
    assert contact_status(db_url, ana.address) == "invalid"
    assert scopes(db_url, ana.address) == {"all"}


def test_three_soft_bounces_within_30_days_count_as_hard(db_url: str) -> None:
    _, (ana, bea) = invited_class(db_url, 2, now=NOW)

    for n, days in enumerate((0, 10, 20)):
        raw = bounce_of(ana, "postfix-dsn-mailbox-full.eml", n)
        track(db_url, raw, now=NOW + timedelta(days=days))
    for n, days in enumerate((0, 20, 40)):  # never three within 30 days
        raw = bounce_of(bea, "postfix-dsn-mailbox-full.eml", 10 + n)
        track(db_url, raw, now=NOW + timedelta(days=days))

    kinds = {(r.alumnus_id, r.kind) for r in responses(db_url)}
    assert (ana.alumnus_id, "bounce_hard") in kinds
    assert (bea.alumnus_id, "bounce_hard") not in kinds
    assert contact_status(db_url, ana.address) == "invalid"
    assert suppressed_because(db_url, ana.address, "hard_bounce")
    assert contact_status(db_url, bea.address) == "bouncing"
    assert scopes(db_url, bea.address) == set()


def test_a_forged_bounce_suppresses_nothing(db_url: str) -> None:
    _, (ana,) = invited_class(db_url, 1, now=NOW)
    other_key = b"not-the-office-key-but-32-bytes-long"
    forgeries = {
        "a bare delivery id": f"alumni-bounces+d{ana.delivery_id}@school.example",
        "another key's token": "alumni-bounces+"
        f"{make_return_token(other_key, ana.delivery_id)}@school.example",
    }

    for n, return_path in enumerate(forgeries.values()):
        raw = bounce_of(ana, n=n, return_path=return_path, message_id="<not-ours@elsewhere>")
        tracked = track(db_url, raw, now=NOW)
        assert (tracked.outcome, tracked.delivery_id) == ("unmatched", None)
        assert "no return-path token or Message-ID of ours" in (tracked.detail or "")
    # our Message-ID but another address as the failed one: still nothing
    raw = bounce_of(ana, n=9, return_path=forgeries["a bare delivery id"], address="x@example.net")
    tracked = track(db_url, raw, now=NOW)
    assert tracked.outcome == "unmatched" and "names another address" in (tracked.detail or "")

    assert responses(db_url) == []
    assert contact_status(db_url, ana.address) == "ok" and scopes(db_url, ana.address) == set()


def test_a_bounce_without_our_token_is_matched_by_our_message_id(db_url: str) -> None:
    _, (ana,) = invited_class(db_url, 1, now=NOW)
    raw = bounce_of(ana, return_path="alumni-bounces@school.example")

    tracked = track(db_url, raw, now=NOW)

    assert (tracked.outcome, tracked.delivery_id) == ("handled", ana.delivery_id)
    assert scopes(db_url, ana.address) == {"all"}


def test_a_complaint_suppresses_news_and_events_at_once(db_url: str) -> None:
    _, (ana, bea) = invited_class(db_url, 2, now=NOW)

    by_token = track(db_url, sample("arf-abuse-report.eml", ana.fill()), now=NOW)
    by_id = track(db_url, sample("arf-redacted-by-message-id.eml", bea.fill()), now=NOW)

    assert (by_token.outcome, by_token.delivery_id) == ("handled", ana.delivery_id)
    assert (by_id.outcome, by_id.delivery_id) == ("handled", bea.delivery_id)
    for sent in (ana, bea):
        assert scopes(db_url, sent.address) == {"news", "events"}
        assert suppressed_because(db_url, sent.address, "complaint")
        assert contact_status(db_url, sent.address) == "ok"
    assert [r.kind for r in responses(db_url)] == ["complaint", "complaint"]


def test_mail_to_the_unsubscribe_mailto_unsubscribes_even_with_an_expired_token(
    db_url: str,
) -> None:
    _, (ana, bea, cai) = invited_class(db_url, 3, now=NOW)
    key = get_settings().signing_key()
    expired = make_token(key, UNSUBSCRIBE, str(bea.delivery_id), expires_at=NOW - timedelta(days=1))

    fresh = track(db_url, sample("unsubscribe-mailto.eml", ana.fill()), now=NOW)
    late = track(
        db_url, sample("unsubscribe-mailto.eml", bea.fill(unsubscribe_token=expired)), now=NOW
    )
    damaged = ana.fill().unsubscribe_token[:-2] + "xx"
    bad = track(
        db_url, sample("unsubscribe-mailto.eml", cai.fill(unsubscribe_token=damaged)), now=NOW
    )

    assert (fresh.outcome, fresh.delivery_id) == ("handled", ana.delivery_id)
    assert (late.outcome, late.delivery_id) == ("handled", bea.delivery_id)
    assert scopes(db_url, ana.address) == scopes(db_url, bea.address) == {"news", "events"}
    assert bad.outcome == "unmatched" and scopes(db_url, cai.address) == set()
    assert scopes(db_url, ana.address.lower()) == {"news", "events"}
    for tracked in (fresh, late, bad):  # the token is a key: never shown
        assert tracked.subject == "unsubscribe (token withheld)"
        assert damaged not in (tracked.detail or "")


def answer(url: str, event_id: int, alumnus_id: int) -> tuple[str, datetime, bool] | None:
    with engine_for(url).connect() as connection:
        row = connection.execute(
            sa.select(_RS.c.answer, _RS.c.answered_at, _RS.c.waitlisted_at).where(
                _RS.c.event_id == event_id, _RS.c.alumnus_id == alumnus_id
            )
        ).first()
    return None if row is None else (row.answer, row.answered_at, row.waitlisted_at is not None)


def test_a_calendar_answer_goes_to_the_rsvp_with_a_future_dtstamp_clamped(db_url: str) -> None:
    event_id, (ana,) = invited_class(db_url, 1, now=NOW)
    raw = sample("itip-reply-accepted.eml", ana.fill(dtstamp="20990101T000000Z"))

    tracked = track(db_url, raw, now=NOW)

    assert (tracked.kind, tracked.outcome, tracked.delivery_id) == (
        "calendar",
        "handled",
        ana.delivery_id,
    )
    assert answer(db_url, event_id, ana.alumnus_id) == ("yes", NOW, False)
    (recorded,) = responses(db_url)
    assert (recorded.kind, recorded.text) == ("rsvp", "yes: Looking forward to it!")
    assert last_two_way(db_url, ana.alumnus_id) == (
        datetime(2025, 6, 10, 8, 0, tzinfo=UTC),
        "email",
    )
    # the forged date locks nothing: a click a minute later wins
    later = apply_answer(
        engine_for(db_url),
        event_id=event_id,
        alumnus_id=ana.alumnus_id,
        answer="no",
        at=NOW + timedelta(minutes=1),
        source="link",
        now=NOW + timedelta(minutes=1),
        options=OPTIONS,
    )
    assert later.applied


def test_a_calendar_answer_sent_by_someone_else_changes_nothing(db_url: str) -> None:
    event_id, (ana,) = invited_class(db_url, 1, now=NOW)
    raw = sample("itip-reply-accepted.eml", ana.fill())
    raw = raw.replace(f"From: Ana Lima <{ana.address}>".encode(), b"From: Eve <eve@example.net>")
    assert b"eve@example.net" in raw

    tracked = track(db_url, raw, now=NOW)

    assert tracked.outcome == "unmatched" and "only the invited attendee" in (tracked.detail or "")
    assert answer(db_url, event_id, ana.alumnus_id) is None
    assert responses(db_url) == []


def test_a_yes_beyond_capacity_waitlists_and_plans_the_notice_in_the_same_transaction(
    db_url: str,
) -> None:
    event_id, (ana, bea) = invited_class(db_url, 2, now=NOW, capacity=1)
    apply_answer(
        engine_for(db_url),
        event_id=event_id,
        alumnus_id=ana.alumnus_id,
        answer="yes",
        at=NOW - timedelta(days=1),
        source="link",
        now=NOW - timedelta(days=1),
        options=OPTIONS,
    )

    tracked = track(db_url, sample("itip-reply-accepted.eml", bea.fill()), now=NOW)

    assert tracked.outcome == "handled" and "waitlist" in (tracked.detail or "")
    assert answer(db_url, event_id, bea.alumnus_id) == (
        "yes",
        datetime(2025, 6, 10, 8, 0, tzinfo=UTC),
        True,
    )
    with engine_for(db_url).connect() as connection:
        notified = connection.execute(
            sa.select(_D.c.alumnus_id)
            .join(_M, _M.c.campaign_id == _D.c.campaign_id)
            .where(_M.c.event_id == event_id, _M.c.key == "waitlist")
        ).scalars()
        assert list(notified) == [bea.alumnus_id]


def test_a_reply_is_kept_with_its_new_text_for_an_officer(db_url: str) -> None:
    _, (ana, bea, cai) = invited_class(db_url, 3, now=NOW)
    answered = sample("reply-plain-quoted-signature.eml", ana.fill())
    no_reference = sample("reply-outlook-history.eml", bea.fill()).replace(
        bea.message_id.encode(), b"<lost@elsewhere.example>"
    )
    future = sample("reply-html-only.eml", cai.fill()).replace(
        b"Date: Wed, 4 Jun 2025 07:45:10 +0000", b"Date: Wed, 4 Jun 2031 07:45:10 +0000"
    )

    first = track(db_url, answered, now=NOW)
    second = track(db_url, no_reference, now=NOW)
    third = track(db_url, future, now=NOW)

    assert (first.kind, first.outcome, first.delivery_id) == ("reply", "handled", ana.delivery_id)
    assert (second.kind, second.delivery_id, second.alumnus_id) == ("reply", None, bea.alumnus_id)
    assert third.delivery_id == cai.delivery_id
    recorded = responses(db_url)
    assert [(r.kind, r.needs_attention) for r in recorded] == [("reply", True)] * 3
    assert recorded[0].text.startswith("Hello!\n\nI would love to come.")
    assert "wrote:" not in recorded[0].text and "Senior Engineer" not in recorded[0].text
    assert recorded[0].author == ana.address.lower()
    assert last_two_way(db_url, ana.alumnus_id) == (
        datetime(2025, 6, 3, 17, 22, 5, tzinfo=UTC),
        "email",
    )
    assert last_two_way(db_url, cai.alumnus_id) == (NOW, "email")  # a future Date is clamped


def test_mail_from_a_stranger_about_nothing_of_ours_is_unknown(db_url: str) -> None:
    _, (ana,) = invited_class(db_url, 1, now=NOW)
    raw = sample("reply-plain-quoted-signature.eml", ana.fill())
    raw = raw.replace(ana.address.encode(), b"stranger@example.net").replace(
        ana.message_id.encode(), b"<other@elsewhere.example>"
    )

    tracked = track(db_url, raw, now=NOW)

    assert (tracked.kind, tracked.outcome) == ("unknown", "unmatched")
    assert responses(db_url) == []


def test_auto_replies_are_recorded_but_are_no_answer(db_url: str) -> None:
    _, (ana, bea) = invited_class(db_url, 2, now=NOW)

    rfc = track(db_url, sample("autoreply-rfc3834-english.eml", ana.fill()), now=NOW)
    german = track(db_url, sample("ooo-german-no-headers.eml", bea.fill()), now=NOW)

    assert (rfc.kind, rfc.delivery_id) == ("auto_reply", ana.delivery_id)
    assert (german.kind, german.delivery_id) == ("auto_reply", bea.delivery_id)
    assert [(r.kind, r.needs_attention) for r in responses(db_url)] == [("auto_reply", False)] * 2
    for sent in (ana, bea):
        assert last_two_way(db_url, sent.alumnus_id) == (None, None)
        assert contact_status(db_url, sent.address) == "ok"


def test_list_mail_and_garbage_are_kept_out_of_the_responses(db_url: str) -> None:
    _, (ana,) = invited_class(db_url, 1, now=NOW)

    newsletter = track(db_url, sample("newsletter.eml", ana.fill()), now=NOW)
    garbage = track(db_url, sample("garbage.eml", ana.fill()), now=NOW)

    assert (newsletter.kind, newsletter.outcome) == ("unknown", "unmatched")
    assert (garbage.kind, garbage.outcome) == ("unknown", "unparsed")
    assert garbage.detail == "it has no From, To, Subject, Message-ID or Date: not an email message"
    assert responses(db_url) == []


def test_the_next_campaign_skips_the_hard_bounced_and_complained_addresses(db_url: str) -> None:
    _, (ana, bea, cai) = invited_class(db_url, 3, now=NOW)
    track(db_url, bounce_of(ana), now=NOW)
    track(db_url, sample("arf-abuse-report.eml", bea.fill()), now=NOW)

    campaign = add_campaign(db_url, class_year=2016, purpose="news")
    planning.plan(engine_for(db_url), campaign, now=NOW, options=OPTIONS)

    with engine_for(db_url).connect() as connection:
        planned = {
            r.alumnus_id: (r.status, r.skip_reason)
            for r in connection.execute(sa.select(_D).where(_D.c.campaign_id == campaign))
        }
    assert planned == {
        ana.alumnus_id: ("skipped", "no_email"),  # its only address is invalid now
        bea.alumnus_id: ("skipped", "unsubscribed"),  # news and events suppressed
        cai.alumnus_id: ("pending", None),
    }
