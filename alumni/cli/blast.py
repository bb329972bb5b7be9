"""``alumni blast``: a one-off message to one or more classes from the shell, through the same
``blast`` flow the Prefect UI's form starts (flows/blast.py). Bad input is refused with one line
before any flow runs, and nothing is made."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from alumni.cli.output import fail, out, ready_engine, safe_text
from alumni.delivery import blasts
from alumni.delivery.blasts import Blast, BlastChannel, SendTime
from alumni.models import Purpose
from alumni.settings import get_settings


def blast(
    class_year: Annotated[
        list[int], typer.Option(help="The class year; give it several times for one each.")
    ],
    template: Annotated[str, typer.Option(help="Folder under templates/email/, e.g. reunion.")],
    channel: Annotated[
        BlastChannel,
        typer.Option(help="email, or social. An invite: `alumni campaign create --event ID`."),
    ] = BlastChannel.email,
    send_at: Annotated[
        str | None,
        typer.Option(
            help="now (default), HH:MM in each alum's own zone, or a date-time with its UTC "
            "offset before which nothing goes out (2027-06-01T09:00+01:00)."
        ),
    ] = None,
    purpose: Annotated[Purpose, typer.Option(help="news, events or service.")] = Purpose.news,
    name: Annotated[str | None, typer.Option(help="What officers call it.")] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Plan, preflight and report who would get it; send nothing.")
    ] = False,
) -> None:
    """Send one message to one or more classes now, or rehearse it with --dry-run."""
    settings = get_settings()
    known = blasts.blast_templates(settings.templates_dir)
    if template not in known:
        raise fail(
            f"--template {template!r}: use one of {', '.join(known)} (folders of "
            f"{settings.templates_dir / 'email'})"
        )
    try:
        request = Blast(
            class_years=class_year,
            template=template,
            channel=channel,
            send_time=SendTime.parse(send_at),
            purpose=purpose,
            name=name,
        )
        blasts.check_blast(ready_engine(), request, templates=settings.templates_dir)
    except ValueError as exc:
        raise fail(str(exc)) from None
    from flows.blast import Template
    from flows.blast import blast as blast_flow

    try:
        result = blast_flow(
            class_years=list(request.class_years),
            template=Template(template),
            channel=channel,
            send_time=request.send_time,
            purpose=purpose,
            dry_run=dry_run,
            name=name,
        )
    except Exception as exc:  # the flow's own error, already logged by Prefect
        raise fail(f"the blast did not finish: {exc}") from None
    _print(result)


def _print(result: dict[str, Any]) -> None:
    if result["dry_run"]:
        out.print("dry run: nothing was sent", highlight=False)
        for year, found in result["classes"].items():
            skipped = ", ".join(f"{k} {n}" for k, n in found["skipped"].items()) or "none"
            out.print(
                f"  class of {year}: {found['would_send']} would get it; skipped: {skipped}",
                highlight=False,
            )
        return
    for year, report in result["campaigns"].items():
        outcomes = ", ".join(f"{k} {n}" for k, n in sorted(report["outcomes"].items()))
        out.print(
            f"campaign {report['campaign_id']} ({safe_text(report['name'])}, class of {year}): "
            f"{report['status']}; {outcomes or 'nobody'}",
            highlight=False,
        )
