"""``alumni doctor``: check a configuration before anything is sent, one line per check.

Each check says ok, warn or fail, and a failure says what to do. Nothing is sent and nothing
is changed: the SMTP relay gets EHLO, STARTTLS and AUTH as configured and then QUIT; the
mailbox a login and a logout; the social networks a login. No secret is printed: addresses are
shown without their passwords, and the connectors' errors never carry one.

Checks, in order: the database (reachable, at the newest migration), the templates (every file
of every family and locale compiles), the signing key (set, and its file private), SMTP, IMAP,
the social accounts, ALUMNI_BASE_URL (https), and the Prefect API (when one is configured).
The command exits 1 when a check fails, 0 otherwise (warnings included).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
import typer

from alumni.cli.output import out, safe_text
from alumni.db import current_revision, head_revision
from alumni.messages.rendering import EMAIL_FAMILIES, TemplateStore
from alumni.settings import KeyFileError, Settings, get_settings
from connectors.imap import ImapConfigError, ImapMailbox
from connectors.secure_url import is_loopback
from connectors.smtp import SmtpConnectError, SmtpTransport

# Each peer gets this long to answer before its check fails.
PEER_TIMEOUT_SECONDS = 10.0
_SHOWN_ERRORS = 5


class Status(StrEnum):
    ok = "ok"
    warn = "warn"
    fail = "FAIL"


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was checked, how it went, and what to do."""

    name: str
    status: Status
    detail: str


def doctor() -> None:
    """Check the configuration (database, templates, key, SMTP, IMAP, social accounts, base
    URL, Prefect API), sending nothing; one line each; exit 1 if a check fails."""
    checks = run_checks(get_settings())
    colours = {Status.ok: "green", Status.warn: "yellow", Status.fail: "bold red"}
    for check in checks:
        out.print(
            f"[{colours[check.status]}]{check.status.value:<4}[/]  {check.name:<9} "
            f"{safe_text(check.detail, lines=True)}",
            highlight=False,
        )
    counts = {status: sum(c.status is status for c in checks) for status in Status}
    out.print(
        f"{counts[Status.ok]} ok, {counts[Status.warn]} warning(s), "
        f"{counts[Status.fail]} failure(s)",
        highlight=False,
    )
    if counts[Status.fail]:
        raise typer.Exit(1)


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order shown."""
    steps: list[Callable[[Settings], Check]] = [
        check_database,
        check_templates,
        check_secret_key,
        check_smtp,
        check_imap,
        check_social,
        check_base_url,
        check_prefect,
    ]
    return [step(settings) for step in steps]


def check_database(settings: Settings) -> Check:
    """Reachable, and at the newest migration; an SQLite file that is not there is not made."""
    url = sa.make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    file = url.database if url.get_backend_name() == "sqlite" else None
    on_disk = bool(file) and file != ":memory:" and not str(file).startswith("file:")
    if on_disk and not Path(str(file)).exists():
        return Check(
            "database", Status.fail, f"{shown}: no such file; run `alumni init` to create it"
        )
    try:
        current = current_revision(settings.database_url)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Check(
            "database",
            Status.fail,
            f"cannot reach {shown}: {reason}; check ALUMNI_DATABASE_URL and that the database "
            "server is running",
        )
    head = head_revision()
    if current is None:
        return Check("database", Status.fail, f"{shown} is not initialised; run `alumni init`")
    if current != head:
        return Check(
            "database",
            Status.fail,
            f"{shown} is at migration {current}, this version needs {head}; run `alumni init` "
            "to upgrade it (back it up first)",
        )
    return Check("database", Status.ok, f"{shown}, at the newest migration ({head})")


def check_templates(settings: Settings) -> Check:
    """Every template file compiles, and no email locale lacks a part."""
    store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
    if not settings.templates_dir.is_dir():
        return Check(
            "templates",
            Status.fail,
            f"{settings.templates_dir} is not a folder; set ALUMNI_TEMPLATES_DIR to the "
            "templates folder",
        )
    count, errors = store.syntax_errors()
    if errors:
        listed = "\n".join(f"  {error}" for error in errors[:_SHOWN_ERRORS])
        more = f"\n  ... and {len(errors) - _SHOWN_ERRORS} more" if len(errors) > 5 else ""
        return Check(
            "templates",
            Status.fail,
            f"{len(errors)} of {count} template files do not compile:\n{listed}{more}",
        )
    incomplete = [
        f"{family}/{name}/{locale} lacks {', '.join(parts)}"
        for family in EMAIL_FAMILIES
        for name in store.names(family)
        for locale, parts in store.incomplete_locales(name, family=family).items()
    ]
    if incomplete:
        return Check(
            "templates",
            Status.warn,
            f"{count} files compile, but alumni of these locales would get another language "
            f"(add the missing parts): {'; '.join(incomplete)}",
        )
    return Check("templates", Status.ok, f"{count} files in {settings.templates_dir} compile")


def check_secret_key(settings: Settings) -> Check:
    """The key that signs links: set, long enough, and its file open to its owner only."""
    if settings.secret_key is not None:
        try:
            settings.signing_key()
        except ValueError as exc:
            return Check("key", Status.fail, str(exc))
        return Check("key", Status.ok, "ALUMNI_SECRET_KEY is set")
    path = settings.key_file().absolute()
    if not path.exists():
        return Check(
            "key",
            Status.warn,
            f"no key file yet at {path}: `alumni init` makes one (mode 600); keep it, or links "
            "already sent stop working",
        )
    try:
        settings.signing_key()
    except KeyFileError as exc:
        return Check("key", Status.fail, str(exc))
    return Check("key", Status.ok, f"{path}, readable by its owner only")


def check_smtp(settings: Settings) -> Check:
    """EHLO, STARTTLS and AUTH with the relay as configured, then QUIT: nothing is sent."""
    if settings.smtp_url is None:
        return Check(
            "smtp",
            Status.warn,
            "ALUMNI_SMTP_URL is not set: messages go to the Maildir "
            f"{settings.outbox_dir.absolute()} and reach nobody; set it to the office's relay "
            "to send",
        )
    try:
        transport = SmtpTransport.from_url(
            settings.smtp_url.get_secret_value(), connections=1, timeout=PEER_TIMEOUT_SECONDS
        )
    except ValueError as exc:
        return Check("smtp", Status.fail, f"ALUMNI_SMTP_URL: {exc}")
    try:
        greeting = transport.check()
    except SmtpConnectError as exc:
        return Check("smtp", Status.fail, str(exc))
    finally:
        transport.close()
    login = f", logged in as {transport.username!r}" if transport.username else ""
    return Check(
        "smtp",
        Status.ok,
        f"{transport.host}:{transport.port} ({greeting}) answered, tls={transport.tls}{login}",
    )


def check_imap(settings: Settings) -> Check:
    """Log in to the office's mailbox and out again, when one is configured."""
    if settings.imap_url is None:
        return Check(
            "imap",
            Status.warn,
            "ALUMNI_IMAP_URL is not set: bounces, replies and unsubscribe mail are not read",
        )
    try:
        with ImapMailbox.open(
            settings.imap_url.get_secret_value(), timeout=PEER_TIMEOUT_SECONDS
        ) as mailbox:
            shown = mailbox.address.shown()
            encrypted = mailbox.encrypted
    except ImapConfigError as exc:
        return Check("imap", Status.fail, str(exc))
    how = "encrypted" if encrypted else "unencrypted, on this machine"
    return Check("imap", Status.ok, f"logged in to {shown} ({how})")


def check_social(settings: Settings) -> Check:
    """Log in to every configured social account (``alumni social check``'s way)."""
    from alumni.cli.social import secret_lookup
    from alumni.social.accounts import network_accounts
    from connectors.social import SocialConnectError

    try:
        accounts = network_accounts(settings, secret_lookup())
    except ValueError as exc:
        return Check("social", Status.fail, str(exc))
    if not accounts:
        return Check("social", Status.ok, "no Mastodon or Bluesky account is set up (optional)")
    working, broken = [], []
    for account in accounts:
        try:
            who = account.verify()
        except SocialConnectError as exc:
            broken.append(f"{account.name}: {exc}")
        else:
            working.append(f"{account.name} as {who}")
    if broken:
        return Check("social", Status.fail, "; ".join(broken))
    return Check("social", Status.ok, "logged in: " + "; ".join(working))


def check_base_url(settings: Settings) -> Check:
    """Where links in messages point: set, and https (plain http only on this machine)."""
    if "base_url" not in settings.model_fields_set:
        return Check(
            "base url",
            Status.warn,
            f"ALUMNI_BASE_URL is not set: links point at {settings.base_url}, which only this "
            "machine can open; set it to the https address where `alumni serve` is reached",
        )
    parts = urlsplit(settings.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Check(
            "base url",
            Status.fail,
            f"ALUMNI_BASE_URL={settings.base_url!r} is not a web address; write it like "
            "https://alumni.school.edu",
        )
    if parts.scheme == "https":
        return Check("base url", Status.ok, settings.base_url)
    if is_loopback(parts.hostname):
        return Check(
            "base url",
            Status.warn,
            f"{settings.base_url} is for trying things on this machine: alumni cannot open "
            "its links; set ALUMNI_BASE_URL to https://... before sending to them",
        )
    return Check(
        "base url",
        Status.fail,
        f"{settings.base_url} is plain http: unsubscribe and RSVP links (and their tokens) "
        "would travel unencrypted; serve the pages over https and set ALUMNI_BASE_URL to it",
    )


def check_prefect(_settings: Settings) -> Check:
    """The Prefect API of PREFECT_API_URL answers (or the one `alumni up` started)."""
    from alumni.cli.stack import stack_addresses

    configured = os.environ.get("PREFECT_API_URL")
    found = stack_addresses(timeout=PEER_TIMEOUT_SECONDS)
    if found is not None:
        how = "" if configured else f" (alumni up's; export PREFECT_API_URL={found.api_url})"
        return Check("prefect", Status.ok, f"{found.api_url} answers{how}")
    if configured:
        return Check(
            "prefect",
            Status.fail,
            f"PREFECT_API_URL={configured} does not answer: start the server (`alumni up`), "
            "or correct or unset PREFECT_API_URL",
        )
    return Check(
        "prefect",
        Status.warn,
        "no Prefect server: each command starts a temporary one, and nothing runs on a "
        "schedule; start the stack with `alumni up`",
    )
