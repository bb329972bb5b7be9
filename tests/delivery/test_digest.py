"""The monthly digest without Prefect: who gets one and with which items (the real planner and
real Preference rows, SQLite and PostgreSQL), idempotence also with two makers at once, the
contact budget, and the email DigestKit composes (an item whose template fails is left out).
"""

from __future__ import annotations

import dataclasses
import email
import logging
import re
import shutil
import threading
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from markupsafe import escape

from alumni.db import engine_for, write_transaction
from alumni.delivery import ledger, planning
from alumni.delivery.audience import Budget, Member, SkipReason, decide
from alumni.delivery.campaigns import create
from alumni.delivery.digest import (
    DigestItem,
    Month,
    digest_class_years,
    digest_items,
    month_to_send,
    plan_digest,
)
from alumni.delivery.digest_kit import DigestContext, DigestKit, RenderedItem
from alumni.delivery.sending import CampaignKit, kit_for
from alumni.messages.rendering import PreflightError, TemplateStore
from alumni.models import Campaign, Frequency, table_of
from alumni.people.preferences import EVERY_MESSAGE, Choice, save_choice
from alumni.settings import get_settings
from tests.factories import add_alumnus, add_campaign, add_sent_delivery, deliveries
from tests.messages.test_rendering import SPARSE, sample_context

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = planning.PlanOptions(message_id_domain="school.example")
NOVEMBER = "2026-11"
DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the morning the November digest goes out


def day(d: int, month: int = 11) -> datetime:
    return datetime(2026, month, d, 10, 0, tzinfo=UTC)


def choose(url: str, alumnus_id: int, frequency: Frequency, *, at: datetime) -> None:
    """What the alum saves on their preference page."""
    with write_transaction(engine_for(url)) as connection:
        save_choice(
            connection,
            alumnus_id,
            Choice(EVERY_MESSAGE.channels, frequency, None),
            now=at,
        )


def news(url: str, name: str, *, at: datetime, template: str = "newsletter", **values: Any) -> int:
    """A news campaign of the class of 2016 (unless told), planned by the real planner at ``at``."""
    campaign = add_campaign(url, name=name, template=template, **values)
    planning.plan(engine_for(url), campaign, now=at, options=OPTIONS)
    return campaign


def row_of(url: str, campaign: int, alumnus: int) -> Any:
    (found,) = [d for d in deliveries(url, campaign) if d.alumnus_id == alumnus]
    return found


def digests(url: str) -> list[Any]:
    c = table_of(Campaign)
    with engine_for(url).connect() as connection:
        return list(connection.execute(sa.select(c).where(c.c.template == "digest")))


def test_decide_skips_digest_alumni_for_news_but_never_for_the_digest_itself() -> None:
    member = Member(
        alumnus_id=1,
        status="active",
        email="a@example.org",
        suppressed_scopes=frozenset(),
        consent=None,
        recent_messages=0,
        frequency=Frequency.digest,
    )
    budget = Budget()
    assert decide(member, purpose="news", budget=budget) is SkipReason.digest
    assert decide(member, purpose="news", budget=budget, digest_campaign=True) is None
    assert decide(member, purpose="events", budget=budget) is None
    paused = dataclasses.replace(member, paused=True)
    assert decide(paused, purpose="news", budget=budget, digest_campaign=True) is SkipReason.paused


def test_who_gets_a_digest_and_with_which_items(db_url: str) -> None:
    ana = add_alumnus(db_url, "ANA", email="ana@example.org", locale="es")
    ben = add_alumnus(db_url, "BEN", email="ben@example.org")
    cy = add_alumnus(db_url, "CY", email="cy@example.org")
    dee = add_alumnus(db_url, "DEE", email="dee@example.org", class_year=2017)
    for alum in (ana, cy, dee):
        choose(db_url, alum, Frequency.digest, at=day(1, 10))
    october = news(db_url, "October news", at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    first = news(db_url, "November news", at=day(3))
    events = news(db_url, "Reunion save-the-date", at=day(10), purpose="events")
    second = news(db_url, "Reunion plans", at=day(20), template="reunion")
    news(db_url, "2017 news", at=day(12), class_year=2017)
    december = news(db_url, "December news", at=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    # the rule that makes the items: news skips the digest alumni, events reach them
    assert row_of(db_url, first, ana).skip_reason == "digest"
    assert row_of(db_url, first, ben).status == "pending"
    assert row_of(db_url, events, ana).status == "pending"

    with engine_for(db_url).connect() as connection:
        items = digest_items(connection, 2016, Month.parse(NOVEMBER))
        years = digest_class_years(connection, Month.parse(NOVEMBER))
    expected = [
        DigestItem(first, "November news", "newsletter"),
        DigestItem(second, "Reunion plans", "reunion"),
    ]
    assert items == {ana: expected, cy: expected}
    assert years == [2016, 2017]
    assert october not in {i.campaign_id for i in expected} and december != second

    digest = plan_digest(engine_for(db_url), 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS)
    assert digest is not None
    rows = {d.alumnus_id: d for d in deliveries(db_url, digest)}
    assert set(rows) == {ana, cy}  # Ben gets every message already; Dee is in 2017's digest
    assert all(d.status == "pending" and d.skip_reason is None for d in rows.values())
    assert all(d.counts_toward_budget for d in rows.values())
    (campaign,) = digests(db_url)
    assert campaign.name == "Monthly digest 2026-11 · class of 2016"
    assert (campaign.purpose, campaign.channel, campaign.status) == ("news", "email", "planned")

    other = plan_digest(engine_for(db_url), 2017, month=NOVEMBER, now=DEC_1, options=OPTIONS)
    assert other not in (None, digest)
    assert {d.alumnus_id for d in deliveries(db_url, other)} == {dee}


def test_a_class_with_nothing_to_gather_gets_no_digest(db_url: str) -> None:
    ana = add_alumnus(db_url, "ANA", email="ana@example.org")
    add_alumnus(db_url, "BEN", email="ben@example.org")
    choose(db_url, ana, Frequency.digest, at=day(1))
    news(db_url, "Reunion save-the-date", at=day(10), purpose="events")
    assert plan_digest(engine_for(db_url), 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS) is None
    assert digests(db_url) == []


def test_planning_again_gives_the_same_campaign_and_one_delivery_per_alum(db_url: str) -> None:
    ana = add_alumnus(db_url, "ANA", email="ana@example.org")
    ben = add_alumnus(db_url, "BEN", email="ben@example.org")
    choose(db_url, ana, Frequency.digest, at=day(1))
    news(db_url, "November news", at=day(3))
    engine = engine_for(db_url)
    first = plan_digest(engine, 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS)
    again = plan_digest(engine, 2016, month=NOVEMBER, now=day(5, 12), options=OPTIONS)
    assert first is not None and again == first
    assert len(digests(db_url)) == 1
    assert [d.alumnus_id for d in deliveries(db_url, first)] == [ana]
    # what the campaign flow runs for every campaign never widens a digest to the whole class
    summary = planning.plan(engine, first, now=day(5, 12), options=OPTIONS)
    assert summary.added == 0
    assert ben not in {d.alumnus_id for d in deliveries(db_url, first)}


def test_two_makers_at_once_make_one_digest(db_url: str) -> None:
    for n in range(5):
        alum = add_alumnus(db_url, f"A{n}", email=f"a{n}@example.org")
        choose(db_url, alum, Frequency.digest, at=day(1))
    news(db_url, "November news", at=day(3))
    engine = engine_for(db_url)
    start = threading.Barrier(2)
    made: list[int | None] = []
    errors: list[BaseException] = []

    def make() -> None:
        start.wait()
        try:
            made.append(plan_digest(engine, 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(made)) == 1 and len(digests(db_url)) == 1
    (digest,) = set(made)
    assert digest is not None and len(deliveries(db_url, digest)) == 5


def test_an_alum_who_chose_the_digest_mid_month_gets_only_what_they_were_skipped_for(
    db_url: str,
) -> None:
    ana = add_alumnus(db_url, "ANA", email="ana@example.org")
    early = news(db_url, "Early November news", at=day(3))
    choose(db_url, ana, Frequency.digest, at=day(10))
    late = news(db_url, "Late November news", at=day(15))
    assert row_of(db_url, early, ana).status == "pending"  # she got that one already
    with engine_for(db_url).connect() as connection:
        items = digest_items(connection, 2016, Month.parse(NOVEMBER))
    assert items == {ana: [DigestItem(late, "Late November news", "newsletter")]}


def test_the_digest_counts_as_one_message_toward_the_budget(db_url: str) -> None:
    ana = add_alumnus(db_url, "ANA", email="ana@example.org")
    bo = add_alumnus(db_url, "BO", email="bo@example.org")
    for _ in range(2):
        add_sent_delivery(db_url, add_campaign(db_url, status="done"), ana, sent_at=day(20))
    for _ in range(4):  # Bo has had the whole budget (4 in 30 days) already
        add_sent_delivery(db_url, add_campaign(db_url, status="done"), bo, sent_at=day(20))
    for alum in (ana, bo):
        choose(db_url, alum, Frequency.digest, at=day(1))
    for n in range(3):
        news(db_url, f"News {n}", at=day(5 + n))
    digest = plan_digest(engine_for(db_url), 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS)
    assert digest is not None
    assert row_of(db_url, digest, ana).status == "pending"  # 2 sent + this one
    assert row_of(db_url, digest, bo).skip_reason == "over_budget"
    # three items, one message: Ana has 2 + 1 of her 4, so one more event still reaches her
    then = news(db_url, "Reunion save-the-date", at=DEC_1, purpose="events")
    assert row_of(db_url, then, ana).status == "pending"
    last = news(db_url, "Reunion details", at=DEC_1, purpose="events")
    assert row_of(db_url, last, ana).skip_reason == "over_budget"


def test_months_are_checked_and_a_month_not_over_is_refused(sqlite_url: str) -> None:
    assert str(Month.before(datetime(2027, 1, 15, tzinfo=UTC))) == "2026-12"
    assert str(month_to_send(None, now=DEC_1)) == NOVEMBER
    for bad in ("2026-13", "2026-1", "November", "2026-11-01", ""):
        with pytest.raises(ValueError, match=r"write it as YYYY-MM") as error:
            Month.parse(bad)
        assert repr(bad) in str(error.value)
    add_alumnus(sqlite_url, "ANA", email="ana@example.org")
    with pytest.raises(ValueError, match=r"2026-12 is not over yet.*2027-01-01 00:00 UTC"):
        plan_digest(engine_for(sqlite_url), 2016, month="2026-12", now=DEC_1, options=OPTIONS)
    assert digests(sqlite_url) == []


def _sent_class(url: str, templates: Path | None = None) -> tuple[int, dict[str, int]]:
    """A class of 2016 with two digest alumni (es, fr) and November's two news campaigns."""
    people = {
        "ana": add_alumnus(url, "ANA", email="ana@example.org", locale="es", first_name="Ana"),
        "eloi": add_alumnus(url, "ELOI", email="eloi@example.org", locale="fr", first_name="Éloi"),
    }
    for alum in people.values():
        choose(url, alum, Frequency.digest, at=day(1))
    news(url, "November news", at=day(3))
    news(url, "Reunion plans", at=day(20), template="reunion")
    digest = plan_digest(engine_for(url), 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS)
    assert digest is not None
    return digest, people


def _kit(url: str, campaign_id: int) -> CampaignKit:
    with engine_for(url).connect() as connection:
        campaign = ledger.load_campaign(connection, campaign_id)
        return kit_for(connection, campaign, settings=get_settings(), now=DEC_1)


def test_the_digest_lists_each_item_rendered_for_the_alum_in_their_language(
    db_url: str,
) -> None:
    digest, people = _sent_class(db_url)
    kit = _kit(db_url, digest)
    assert isinstance(kit, DigestKit)
    rows = {r.alumnus_id: r for r in ledger.iter_unsent(engine_for(db_url), digest)}
    assert kit.preflight(rows.values()) == 2
    parsed = email.message_from_bytes(
        kit.compose(rows[people["ana"]], now=DEC_1).data, policy=policy.default
    )
    assert parsed["Subject"] == "Promoción 2016: tus noticias de noviembre de 2026"
    text = parsed.get_body(("plain",)).get_content()
    newsletter = text.index("1. Noticias de la Promoción 2016: de la escuela")
    reunion = text.index("¿Vienes al reencuentro?")  # the reunion's Spanish subject
    assert newsletter < reunion
    assert "NOTICIAS DE LA ESCUELA" in text and "Hola, Ana:" in text
    unsubscribe = kit.context(rows[people["ana"]])["links"]["unsubscribe"]
    assert text.count(unsubscribe) == 1  # the items' footers are cut; the digest's stays
    assert text.count("Darte de baja") == 1
    html = parsed.get_body(("html",)).get_content()
    assert "Noticias de la Promoción 2016: de la escuela" in html and 'lang="es"' in html
    french = email.message_from_bytes(
        kit.compose(rows[people["eloi"]], now=DEC_1).data, policy=policy.default
    )
    assert french["Subject"] == "Promotion 2016 : vos nouvelles de novembre 2026"
    assert "Nouvelles de la promotion 2016" in french.get_body(("plain",)).get_content()


def test_an_item_whose_template_fails_is_left_out_and_logged(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    broken = templates / "email" / "broken"
    shutil.copytree(templates / "email" / "newsletter", broken)
    spanish = broken / "es.txt.j2"
    spanish.write_text(spanish.read_text() + "\n{{ alum.nickname }}\n")
    monkeypatch.setenv("ALUMNI_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    ana = add_alumnus(sqlite_url, "ANA", email="ana@example.org", locale="es")
    solo = add_alumnus(sqlite_url, "SOLO", email="solo@example.org", locale="es")
    choose(sqlite_url, ana, Frequency.digest, at=day(1))
    fine = news(sqlite_url, "November news", at=day(3))
    choose(sqlite_url, solo, Frequency.digest, at=day(4))  # Solo's only item is the broken one
    bad = news(sqlite_url, "Broken news", at=day(5), template="broken")
    digest = plan_digest(engine_for(sqlite_url), 2016, month=NOVEMBER, now=DEC_1, options=OPTIONS)
    assert digest is not None
    kit = _kit(sqlite_url, digest)
    rows = {r.alumnus_id: r for r in ledger.iter_unsent(engine_for(sqlite_url), digest)}
    with caplog.at_level(logging.WARNING, logger="alumni.delivery.digest_kit"):
        context = kit.context(rows[ana])
    assert [item.name for item in context["digest"].items] == ["November news"]
    (record,) = caplog.records
    message = record.getMessage()
    assert f"item campaign {bad} left out" in message and "alum.nickname" in message
    assert f"delivery {rows[ana].delivery_id}" in message and f"campaign {fine}" not in message
    # an alum with no item left cannot get a hollow digest: the preflight names why
    with pytest.raises(PreflightError) as failure:
        kit.preflight(rows.values())
    assert f"delivery {rows[solo].delivery_id}" in str(failure.value)
    assert "none of this alum's 1 item(s)" in str(failure.value)
    assert "alum.nickname" in str(failure.value)
    assert f"delivery {rows[ana].delivery_id}" not in str(failure.value)


def test_the_send_workers_build_a_digest_kit_too(db_url: str) -> None:
    from alumni.delivery import send_workers

    digest, _ = _sent_class(db_url)
    plain = add_campaign(db_url, name="plain")
    try:
        assert isinstance(send_workers._kit(digest), DigestKit)
        assert type(send_workers._kit(plain)) is CampaignKit
    finally:
        send_workers._kits.clear()  # the worker's per-process cache


@pytest.mark.parametrize("sparse", [False, True], ids=["full", "sparse"])
@pytest.mark.parametrize("locale", ["en", "es", "fr", "pt-BR"])
def test_the_shipped_digest_templates_render_in_every_language(locale: str, sparse: bool) -> None:
    store = TemplateStore(ROOT / "templates")
    context = sample_context(**(SPARSE if sparse else {}))
    items = (
        RenderedItem("News", "News from school", "Dear Ana,\n\n* A new year of students"),
        RenderedItem("Reunion", "Your reunion <2026>", "Will you come?"),
    )
    context["digest"] = DigestContext(month="2026-11", month_name="MONTH", items=items)
    rendered = store.render_email("digest", locale, context)
    english = store.render_email("digest", "en", context)
    assert rendered.locale == locale
    assert "2001" in rendered.subject and "MONTH" in rendered.subject
    assert locale == "en" or rendered.subject != english.subject
    for n, item in enumerate(items, start=1):
        assert f"{n}. {item.subject}\n\n{item.text}" in rendered.text
    assert "Your reunion &lt;2026&gt;" in rendered.html and "<2026>" not in rendered.html
    assert rendered.html.startswith(f'<!DOCTYPE html>\n<html lang="{locale}">')
    assert not re.search(r"<script|<link|<style|\ssrc=|url\(", rendered.html, re.IGNORECASE)
    links = context["links"]
    for part, shown in ((rendered.text, str), (rendered.html, lambda url: str(escape(url)))):
        assert shown(links["unsubscribe"]) in part and shown(links["details"]) in part
        assert shown(links["request"]) in part  # the request form, as in every message
        assert (shown(links["preferences"]) in part) is (links["preferences"] is not None)
    assert "None" not in rendered.text
    assert "1 College Road<br>Springfield 12345<br>United States" in rendered.html


def test_an_officer_cannot_create_a_digest_by_hand(sqlite_url: str) -> None:
    add_alumnus(sqlite_url, "ANA", email="ana@example.org")
    with pytest.raises(ValueError, match=r"--template 'digest' is the monthly digest's"):
        create(
            engine_for(sqlite_url),
            name="x",
            class_years=[2016],
            template="digest",
            templates=ROOT / "templates",
        )
    assert digests(sqlite_url) == []
