"""The ``alumni`` command: what an officer types. Each command is a thin shell over a module."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import sqlalchemy as sa
import typer

from alumni.cli.ambassadors import ambassador_app, approve_campaign, share_app
from alumni.cli.blast import blast
from alumni.cli.contacts import contacts_app, lost_app
from alumni.cli.digest import digest_app
from alumni.cli.doctor import doctor
from alumni.cli.escalation import escalate, request_digest
from alumni.cli.events import event_app, reunions_app
from alumni.cli.output import err, fail, out, ready_engine, safe_text, terminal_json, terminal_text
from alumni.cli.reach import reach_app
from alumni.cli.requests import request_app
from alumni.cli.social import campaign_channel, run_social, social_app, social_status
from alumni.cli.stack import up
from alumni.cli.tips import tips_app
from alumni.cli.tracking import replies_app, track
from alumni.cli.worker import worker
from alumni.db import get_engine, upgrade, write_transaction
from alumni.models import utcnow
from alumni.people import importing, privacy
from alumni.people.keyed_hash import WrongHashKey
from alumni.people.suppression import rekey_known_addresses
from alumni.people.validation import COLUMNS
from alumni.settings import KeyFileError, get_settings

# Before prefect is imported: offline, and patient with a temporary server on a busy machine.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    help="alumni-outreach: stay in touch with every former student, one class year at a time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
report_app = typer.Typer(help="Reports for officers.", no_args_is_help=True)
app.add_typer(report_app, name="report")
campaign_app = typer.Typer(help="Class-year email campaigns.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
app.add_typer(event_app, name="event")
app.add_typer(reunions_app, name="reunions")
app.add_typer(social_app, name="social")
app.add_typer(digest_app, name="digest")
app.add_typer(replies_app, name="replies")
app.add_typer(request_app, name="request")
app.add_typer(contacts_app, name="contacts")
app.add_typer(lost_app, name="lost")
app.add_typer(tips_app, name="tips")
app.add_typer(ambassador_app, name="ambassador")
campaign_app.command("approve")(approve_campaign)
app.add_typer(share_app, name="share")
app.add_typer(reach_app, name="reach")
request_app.command("digest")(request_digest)
app.command()(escalate)
app.command()(track)
app.command()(blast)
app.command()(up)
app.command()(doctor)
app.command()(worker)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def init() -> None:
    """Create or upgrade the database named by ALUMNI_DATABASE_URL (safe to run again)."""
    settings = get_settings()
    try:
        settings.signing_key()  # make the key file now, not on the first link
    except KeyFileError as exc:
        raise fail(str(exc)) from None
    upgrade(settings.database_url)
    try:
        with write_transaction(get_engine()) as connection:
            rekeyed = rekey_known_addresses(connection)
    except WrongHashKey as exc:
        raise fail(str(exc)) from None
    shown = sa.make_url(settings.database_url).render_as_string(hide_password=True)
    out.print(f"database ready: {safe_text(shown)}", highlight=False)
    if rekeyed:
        out.print(f"{rekeyed} suppressed address(es) moved to keyed hashes", highlight=False)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The CSV file.")],
    dry_run: Annotated[bool, typer.Option(help="Check and count, write nothing.")] = False,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import valid rows; write rejected ones to NAME.rejected.csv.")
    ] = False,
) -> None:
    """Load alumni from a CSV (columns: see README). Re-importing the same file changes nothing."""
    engine = ready_engine()
    try:
        result = importing.import_csv(
            engine,
            file,
            today=date.today(),
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            batch_size=get_settings().import_batch_size,
        )
    except (importing.CsvFileError, WrongHashKey) as exc:
        raise fail(str(exc)) from None
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {safe_text(warning)}", highlight=False)
    shown = result.problems[:50]
    for problem in shown:
        err.print(f"[red]invalid:[/] {safe_text(problem)}", highlight=False)
    if result.problem_count > len(shown):
        err.print(f"... and {result.problem_count - len(shown)} more problems", highlight=False)
    verb = "would import" if dry_run or not result.committed else "imported"
    out.print(
        f"{safe_text(file.name)}: {result.rows} rows read; {verb}: {result.created} new, "
        f"{result.updated} updated, {result.unchanged} unchanged; "
        f"{result.rejected_rows} rejected",
        highlight=False,
    )
    if result.rejected_file is not None:
        out.print(f"rejected rows with reasons: {safe_text(result.rejected_file)}", highlight=False)
    if result.problem_count and not skip_invalid:
        raise fail(
            "nothing was written: correct the rows above and import again, "
            "or use --skip-invalid to import the valid rows"
        )
    if dry_run:
        out.print("dry run: nothing was written")


@app.command()
def seed(
    alumni: Annotated[int, typer.Option(min=1, help="How many alumni to make.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same people.")] = 1,
    csv: Annotated[
        Path | None, typer.Option(help="Write the rows to this CSV instead of the database.")
    ] = None,
) -> None:
    """Make a deterministic, worldwide sample population (for demos, tests and benchmarks)."""
    from alumni.people import seeding

    rows = seeding.generate_rows(alumni, seed=seed, today=date.today())
    if csv is not None:
        written = seeding.write_csv(csv, rows)
        out.print(f"wrote {written} rows to {safe_text(csv)}", highlight=False)
        return
    engine = ready_engine()
    result = importing.import_rows(
        engine,
        enumerate(rows, start=2),
        header=list(COLUMNS),
        filename=f"seed --alumni {alumni} --seed {seed}",
        sha256="",
        today=date.today(),
    )
    if not result.committed:
        problems = "; ".join(str(p) for p in result.problems[:5])
        raise fail(f"the generated population did not import: {problems}")
    out.print(
        f"seeded {result.created} new alumni ({result.updated} updated, "
        f"{result.unchanged} unchanged)",
        highlight=False,
    )


@report_app.command("classes")
def report_classes(
    format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    class_year: Annotated[int | None, typer.Option(help="Only this class year.")] = None,
) -> None:
    """Per class year: alumni, how they can be reached, stale contact details, countries."""
    from alumni.people import class_report

    engine = ready_engine()
    with engine.connect() as connection:
        rows = class_report.class_report(
            connection,
            now=utcnow(),
            stale_after_days=get_settings().stale_after_days,
            class_year=class_year,
        )
    if format is Format.csv:
        sys.stdout.write(class_report.to_csv(rows))
    elif format is Format.json:
        sys.stdout.write(class_report.to_json(rows) + "\n")
    else:
        out.print(class_report.render_table(rows))


@app.command()
def export(
    ref: Annotated[str, typer.Argument(help="External id (or database id) of the alum.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write everything held on one alum as JSON (GDPR art. 20)."""
    engine = ready_engine()
    with engine.connect() as connection:
        try:
            alumnus_id = privacy.find_alumnus_id(connection, ref)
        except LookupError as exc:
            raise fail(str(exc)) from None
        data = privacy.export_alumnus(connection, alumnus_id=alumnus_id)
    text = terminal_json(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {safe_text(output)}", highlight=False)


@app.command()
def erase(
    ref: Annotated[str, typer.Argument(help="External id (or database id) of the alum.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove one alum's personal data from every table (GDPR art. 17).

    Their addresses stay on the suppression list, and their external id and addresses on the
    erasure list, as keyed hashes: no campaign reaches them and an import of an old file refuses
    their row.
    """
    engine = ready_engine()
    with write_transaction(engine) as connection:
        try:
            alumnus_id = privacy.find_alumnus_id(connection, ref)
        except LookupError as exc:
            raise fail(str(exc)) from None
        if not yes and not typer.confirm(f"Erase all personal data of {terminal_text(ref)}?"):
            raise typer.Exit(1)
        try:
            report = privacy.erase_alumnus(connection, alumnus_id=alumnus_id, now=utcnow())
        except (privacy.ErasureConflict, WrongHashKey) as exc:
            raise fail(str(exc)) from None
    out.print(f"erased {safe_text(ref)}: {safe_text(report)}", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the public web app that email links point to (unsubscribe; ALUMNI_BASE_URL)."""
    from alumni.web import app as web_app

    ready_engine()
    web_app.serve(host, port)


@app.command()
def demo(
    alumni: Annotated[int, typer.Option(min=100, help="Size of the sample population.")] = 3000,
) -> None:
    """Seed a sample population and send one class's reunion invitation to the Maildir outbox."""
    settings = get_settings()
    upgrade(settings.database_url)
    settings.signing_key()
    seed(alumni=alumni, seed=1, csv=None)
    out.print()
    report_classes(format=Format.table, class_year=None)
    year = date.today().year - 10
    engine = get_engine()
    from alumni.delivery import campaigns

    existing = [c for c in campaigns.listing(engine) if c.class_year == year]
    campaign_id = (
        existing[-1].id
        if existing
        else campaigns.create(
            engine,
            name=f"Class of {year}: 10-year reunion",
            class_years=[year],
            template="reunion",
            templates=settings.templates_dir,
        )[0][0]
    )
    if not _demo_on_stack(campaign_id, year):
        out.print(
            f"\nrunning campaign {campaign_id} for the class of {year} "
            "(Prefect flow, temporary server)...",
            highlight=False,
        )
        campaign_run(campaign_id=campaign_id, wait=False)
    if settings.smtp_url is None:
        folder = settings.outbox_dir.resolve() / "new"
        out.print(
            f"\nmessages are in the Maildir {folder}: open them with any mail client, "
            f"or `alumni campaign preview {campaign_id}`.",
            highlight=False,
        )
    out.print(
        "Alumni whose local time is night get theirs at 08:00 their time: run "
        f"`alumni campaign run {campaign_id}` again later to send them.",
        highlight=False,
    )


def _demo_on_stack(campaign_id: int, year: int) -> bool:
    """Run the demo's campaign as a run of the ``class-campaign`` deployment on the stack of
    ``alumni up`` (or PREFECT_API_URL), follow it and print its report; False, having done
    nothing, when no such stack answers with a worker on this database."""
    from alumni.cli import stack

    addresses = stack.stack_addresses()
    if addresses is None:
        return False
    database = stack.shown_database(get_settings().database_url)
    used = stack.stack_database(addresses)
    if used is not None and used != database:
        out.print(
            f"\nthe stack at {addresses.ui_url} runs on {safe_text(used)}, not on this "
            f"{safe_text(database)}: running here instead",
            highlight=False,
        )
        return False
    if not stack.online_workers(addresses):
        out.print(
            f"\nno worker is online on the stack at {addresses.ui_url}: running here instead",
            highlight=False,
        )
        return False
    out.print(
        f"\nrunning campaign {campaign_id} for the class of {year} on the stack "
        f"({addresses.ui_url}), as a run of the class-campaign deployment...",
        highlight=False,
    )

    def show(run: dict[str, object]) -> None:
        if run.get("state_type") == "SCHEDULED":
            out.print(
                f"  run {safe_text(run['name'])}: {addresses.ui_url}/runs/flow-run/{run['id']}",
                highlight=False,
            )
        out.print(f"  {safe_text(run.get('state_name'))}", highlight=False)

    try:
        run = stack.run_deployment(
            addresses,
            "class-campaign/class-campaign",
            {"campaign_id": campaign_id, "wait": False},
            show,
        )
    except LookupError as exc:
        raise fail(str(exc)) from None
    if run.get("state_type") != "COMPLETED":
        state = run.get("state")
        message = state.get("message") if isinstance(state, dict) else None
        raise fail(
            f"campaign {campaign_id}'s run ended {run.get('state_name')}: {message or ''} "
            f"(its logs: {addresses.ui_url}/runs/flow-run/{run['id']})"
        )
    campaign_status(campaign_id=campaign_id, format=Format.table)
    return True


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Option(help="What the officers call it.")] = "",
    class_year: Annotated[
        list[int] | None,
        typer.Option(help="The class year; give it several times for one campaign each."),
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="Folder under templates/email/, e.g. reunion.")
    ] = None,
    event: Annotated[
        int | None,
        typer.Option(help="Instead: the calendar invite of this event (channel calendar)."),
    ] = None,
    programme: Annotated[str | None, typer.Option(help="Only this programme.")] = None,
    purpose: Annotated[str, typer.Option(help="news, events or service.")] = "news",
    send_at: Annotated[
        str | None, typer.Option(help="HH:MM in each recipient's own time zone.")
    ] = None,
    not_before: Annotated[
        str | None, typer.Option(help="ISO date-time before which nothing goes out.")
    ] = None,
    channel: Annotated[
        str, typer.Option(help="email, or social (posts under templates/social/).")
    ] = "email",
    network: Annotated[
        list[str] | None,
        typer.Option(help="social: mastodon, bluesky or webhook; default every one set up."),
    ] = None,
    locale: Annotated[
        list[str] | None,
        typer.Option(help="social: one post per locale; default ALUMNI_DEFAULT_LOCALE."),
    ] = None,
    link: Annotated[
        str | None, typer.Option(help="social: where the posts' tracked link leads.")
    ] = None,
    window_hours: Annotated[
        int | None, typer.Option(help="social: hours the posts may take to go out.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="Only alumni with FIELD=VALUE (country, city, programme, locale...)."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Why a --where by career, income, employer or giving is needed."),
    ] = None,
    max_recipients: Annotated[
        int | None, typer.Option(help="A cap: those nobody reached longest go first.")
    ] = None,
) -> None:
    """Create one campaign per class year; the last line printed is the (last) new id."""
    from alumni.delivery import campaigns
    from alumni.reach import fairness

    engine = ready_engine()
    audience = None
    if reason and not where:
        raise fail("--reason explains a --where filter: give the --where too, or leave it out")
    try:
        if where:
            audience = fairness.check_audience(fairness.parse_where(where), reason)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if event is not None:
        from alumni.events.mailings import mailing_campaign

        try:
            campaign_id, _ = mailing_campaign(
                engine, event, "invite", now=utcnow(), name=name or None
            )
        except (LookupError, ValueError) as exc:
            raise fail(str(exc)) from None
        out.print(f"calendar invite of event {event}:", highlight=False)
        print(campaign_id)
        return
    if not (name and class_year and template):
        raise fail("give --name, --class-year and --template (or --event ID for an invite)")
    if channel not in ("email", "social"):
        raise fail(f"--channel {channel!r}: use email or social")
    social = None
    if channel == "social":
        social = campaigns.SocialOptions(
            networks=network or (), locales=locale or (), link=link, window_hours=window_hours
        )
    elif network or locale or link or window_hours:
        raise fail("--network, --locale, --link and --window-hours are for --channel social")
    try:
        created = campaigns.create(
            engine,
            name=name,
            class_years=class_year,
            template=template,
            programme=programme,
            purpose=purpose,
            send_at=send_at,
            not_before=not_before,
            templates=get_settings().templates_dir,
            social=social,
            where=audience.where if audience else None,
            where_reason=audience.reason if audience else None,
            max_recipients=max_recipients,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    for campaign_id, year in created[:-1]:
        out.print(f"campaign {campaign_id}: class of {year}", highlight=False)
    print(created[-1][0])


@campaign_app.command("run")
def campaign_run(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    wait: Annotated[
        bool, typer.Option(help="Wait for messages due later in the recipients' local time.")
    ] = True,
) -> None:
    """Run the campaign flow (Prefect); running it again sends only what is still due."""
    from alumni.delivery.campaigns import kind_of
    from alumni.events.mailings import mailing_of

    engine = ready_engine()
    with engine.connect() as connection:
        try:
            kind = kind_of(connection, campaign_id)
        except LookupError as exc:
            raise fail(str(exc)) from None
    if kind == "calendar":
        from alumni.cli.events import run_mailing

        run_mailing(*cast(tuple[int, str], mailing_of(engine, campaign_id)))
        return
    if kind == "social":
        run_social(campaign_id, wait=wait)
        return
    from flows.campaign import class_campaign

    try:
        report = class_campaign(campaign_id=campaign_id, wait=wait)
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"campaign {campaign_id} did not finish: {exc}") from None
    _print_campaign(report)


@campaign_app.command("resume")
def campaign_resume(
    campaign_id: Annotated[int, typer.Argument(help="The stopped campaign's id.")],
    wait: Annotated[
        bool, typer.Option(help="Wait for messages due later in the recipients' local time.")
    ] = True,
) -> None:
    """After fixing the template of a stopped campaign: run its preflight again and, when it
    passes, send it as `run` does. Still failing, it stays stopped, each cause on one line."""
    from alumni.cli.resume import resume_campaign

    resume_campaign(campaign_id, wait=wait, printed=_print_campaign)


@campaign_app.command("status")
def campaign_status(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Outcomes so far: sent, failed, pending, skipped and why; by country and time zone; and
    what came back (bounces, replies, unsubscribes, RSVPs...), counted per alum."""
    from alumni.delivery.report import campaign_report

    engine = ready_engine()
    if campaign_channel(campaign_id) == "social":
        social_status(campaign_id, as_json=format is Format.json)
        return
    from alumni.reach.fairness import compare_groups

    with engine.connect() as connection:
        try:
            report = campaign_report(connection, campaign_id)
        except LookupError as exc:
            raise fail(str(exc)) from None
        fairness = compare_groups(connection, campaign_id, now=utcnow())
    if format is Format.json:
        data = {**report.as_dict(), "fairness": fairness.as_dict()}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _print_campaign(report.as_dict())
        out.print("  reach by group (fairness):", highlight=False)
        for line in fairness.lines():
            out.print(f"    {safe_text(line)}", highlight=False)


@campaign_app.command("preview")
def campaign_preview(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    alumnus: Annotated[
        str | None, typer.Option(help="External id of the alum (default: the first).")
    ] = None,
    part: Annotated[str, typer.Option(help="text, html or raw (the whole message).")] = "text",
) -> None:
    """Render the message for one alum of the class, without sending anything."""
    from alumni.delivery import campaigns

    engine = ready_engine()
    try:
        preview = campaigns.preview(engine, campaign_id, alumnus=alumnus)
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    if part == "raw":
        sys.stdout.write(preview.raw.decode("ascii"))
        return
    out.print(
        f"To: {safe_text(preview.to)}\nSubject: {safe_text(preview.subject)}\n"
        f"Locale: {safe_text(preview.locale)}\n",
        highlight=False,
    )
    body = preview.html if part == "html" else preview.text
    sys.stdout.write(terminal_text(body, lines=True) + "\n")


@campaign_app.command("list")
def campaign_list() -> None:
    """Every campaign with its class year and status."""
    from alumni.delivery import campaigns

    engine = ready_engine()
    for row in campaigns.listing(engine):
        out.print(
            f"{row.id:>5}  class of {row.class_year}  {row.status:<8}  "
            f"{safe_text(f'{row.template:<12}')} {safe_text(row.name)}",
            highlight=False,
        )


def _print_campaign(report: dict[str, object]) -> None:
    out.print(
        f"campaign {report['campaign_id']} ({safe_text(report['name'])}, "
        f"class of {report['class_year']}): {report['status']}, {report['total']} alumni",
        highlight=False,
    )
    if report.get("note"):
        out.print(f"  {safe_text(report['note'])}", highlight=False)
    outcomes = report["outcomes"]
    assert isinstance(outcomes, dict)
    for outcome, count in sorted(outcomes.items()):
        out.print(f"  {outcome:<24} {count}", highlight=False)
    if report.get("maybe_duplicates"):
        out.print(
            f"  {report['maybe_duplicates']} message(s) were in flight during a crash and "
            "may have gone twice",
            highlight=False,
        )
    if report.get("next_due"):
        out.print(f"  next group due at {report['next_due']} (UTC)", highlight=False)
    responses = report.get("responses")
    if isinstance(responses, dict):
        out.print("  what came back (alumni):", highlight=False)
        for key, count in responses.items():
            out.print(f"    {key.replace('_', ' '):<22} {count}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
