"""The alum's notices about their own request: planned once per key through the ledger for that
alum alone, never held back by the contact budget, in their language and zone, sent by the real
``due-campaigns`` flow (the session's Prefect server) to a real SMTP server (aiosmtpd) and at once
by the path the web form takes; a welfare request's content is in no message and no row of them.
"""

from __future__ import annotations

import email
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.delivery import batches, ledger
from alumni.delivery.planning import PlanOptions, plan
from alumni.delivery.request_kit import RequestKit
from alumni.delivery.sending import kit_for
from alumni.messages.page_links import read_request_status_token
from alumni.models import Campaign, Request, RequestNotice, table_of, utcnow
from alumni.requests import desk
from alumni.requests.notices import NOTICE_KINDS, queue_notice, when_text
from alumni.requests.send_now import send_notices_now
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve, free_port

OFFICER = "officer@school.example"
OPTIONS = PlanOptions(message_id_domain="school.example")
_N = table_of(RequestNotice)
_C = table_of(Campaign)
_Q = table_of(Request)


def opened(
    url: str,
    alumnus_id: int,
    *,
    type: str = "letter",
    summary: str = "A letter for my master's application",
    now: datetime | None = None,
    deadline: datetime | None = None,
) -> int:
    """A request opened on the web form's path (source web, by the alum)."""
    at = now or utcnow()
    with write_transaction(engine_for(url)) as connection:
        return desk.open_request(
            connection,
            type=type,
            alumnus_id=alumnus_id,
            summary=summary,
            source="web",
            opened_at=at,
            now=at,
            actor="alum",
            deadline=deadline,
        )


def notices(url: str, request_id: int) -> list[Any]:
    with engine_for(url).connect() as connection:
        return list(
            connection.execute(sa.select(_N).where(_N.c.request_id == request_id).order_by(_N.c.id))
        )


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def everything_in(message: EmailMessage) -> str:
    """Every header and every decoded part of a message: where a leak would show."""
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    return "\n".join([headers, text_of(message), html_of(message)])


@pytest.fixture
def mail(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    get_settings.cache_clear()
    return handler


@pytest.fixture
def smtp(mail: Recorder, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    """The real SMTP server, and the session's Prefect server for the flows."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    return mail


def by_recipient(handler: Recorder) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for message in handler.received:
        (rcpt,) = message.rcpt_tos
        found.setdefault(rcpt, []).append(parsed(message.content))
    return found


def test_each_notice_is_planned_once_per_key_for_the_alum_alone(db_url: str) -> None:
    ana = add_alumnus(db_url, "N1", email="ana@example.org")
    add_alumnus(db_url, "N2", email="ben@example.org")  # same class: never in her notices
    engine = engine_for(db_url)
    request_id = opened(db_url, ana)
    with write_transaction(engine) as connection:
        again = queue_notice(connection, request_id, "ack", now=utcnow())
    (ack,) = notices(db_url, request_id)
    assert (ack.key, ack.kind, ack.campaign_id) == ("ack", "ack", again)
    # The class-campaign flow plans every campaign it runs for its whole class: not a notice.
    plan(engine, ack.campaign_id, now=utcnow(), options=OPTIONS)
    rows = deliveries(db_url, ack.campaign_id)
    assert [(r.alumnus_id, r.status, r.counts_toward_budget) for r in rows] == [
        (ana, "pending", False)
    ]
    with engine.connect() as connection:
        campaign = connection.execute(sa.select(_C).where(_C.c.id == ack.campaign_id)).one()
    assert (campaign.purpose, campaign.channel, campaign.template) == ("service", "email", "ack")

    with write_transaction(engine) as connection:
        desk.add_note(
            connection,
            request_id,
            text="We asked Prof. Kim.",
            to_alum=True,
            actor=OFFICER,
            now=utcnow(),
        )
        queue_notice(connection, request_id, "update", now=utcnow())  # the same change again
        desk.add_note(
            connection,
            request_id,
            text="internal: Kim is slow",
            to_alum=False,
            actor=OFFICER,
            now=utcnow(),
        )
    ack, update = notices(db_url, request_id)
    assert update.key == f"update-{update.event_id}" and update.kind == "update"
    assert update.context["words"] == ["We asked Prof. Kim."]
    assert [r.alumnus_id for r in deliveries(db_url, update.campaign_id)] == [ana]
    with write_transaction(engine) as connection, pytest.raises(ValueError, match="'nudge'"):
        queue_notice(connection, request_id, "nudge", now=utcnow())
    with write_transaction(engine) as connection, pytest.raises(ValueError, match="9999"):
        queue_notice(connection, 9999, "ack", now=utcnow())


def test_an_alum_at_the_contact_budget_still_gets_the_acknowledgement(db_url: str) -> None:
    ana = add_alumnus(db_url, "B1", email="ana@example.org")
    for day in range(4):  # the shipped budget: 4 messages in 30 days
        sent = add_campaign(db_url, name=f"news {day}")
        add_sent_delivery(db_url, sent, ana, sent_at=utcnow() - timedelta(days=day + 1))
    news = add_campaign(db_url, name="one more newsletter")
    plan(engine_for(db_url), news, now=utcnow(), options=PlanOptions.from_settings(get_settings()))
    assert deliveries(db_url, news)[0].skip_reason == "over_budget"

    (ack,) = notices(db_url, opened(db_url, ana))
    (row,) = deliveries(db_url, ack.campaign_id)
    assert (row.status, row.skip_reason, row.counts_toward_budget) == ("pending", None, False)


def test_the_acknowledgement_goes_at_once_and_later_notices_wait_for_the_alums_morning(
    sqlite_url: str,
) -> None:
    night = utcnow().hour  # a zone where it is 02:00 or so now
    zone = f"Etc/GMT{night - 2:+d}" if night != 2 else "UTC"
    ana = add_alumnus(sqlite_url, "Q1", email="ana@example.org", timezone=zone)
    now = utcnow()
    request_id = opened(sqlite_url, ana, now=now)
    with write_transaction(engine_for(sqlite_url)) as connection:
        desk.add_note(
            connection, request_id, text="Done soon", to_alum=True, actor=OFFICER, now=now
        )
    ack, update = notices(sqlite_url, request_id)
    assert deliveries(sqlite_url, ack.campaign_id)[0].due_at == now
    assert deliveries(sqlite_url, update.campaign_id)[0].due_at > now  # 08:00 their time


def test_what_the_acknowledgement_promises_is_the_first_response_deadline_in_the_alums_zone(
    sqlite_url: str,
) -> None:
    # Friday 16:00 (ALUMNI_OFFICE_TIMEZONE is UTC here): a letter's first answer is due two
    # business days (16 office hours) later, Tuesday 16:00; the alum reads it in São Paulo, in
    # Portuguese.
    friday = datetime(2027, 3, 5, 16, 0, tzinfo=UTC)
    ana = add_alumnus(
        sqlite_url, "D1", email="ana@example.org", locale="pt-BR", timezone="America/Sao_Paulo"
    )
    request_id = opened(
        sqlite_url, ana, now=friday, deadline=datetime(2027, 3, 12, 12, 0, tzinfo=UTC)
    )
    (ack,) = notices(sqlite_url, request_id)
    said = ack.context
    # CLDR joins a Portuguese day and time with a space (Babel, alumni.messages.locale_format)
    assert said["answer_by"] == "terça-feira, 9 de março de 2027 13:00 (America/Sao_Paulo)"
    assert said["answer_by"] == when_text(
        datetime(2027, 3, 9, 16, 0, tzinfo=UTC), tz="America/Sao_Paulo", locale="pt-BR"
    )
    # ten business days would be the 19th: the alum's own deadline is sooner
    assert said["resolve_by"] == said["your_deadline"]
    assert said["title"] == "Carta de recomendação"
    assert said["summary"] == "A letter for my master's application"


def test_when_text_writes_an_instant_in_the_readers_zone_and_language() -> None:
    instant = datetime(2025, 3, 3, 17, 0, tzinfo=UTC)
    assert when_text(instant, tz="Europe/London", locale="en") == (
        "Monday, March 3, 2025, 5:00\u202fPM (Europe/London)"
    )
    assert when_text(instant, tz="Europe/Paris", locale="fr") == (
        "lundi 3 mars 2025, 18:00 (Europe/Paris)"
    )
    assert when_text(instant, tz="Not/AZone", locale="xx-unknown").endswith("(UTC)")


@pytest.mark.parametrize("locale", ["en", "es", "fr", "pt-BR", "ar"])
def test_every_notice_renders_in_every_language(sqlite_url: str, locale: str) -> None:
    """Each kind of notice, for a request like any and a welfare one, through its kit."""
    ana = add_alumnus(sqlite_url, "R1", email="ana@example.org", locale=locale)
    engine = engine_for(sqlite_url)
    settings = get_settings()
    for type in ("idea", "welfare"):
        request_id = opened(sqlite_url, ana, type=type, summary=f"about {type}")
        with write_transaction(engine) as connection:
            for kind in NOTICE_KINDS:
                queue_notice(connection, request_id, kind, now=utcnow())
        for notice in notices(sqlite_url, request_id):
            with engine.connect() as connection:
                campaign = ledger.load_campaign(connection, notice.campaign_id)
                kit = kit_for(connection, campaign, settings=settings, now=utcnow())
            assert isinstance(kit, RequestKit)
            assert kit.preflight(ledger.iter_unsent(engine, notice.campaign_id)) == 1
            (row,) = ledger.iter_unsent(engine, notice.campaign_id)
            message = parsed(kit.compose(row, now=utcnow()).data)
            direction = ' dir="rtl"' if locale == "ar" else ""  # Arabic reads right to left
            assert message["Subject"] and f'<html lang="{locale}"{direction}>' in html_of(message)
            assert f"{request_id}" in message["Subject"]
            token = kit.context(row)["links"]["request_status"].rsplit("/", 1)[1]
            assert read_request_status_token(kit.key, token, now=utcnow()) == request_id
            if type == "welfare":
                assert "about welfare" not in everything_in(message)


def test_notices_go_through_the_flow_to_smtp_once_each_in_the_alums_language(
    db_url: str, smtp: Recorder
) -> None:
    from flows.due_campaigns import due_campaigns

    zone = daytime_zone()  # the later notices are not held for the night
    people = {
        locale: add_alumnus(
            db_url,
            f"L-{locale}",
            email=f"{locale.lower()}@example.org",
            locale=locale,
            first_name=f"Zoë {locale}",
            timezone=zone,
        )
        for locale in ("en", "es", "fr", "pt-BR", "de")
    }
    requests = {locale: opened(db_url, alumnus_id) for locale, alumnus_id in people.items()}

    due_campaigns()

    sent = by_recipient(smtp)
    assert Counter(rcpt for m in smtp.received for rcpt in m.rcpt_tos) == Counter(
        f"{locale.lower()}@example.org" for locale in people
    )
    subjects = {rcpt.split("@")[0]: messages[0]["Subject"] for rcpt, messages in sent.items()}
    n = requests
    assert subjects == {
        "en": f"We have your request: Recommendation letter (number {n['en']})",
        "es": f"Hemos recibido tu solicitud: Carta de recomendación (número {n['es']})",
        "fr": f"Nous avons bien reçu votre demande : Lettre de recommandation (numéro {n['fr']})",
        "pt-br": f"Recebemos seu pedido: Carta de recomendação (número {n['pt-BR']})",
        "de": f"We have your request: Recommendation letter (number {n['de']})",  # English
    }
    french = text_of(sent["fr@example.org"][0])
    (ack,) = notices(db_url, requests["fr"])
    assert f"Nous vous répondrons au plus tard le {ack.context['answer_by']}." in french
    assert f"({zone})" in ack.context["answer_by"]
    assert "A letter for my master's application" in french
    assert "/requests/" in french and "/requests/new/" in french

    assert due_campaigns() == {}  # a rerun: nothing new, nothing twice
    assert len(smtp.received) == len(people)

    with write_transaction(engine_for(db_url)) as connection:
        desk.add_note(
            connection,
            requests["es"],
            text="Ya hablamos con la profesora.",
            to_alum=True,
            actor=OFFICER,
            now=utcnow(),
        )
        desk.set_referee(
            connection, requests["es"], referee="kim@school.example", actor=OFFICER, now=utcnow()
        )
        desk.close(
            connection,
            requests["es"],
            outcome="resolved",
            actor=OFFICER,
            now=utcnow(),
            reason="La carta salió hoy.",
        )
    due_campaigns()
    update, closed = sent_after = by_recipient(smtp)["es@example.org"][1:]
    assert update["Subject"] == f"Novedades sobre tu solicitud (número {n['es']})"
    assert "Ya hablamos con la profesora." in text_of(update)
    assert closed["Subject"] == f"Resuelta: tu solicitud (número {n['es']})"
    assert "La carta salió hoy." in text_of(closed)
    assert "Ya hablamos" not in text_of(closed)  # each word told once
    assert len(sent_after) == 2 and len(smtp.received) == len(people) + 2


def test_the_web_forms_path_sends_the_acknowledgement_at_once_and_the_flow_never_again(
    db_url: str, smtp: Recorder
) -> None:
    from flows.due_campaigns import due_campaigns

    ana = add_alumnus(db_url, "W1", email="ana@example.org", timezone=daytime_zone())
    request_id = opened(db_url, ana)

    assert send_notices_now(engine_for(db_url), request_id, settings=get_settings()) == {
        "sent": 1,
        "transient": 0,
        "permanent": 0,
    }
    assert [m.rcpt_tos for m in smtp.received] == [("ana@example.org",)]
    assert due_campaigns() == {}
    assert send_notices_now(engine_for(db_url), request_id, settings=get_settings()) == {}
    assert len(smtp.received) == 1


def test_a_notice_the_smtp_server_cannot_take_now_waits_for_the_flow(
    sqlite_url: str, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nobody listens there yet
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{port}?tls=none")
    get_settings.cache_clear()
    ana = add_alumnus(sqlite_url, "S1", email="ana@example.org")
    request_id = opened(sqlite_url, ana)

    assert send_notices_now(engine_for(sqlite_url), request_id, settings=get_settings()) == {
        "unsent": 1
    }
    (ack,) = notices(sqlite_url, request_id)
    (row,) = deliveries(sqlite_url, ack.campaign_id)
    assert (row.status, row.attempts) == ("pending", 0)

    handler = Recorder()
    serve(handler, port=port)
    assert send_notices_now(engine_for(sqlite_url), request_id, settings=get_settings())["sent"]
    assert [m.rcpt_tos for m in handler.received] == [("ana@example.org",)]


def test_a_welfare_requests_content_is_in_no_message_and_no_notice_row(
    db_url: str, smtp: Recorder
) -> None:
    from flows.due_campaigns import due_campaigns

    secrets = ("SUMMARY-7c1e", "REPLY-93ab", "WAITING-55d0", "CLOSING-0f4e")
    people = {
        type: add_alumnus(db_url, f"C-{type}", email=f"{type}@example.org", timezone=daytime_zone())
        for type in ("welfare", "question")
    }
    for type, alumnus_id in people.items():
        request_id = opened(db_url, alumnus_id, type=type, summary=f"I need help {secrets[0]}")
        with write_transaction(engine_for(db_url)) as connection:
            at = utcnow()
            desk.add_note(
                connection, request_id, text=secrets[1], to_alum=True, actor=OFFICER, now=at
            )
            desk.wait_on_alum(connection, request_id, actor=OFFICER, now=at, reason=secrets[2])
            desk.close(
                connection,
                request_id,
                outcome="resolved",
                actor=OFFICER,
                now=at,
                reason=secrets[3],
            )
    due_campaigns()

    sent = by_recipient(smtp)
    assert [len(sent[f"{type}@example.org"]) for type in people] == [4, 4]
    welfare = "\n".join(everything_in(m) for m in sent["welfare@example.org"])
    question = "\n".join(everything_in(m) for m in sent["question@example.org"])
    for secret in secrets:
        assert secret in question  # the same words do reach an alum who asked a question
        assert secret not in welfare
    raw = b"".join(m.content for m in smtp.received if "welfare@example.org" in m.rcpt_tos)
    assert not any(secret.encode() in raw for secret in secrets)
    with engine_for(db_url).connect() as connection:
        stored = {
            type: repr(
                list(
                    connection.execute(
                        sa.select(_N.c.context, _C.c.name)
                        .join(_C, _C.c.id == _N.c.campaign_id)
                        .join(_Q, _Q.c.id == _N.c.request_id)
                        .where(_Q.c.type == type)
                    )
                )
            )
            for type in people
        }
    for secret in secrets:
        assert secret in stored["question"]
        assert secret not in stored["welfare"]


def test_a_notice_starts_no_send_workers_however_big_the_alums_class(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "POOL_THRESHOLD", 2)  # a "big" class of two
    settings = get_settings().model_copy(update={"send_workers": 4})
    ana = add_alumnus(sqlite_url, "P1", email="ana@example.org")
    add_alumnus(sqlite_url, "P2", email="ben@example.org")
    (ack,) = notices(sqlite_url, opened(sqlite_url, ana))
    engine = engine_for(sqlite_url)
    assert batches.send_workers_for(engine, add_campaign(sqlite_url), settings) == 4
    assert batches.send_workers_for(engine, ack.campaign_id, settings) == 0


def test_alumni_request_open_sends_the_acknowledgement_at_once(
    db_url: str, mail: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUMNI_OFFICER", OFFICER)
    get_settings.cache_clear()
    add_alumnus(db_url, "A001", email="ana@example.org", locale="es")
    add_alumnus(db_url, "A002")  # no address: nothing can go
    said = {}
    for alumnus in ("A001", "A002"):
        result = CliRunner().invoke(
            app,
            ["request", "open", "--type", "question", "--alumnus", alumnus, "--summary", "Hola"],
        )
        assert result.exit_code == 0, result.output
        said[alumnus] = " ".join(result.output.split())
    assert "the alum is sent an acknowledgement" in said["A001"]
    assert "no acknowledgement could be sent now" in said["A002"]
    (message,) = mail.received
    assert message.rcpt_tos == ("ana@example.org",)
    assert parsed(message.content)["Subject"].startswith("Hemos recibido tu solicitud: Pregunta")
