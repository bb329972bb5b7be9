"""The event mailing's email is a campaign email: the same template store, refusals, preflight
and compose path (headers, VERP, List-Unsubscribe, DKIM), with the calendar part added.

Real SQLite rows planned by the real planner; messages read back with the ``email`` package,
signatures checked with dkimpy, calendars with icalendar; the failing preflight through the real
flow (Prefect's test server, aiosmtpd)."""

from __future__ import annotations

import base64
import dataclasses
import email
import re
from collections.abc import Callable
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from icalendar import Calendar

from alumni.db import engine_for
from alumni.delivery import ledger
from alumni.delivery.planning import PlanOptions
from alumni.delivery.sending import NO_EXTRA_PARTS, CampaignKit
from alumni.events.mailing_kit import EventKit
from alumni.events.mailings import KINDS, plan_mailing
from alumni.events.schedule import create_event
from alumni.messages.rendering import PreflightError, RenderError
from alumni.messages.signing import make_return_token
from alumni.models import Campaign, Event, table_of, utcnow
from alumni.settings import Settings, get_settings
from flows.event_invites import event_mailing
from tests.factories import add_alumnus
from tests.smtp_server import Recorder, Serve

OPTIONS = PlanOptions(message_id_domain="school.example")
SHIPPED = Path(__file__).resolve().parents[2] / "templates"
# A minimal invite as an office might write it; each test adds its own line to the text part.
INVITE = {
    "subject": "Invitation: {{ event.title }}",
    "txt": "Dear {{ alum.first_name }},\n{line}\nUnsubscribe: {{ links.unsubscribe }}\n",
    "html": '<p>Dear {{ alum.first_name }}</p><a href="{{ links.unsubscribe }}">Unsubscribe</a>\n',
}


def write_invite(root: Path, locale: str, line: str) -> None:
    folder = root / "invite" / "invite"
    folder.mkdir(parents=True, exist_ok=True)
    for part, source in INVITE.items():
        (folder / f"{locale}.{part}.j2").write_text(source.replace("{line}", line), "utf-8")


def invite_mailing(url: str, people: list[dict[str, Any]]) -> tuple[int, list[ledger.Claimed]]:
    """Plan the invite of a new event to ``people`` (add_alumnus keywords); return the mailing's
    campaign and its unsent rows, in delivery order."""
    for n, person in enumerate(people):
        add_alumnus(url, f"K{n}", email=f"guest{n}@example.org", **person)
    engine = engine_for(url)
    event_id = create_event(
        engine,
        class_year=2016,
        title="Class of 2016 summer evening",
        starts_at=(utcnow() + timedelta(days=20)).replace(second=0, microsecond=0),
        tz="Europe/London",
        country="GB",
        place="The Old Library",
        now=utcnow(),
    )
    plan = plan_mailing(engine, event_id, "invite", now=utcnow(), options=OPTIONS)
    return plan.campaign_id, list(ledger.iter_unsent(engine, plan.campaign_id))


def kit_for(url: str, campaign_id: int, settings: Settings) -> EventKit:
    with engine_for(url).connect() as connection:
        return EventKit.for_mailing(connection, campaign_id, settings=settings, now=utcnow())


def with_templates(root: Path) -> Settings:
    return get_settings().model_copy(update={"templates_dir": root})


def test_invite_template_printing_none_is_refused_naming_delivery_and_variable(
    sqlite_url: str, tmp_path: Path
) -> None:
    write_invite(tmp_path, "en", "We hope to see you back from {{ alum.city }}.")
    campaign_id, (row,) = invite_mailing(sqlite_url, [{}])  # the factory leaves city empty
    kit = kit_for(sqlite_url, campaign_id, with_templates(tmp_path))

    with pytest.raises(PreflightError) as caught:
        kit.preflight([row])
    ((ref, error),) = caught.value.failures
    assert ref == f"delivery {row.delivery_id}"
    assert (error.template, error.variable) == ("invite/invite/en.txt.j2", "alum.city")
    assert "alum.city is None" in str(caught.value)
    with pytest.raises(RenderError) as at_send:
        kit.compose(row, now=utcnow())
    assert at_send.value.variable == "alum.city"


def test_mailing_preflight_lists_every_failing_recipient(sqlite_url: str, tmp_path: Path) -> None:
    write_invite(tmp_path, "en", "Greetings to {{ alum.country }}.")
    write_invite(tmp_path, "es", "Hola {{ alum.frist_name }}.")
    campaign_id, rows = invite_mailing(
        sqlite_url,
        [
            {"country": None},
            {"country": "GB"},
            {"country": "ES", "locale": "es"},
            {"country": None, "locale": "en-GB"},
        ],
    )
    kit = kit_for(sqlite_url, campaign_id, with_templates(tmp_path))

    with pytest.raises(PreflightError) as caught:
        kit.preflight(rows)
    found = [(ref, error.template, error.variable) for ref, error in caught.value.failures]
    first, _, third, fourth = (f"delivery {row.delivery_id}" for row in rows)
    assert found == [
        (first, "invite/invite/en.txt.j2", "alum.country"),
        (third, "invite/invite/es.txt.j2", "alum.frist_name"),
        (fourth, "invite/invite/en.txt.j2", "alum.country"),
    ]
    assert (caught.value.failed, caught.value.checked) == (3, 4)
    assert str(caught.value).startswith("3 of 4 recipients could not be rendered")


def test_a_failing_mailing_preflight_stops_it_sending_nothing_and_groups_its_recipients(
    sqlite_url: str,
    tmp_path: Path,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    prefect_api: str,
) -> None:
    handler = Recorder()
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{serve(handler).port}?tls=none")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(tmp_path))
    get_settings.cache_clear()
    write_invite(tmp_path, "en", "We hope to see you back from {{ alum.city }}.")
    campaign_id, rows = invite_mailing(sqlite_url, [{}, {}])
    with engine_for(sqlite_url).connect() as connection:
        event_id = connection.execute(sa.select(table_of(Event).c.id)).scalar_one()

    with pytest.raises(Exception, match=r"alum\.city") as failure:
        event_mailing(event_id=event_id, key="invite")
    # one line for the cause both share, naming the first of them
    assert "2 recipients: template invite/invite/en.txt.j2" in str(failure.value)
    assert f"(e.g. delivery {rows[0].delivery_id})" in str(failure.value)
    assert handler.received == []
    campaign = table_of(Campaign)
    with engine_for(sqlite_url).connect() as connection:
        status, note = connection.execute(
            sa.select(campaign.c.status, campaign.c.note).where(campaign.c.id == campaign_id)
        ).one()
    assert status == "stopped" and note.startswith("preflight failed: 2 of 2 recipients")


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def dns_for(key: rsa.RSAPrivateKey) -> Callable[..., bytes | None]:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"s1._domainkey.school.example." else None

    return txt


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_invite_is_built_by_the_campaign_compose_with_its_calendar_added(
    sqlite_url: str, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = tmp_path / "dkim.pem"
    pem.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    settings = get_settings().model_copy(
        update={"dkim_selector": "s1", "dkim_key_file": pem, "templates_dir": SHIPPED}
    )
    campaign_id, (row,) = invite_mailing(sqlite_url, [{}])
    kit = kit_for(sqlite_url, campaign_id, settings)
    now = utcnow()

    mail = kit.compose(row, now=now)
    campaign = CampaignKit(**{**campaign_fields(kit), "template": "reunion"}).compose(row, now=now)

    assert dkim.verify(mail.data, dnsfunc=dns_for(rsa_key))
    token = make_return_token(settings.signing_key(), row.delivery_id)
    verp = f"alumni-bounces+{token}@school.example"
    assert mail.envelope_from == campaign.envelope_from == verp
    invite, reunion = parsed(mail.data), parsed(campaign.data)
    same = ("From", "To", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post")
    assert [str(invite[name]) for name in same] == [str(reunion[name]) for name in same]
    assert [name for name in invite if name != "Subject"] == [
        name for name in reunion if name != "Subject"
    ]
    one_click = re.escape(f"<{kit.base_url}/unsubscribe/")
    assert re.fullmatch(rf"{one_click}\S+>, <mailto:\S+>", str(invite["List-Unsubscribe"]))
    alternative, attachment = invite.iter_parts()
    kinds = [part.get_content_type() for part in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    assert attachment.get_filename() == "invite.ics"
    data = attachment.get_payload(decode=True)
    assert isinstance(data, bytes)
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["ATTENDEE"]) == f"mailto:{row.address}"


def campaign_fields(kit: EventKit) -> dict[str, Any]:
    """The fields of an ordinary campaign's kit, taken from an event mailing's."""
    return {
        field.name: getattr(kit, field.name)
        for field in dataclasses.fields(CampaignKit)
        if field.name != "family"
    }


def test_every_shipped_kind_passes_the_preflight_and_only_some_carry_a_calendar(
    sqlite_url: str,
) -> None:
    campaign_id, rows = invite_mailing(
        sqlite_url,
        [
            {},
            {"locale": "es", "country": "ES", "timezone": "Europe/Madrid"},
            {"locale": "pt-BR", "country": None, "timezone": None},
            {"locale": None},
        ],
    )
    kit = kit_for(sqlite_url, campaign_id, with_templates(SHIPPED))
    with_calendar = set()
    for kind in KINDS:
        mailing = dataclasses.replace(kit, template=kind)
        assert mailing.preflight(rows) == len(rows)
        if mailing.extra_parts(rows[0], now=utcnow()) is not NO_EXTRA_PARTS:
            with_calendar.add(kind)
    assert with_calendar == {"invite", "update", "cancel"}


def test_kit_repr_does_not_show_the_signing_key(sqlite_url: str) -> None:
    campaign_id, _ = invite_mailing(sqlite_url, [{}])
    kit = kit_for(sqlite_url, campaign_id, get_settings())
    assert repr(kit.key) not in repr(kit)
