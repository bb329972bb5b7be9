"""The monthly-digest flow end to end: real Prefect (the session's test server), real SMTP
(aiosmtpd), the real planner with real Preference rows; and ``alumni digest send`` as an officer
types it.
"""

from __future__ import annotations

import email
import shutil
from collections import Counter
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alumni.cli.main import app
from alumni.db import engine_for, write_transaction
from alumni.delivery.digest import Month, find_digest
from alumni.delivery.ledger import load_campaign
from alumni.delivery.planning import PlanOptions, plan
from alumni.models import Frequency, utcnow
from alumni.people.preferences import EVERY_MESSAGE, Choice, save_choice
from alumni.settings import get_settings
from flows.digest import monthly_digest
from tests.factories import add_alumnus, add_campaign, daytime_zone, deliveries
from tests.smtp_server import Recorder, Serve

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = PlanOptions(message_id_domain="school.example")
LAST_MONTH = Month.before(utcnow())  # what the flow gathers by default
runner = CliRunner()


@pytest.fixture
def smtp(serve: Serve, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Recorder:
    """A real SMTP server that ALUMNI_SMTP_URL points at."""
    handler = Recorder()
    controller = serve(handler)
    monkeypatch.setenv("ALUMNI_SMTP_URL", f"smtp://127.0.0.1:{controller.port}?tls=none")
    monkeypatch.setenv("ALUMNI_FROM", "Alumni Office <alumni@school.example>")
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    get_settings.cache_clear()
    return handler


def on_day(day: int) -> datetime:
    return LAST_MONTH.start + timedelta(days=day - 1, hours=10)


def alum(url: str, name: str, locale: str, *, class_year: int = 2016, digest: bool) -> int:
    """An alum in a zone where it is day now; with ``digest``, they chose the monthly digest
    on the first of last month, on their preference page."""
    alumnus_id = add_alumnus(
        url,
        name.upper(),
        class_year=class_year,
        email=f"{name}@example.org",
        locale=locale,
        first_name=name.title(),
        timezone=daytime_zone(),
    )
    if digest:
        with write_transaction(engine_for(url)) as connection:
            save_choice(
                connection,
                alumnus_id,
                Choice(EVERY_MESSAGE.channels, Frequency.digest, None),
                now=on_day(1),
            )
    return alumnus_id


def news(url: str, name: str, *, day: int, template: str, class_year: int = 2016) -> int:
    """A news campaign planned last month by the real planner (sent or not: it does not matter
    to the digest, which gathers what it skipped)."""
    campaign = add_campaign(url, name=name, template=template, class_year=class_year)
    plan(engine_for(url), campaign, now=on_day(day), options=OPTIONS)
    return campaign


def messages(handler: Recorder) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for message in handler.received:
        parsed = email.message_from_bytes(message.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        (rcpt,) = message.rcpt_tos
        found[rcpt] = parsed
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    content: Any = body.get_content()
    return str(content)


def test_the_monthly_digest_sends_each_alum_their_items_in_their_language_once(
    db_url: str, smtp: Recorder
) -> None:
    ana = alum(db_url, "ana", "es", digest=True)
    chloe = alum(db_url, "chloe", "fr", digest=True)
    alum(db_url, "ben", "en", digest=False)
    dee = alum(db_url, "dee", "pt-BR", class_year=2017, digest=True)
    news(db_url, "Newsletter", day=3, template="newsletter")
    news(db_url, "Reunion", day=20, template="reunion")
    news(db_url, "Newsletter 2017", day=5, template="newsletter", class_year=2017)

    result = monthly_digest()

    assert result["month"] == str(LAST_MONTH)
    by_class = {r["class_year"]: (cid, r) for cid, r in result["campaigns"].items()}
    assert {year: r["outcomes"] for year, (_, r) in by_class.items()} == {
        2016: {"sent": 2},
        2017: {"sent": 1},
    }
    sent = messages(smtp)
    received = Counter(rcpt for message in smtp.received for rcpt in message.rcpt_tos)
    assert received == Counter(["ana@example.org", "chloe@example.org", "dee@example.org"])
    spanish, french, portuguese = (
        sent["ana@example.org"],
        sent["chloe@example.org"],
        sent["dee@example.org"],
    )
    assert spanish["Subject"].startswith("Promoción 2016: tus noticias de ")
    text = text_of(spanish)
    assert text.index("1. Noticias de la Promoción 2016") < text.index("¿Vienes al reencuentro?")
    assert "Hola, Ana:" in text and "NOTICIAS DE LA ESCUELA" in text
    assert french["Subject"].startswith("Promotion 2016 : vos nouvelles de ")
    text = text_of(french)
    assert text.index("1. Nouvelles de la promotion 2016") < text.index("Serez-vous des nôtres")
    assert portuguese["Subject"].startswith("Turma de 2017: as suas notícias de ")
    assert "1. Notícias da Turma de 2017" in text_of(portuguese)
    assert "Reunion" not in text_of(portuguese)  # only what Dee was skipped for
    for message in sent.values():
        assert "/unsubscribe/" in message["List-Unsubscribe"]
    rows = deliveries(db_url, by_class[2016][0])
    assert sorted(r.alumnus_id for r in rows) == sorted([ana, chloe])
    assert [r.alumnus_id for r in deliveries(db_url, by_class[2017][0])] == [dee]

    # the officer runs it again for the same month: the same campaigns, nothing sent twice
    output = runner.invoke(app, ["digest", "send", "--month", str(LAST_MONTH)])
    assert output.exit_code == 0, output.output
    for year, (campaign_id, _) in by_class.items():
        assert f"campaign {campaign_id}: digest of {LAST_MONTH}, class of {year}" in output.output
    assert len(smtp.received) == 3


def test_a_class_whose_digest_fails_does_not_hold_back_the_others(
    sqlite_url: str, smtp: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    broken = templates / "email" / "broken"
    shutil.copytree(templates / "email" / "newsletter", broken)
    (broken / "en.txt.j2").write_text("{{ alum.nickname }}\n")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    ana = alum(sqlite_url, "ana", "en", digest=True)
    alum(sqlite_url, "dee", "en", class_year=2017, digest=True)
    news(sqlite_url, "Broken news", day=3, template="broken")
    news(sqlite_url, "Newsletter 2017", day=5, template="newsletter", class_year=2017)

    with pytest.raises(Exception, match=r"class of 2016 \(campaign \d+\)") as failure:
        monthly_digest(month=str(LAST_MONTH))

    assert "alum.nickname" in str(failure.value)
    assert [list(m.rcpt_tos) for m in smtp.received] == [["dee@example.org"]]
    with engine_for(sqlite_url).connect() as connection:
        stopped = find_digest(connection, 2016, LAST_MONTH)
        assert stopped is not None
        assert load_campaign(connection, stopped).status == "stopped"
    assert [(r.alumnus_id, r.status) for r in deliveries(sqlite_url, stopped)] == [(ana, "pending")]


def test_a_bad_month_is_a_one_line_error_naming_the_value_and_the_form(sqlite_url: str) -> None:
    for month, says in [
        ("2026-13", "month '2026-13' is not a month: write it as YYYY-MM, e.g. 2026-11"),
        ("11/2026", "month '11/2026' is not a month: write it as YYYY-MM, e.g. 2026-11"),
        ("2099-12", "month 2099-12 is not over yet"),
    ]:
        result = runner.invoke(app, ["digest", "send", "--month", month])
        assert result.exit_code == 1, result.output
        assert says in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
