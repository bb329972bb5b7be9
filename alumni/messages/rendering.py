"""Render the office's templates: sandboxed Jinja2, locale fallback, and a preflight.

Templates live under a root directory (the repository's ``templates/``) in three families:

- ``email/<name>/<locale>.subject.j2``, ``<locale>.txt.j2`` and ``<locale>.html.j2``: campaigns;
- ``invite/<kind>/<locale>.{subject,txt,html}.j2``: event mailings (invite, update, cancel,
  reminder, thanks, waitlist, place), built the same way as campaign emails;
- ``request/<kind>/<locale>.{subject,txt,html}.j2``: notices about an alum's own request (ack,
  update, waiting, resumed, closed, decision), built the same way;
- ``social/<name>/<locale>.txt.j2``: social posts.

The three email families share everything below (one sandbox, one locale-fallback cache, the same
errors and preflight); ``family=`` picks the folder. A locale counts only when all three parts
exist, so one email is never half in one language and half in another.
An alum's locale is looked up most specific first (``pt-BR``, then ``pt``, then ``en``;
``ar-EG``, then ``ar``), case-insensitively, as BCP 47 tags are. The core templates exist in
``en``, ``es``, ``fr``, ``pt-BR`` and ``ar``; an ``ar`` HTML part carries ``dir="rtl"``.

Templates are written by the office, not by developers, so they run in Jinja's immutable sandbox
(no ``__class__`` tricks, no mutating the data they are given) with ``StrictUndefined``: a misspelt
or missing variable is an error, never an empty gap in a message sent to thousands. Printing a
value that is ``None`` is an error too (it would read "Dear None"): guard optional fields with
``{% if alum.city %}``. HTML is autoescaped; text parts and subjects are not. A subject is always
one line: whitespace (including any CR/LF that came in with the data) collapses to single spaces.

Context contract: what a campaign passes to every template (fields marked *may be None* must be
guarded in templates)::

    alum:     first_name, last_name, class_year, programme (may be None), city (may be None),
              country (ISO 3166 code, may be None), display_name (the full name in the order
              the alum's culture writes it: "Tanaka Hiroshi"), greeting_name (the name a
              salutation uses: "Ana", "Tanaka Hiroshi"; ``alumni.people.names``)
    cohort:   year, classmates (int: alumni in the class), years_since (int),
              next_milestone (int: next of 5/10/15/20/25/30/40/50 years, or None),
              next_milestone_year (int or None), countries (int)
    campaign: name
    office:   name, email, postal_address
    links:    unsubscribe (https URL), preferences, details and request (https URLs of the
              alum's own pages, ``alumni.messages.page_links``; None hides them)

Event mailings get the same plus ``event`` and the RSVP links ``links.yes``/``no``/``maybe``
(``alumni.events.mailing_kit`` describes them); notices about a request get ``request`` and
``links.request_status`` (``alumni.delivery.request_kit``).

Dates, times, numbers and lists are written per locale by the filters of
``alumni.messages.locale_format`` (``{{ cohort.classmates|format_number }}``), registered here.

Run :func:`preflight` over every recipient before the first message of a campaign goes out: it
renders them all and reports every distinct problem at once.

Errors::

    RenderError       one template could not be rendered for one context (names template, variable)
    PreflightError    some recipients could not be rendered; .failures lists (ref, RenderError),
                      .causes() groups them: one line per cause, with how many it hit

Example:
    >>> store = TemplateStore(Path("templates"))
    >>> email = store.render_email("reunion", "pt-BR", context)  # doctest: +SKIP
    >>> email.locale, email.subject  # doctest: +SKIP
    ('pt-BR', 'Turma de 2001: 25 anos juntos')
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NoReturn

from jinja2 import FileSystemLoader, StrictUndefined, Template
from jinja2.exceptions import (
    SecurityError,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

from alumni.messages.locale_format import READER_KEY, template_filters

DEFAULT_LOCALE: Final = "en"
PARTS: Final = ("subject", "txt", "html")
# The folders of three-part emails: campaigns', event mailings' and request notices'.
EMAIL: Final = "email"
INVITE: Final = "invite"
REQUEST: Final = "request"
EMAIL_FAMILIES: Final = (EMAIL, INVITE, REQUEST)
# Names the whole template rather than one recipient in a PreflightError.
TEMPLATE_REF: Final = "all recipients"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_FILE = re.compile(r"^(?P<locale>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\.(?P<part>subject|txt|html)\.j2$")
_POST_FILE = re.compile(r"^(?P<locale>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\.txt\.j2$")
_UNDEFINED_NAME = re.compile(r"^'(?P<name>[^']+)' is undefined$")
_NO_ATTRIBUTE = re.compile(r"^'(?P<owner>[^']*)' has no attribute '(?P<attr>[^']+)'$")
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_PATH_ON_LINE = re.compile(_DOTTED)
# Control characters that str.split() does not treat as whitespace; none belongs in a header.
_CONTROLS = dict.fromkeys([*range(0x00, 0x20), 0x7F])


class RenderError(Exception):
    """A template could not be rendered for one context.

    Attributes:
        template: the template's name under the root, e.g. ``email/reunion/pt.html.j2`` or
            ``invite/invite/es.txt.j2`` (``email/reunion`` when no file could be chosen at all).
        locale: the locale asked for.
        variable: the undefined or ``None`` variable, e.g. ``cohort.next_milestone``, when known.
        message: what went wrong and what to do about it.
        alike: how many recipients failed the same way, counted by a preflight on the first
            of them it lists (0 on the others it lists; 1 when no preflight counted).
    """

    def __init__(self, template: str, locale: str | None, variable: str | None, message: str):
        super().__init__(template, locale, variable, message)
        self.template = template
        self.locale = locale
        self.variable = variable
        self.message = message
        self.alike = 1

    @property
    def cause(self) -> tuple[str, str | None, str]:
        """What recipients failing the same way share: the template file, variable, message."""
        return (self.template, self.variable, self.message)

    def __str__(self) -> str:
        return f"template {self.template}: {self.message}"


@dataclass(frozen=True, slots=True)
class Cause:
    """One way a preflight failed: ``recipients`` hit by ``error`` (0 for the template itself),
    ``example`` the ref of the first of them."""

    recipients: int
    error: RenderError
    example: str

    def line(self) -> str:
        """``74 recipients: template ...: variable 'alum.frist_name' is undefined; ... (e.g.
        delivery 272)``: one line, whatever the number of recipients."""
        if self.example == TEMPLATE_REF:
            return f"{TEMPLATE_REF}: {self.error}"
        who = "1 recipient" if self.recipients == 1 else f"{self.recipients} recipients"
        return f"{who}: {self.error} (e.g. {self.example})"


class PreflightError(Exception):
    """Some recipients of a campaign or event mailing could not be rendered; send nothing.

    Attributes:
        failures: up to ``max_errors`` (recipient ref, error) pairs, in recipient order; the first
            recipient of every distinct problem is always among them. Problems with the template
            itself carry the ref :data:`TEMPLATE_REF`.
        failed: how many recipients failed in all (may exceed ``len(failures)``).
        checked: how many recipients were rendered.
    """

    def __init__(
        self, failures: list[tuple[str, RenderError]], *, failed: int = 0, checked: int = 0
    ):
        super().__init__(failures)
        self.failures = failures
        self.failed = failed
        self.checked = checked

    def causes(self) -> list[Cause]:
        """The failures grouped by cause (template, variable, message), template problems
        first, then by recipients hit, most first. Counts come from the preflight
        (``RenderError.alike``); a cause whose first recipient was not listed counts those
        listed (``unexplained`` says how many are left over)."""
        grouped: dict[tuple[str, str | None, str], list[tuple[str, RenderError]]] = {}
        for ref, error in self.failures:
            grouped.setdefault(error.cause, []).append((ref, error))
        causes = []
        for members in grouped.values():
            example, error = members[0]
            if example == TEMPLATE_REF:
                causes.append(Cause(0, error, TEMPLATE_REF))
                continue
            counted = sum(e.alike for _, e in members)
            causes.append(Cause(max(counted, len(members)), error, example))
        return sorted(causes, key=lambda c: (c.example != TEMPLATE_REF, -c.recipients))

    def unexplained(self) -> int:
        """Failed recipients no listed cause accounts for (a preflight listing at most
        ``max_errors`` may leave some out)."""
        return max(self.failed - sum(c.recipients for c in self.causes()), 0)

    def summary(self) -> str:
        """The head line: ``74 of 200 recipients could not be rendered`` (and/or the template
        is incomplete), in one line."""
        heads = []
        if any(ref == TEMPLATE_REF for ref, _ in self.failures):
            heads.append("the template is incomplete")
        if self.failed:
            heads.append(f"{self.failed} of {self.checked} recipients could not be rendered")
        return " and ".join(heads) or "the preflight failed"

    def __str__(self) -> str:
        lines = [f"{self.summary()}; fix these and run the preflight again:"]
        lines += [f"  {cause.line()}" for cause in self.causes()]
        if self.unexplained():
            lines.append(f"  ... and {self.unexplained()} more recipients")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """One rendered email. ``locale`` is the template locale actually used (e.g. ``pt-BR``)."""

    subject: str
    text: str
    html: str
    locale: str


@dataclass(frozen=True, slots=True)
class RenderedPost:
    """A social post's text and the locale its template was written in."""

    text: str
    locale: str


class _PrintedNone(Exception):
    """Raised by the environments' finalize hook when a template prints ``None``."""


def _refuse_none(value: Any) -> Any:
    if value is None:
        raise _PrintedNone
    return value


# What ``getattr`` finds on a plain dict: a template's ``alum.city`` is none of these.
_DICT_ATTRIBUTES: Final = frozenset(dir({}))


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, made cheaper per render with the same answers (a campaign
    renders three templates per recipient):

    - a plain dict's keys are read without a failed attribute lookup first (the sandbox's
      ``getattr`` raises and catches an AttributeError for every ``alum.first_name``: a third
      of a message's render); a key that is not an attribute of ``dict`` is exactly what the
      sandbox would have read as an item;
    - a template's globals are a dict of the environment's, not a ``ChainMap`` over them
      (copied into every render's context, key by key in Python: a fifth of what was left).
      The store never changes its environments' globals once made.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


def template_digest(root: Path) -> str:
    """A digest of every template file under ``root`` (names and contents): equal digests, the
    same templates. A campaign's preflight records it, so a run that joins after an edit knows
    to render again what the edited templates would change."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*.j2")):
        name = path.relative_to(root).as_posix().encode()
        content = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(name), name, len(content)))
        digest.update(content)
    return digest.hexdigest()


def locale_candidates(locale: str | None, default: str = DEFAULT_LOCALE) -> list[str]:
    """Return the locales to try for ``locale``, most specific first, ending with ``default``.

    Follows RFC 4647 lookup: subtags are dropped from the right, and a single-letter subtag left at
    the end (``x`` in ``en-x-foo``) goes with the one after it. ``_`` is read as ``-`` (``pt_BR``).
    Duplicates are dropped case-insensitively.

    Args:
        locale: a BCP 47 tag such as ``pt-BR`` or ``zh-Hant-TW``; None or blank for none.
        default: the locale every lookup ends with.

    Returns:
        e.g. ``["pt-BR", "pt", "en"]`` for ``pt-BR``; ``["en"]`` for None.
    """
    candidates: list[str] = []
    seen: set[str] = set()
    subtags = (locale or "").strip().replace("_", "-").split("-")
    subtags = [tag for tag in subtags if tag]
    while subtags:
        tag = "-".join(subtags)
        if tag.lower() not in seen:
            seen.add(tag.lower())
            candidates.append(tag)
        subtags.pop()
        while subtags and len(subtags[-1]) == 1:
            subtags.pop()
    if default.lower() not in seen:
        candidates.append(default)
    return candidates


@dataclass(frozen=True, slots=True)
class _Resolved:
    locale: str
    subject: Template
    text: Template
    html: Template


class TemplateStore:
    """The templates under one root directory, compiled once and kept for the store's life.

    Files are read on first use and never re-read (no auto-reload): make a new store to pick up
    edited templates. A store is safe to share between threads.

    Args:
        root: the directory holding ``email/``, ``invite/`` and ``social/``.
        default_locale: the locale every lookup falls back to.
    """

    def __init__(self, root: Path, *, default_locale: str = DEFAULT_LOCALE):
        self.root = Path(root)
        self.default_locale = default_locale
        loader = FileSystemLoader(self.root)
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "keep_trailing_newline": True,
            "auto_reload": False,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "finalize": _refuse_none,
        }
        self._html_env = _Sandbox(autoescape=True, **common)
        self._text_env = _Sandbox(autoescape=False, **common)
        for env in (self._html_env, self._text_env):
            env.filters.update(template_filters())
        self._lock = threading.Lock()
        # (family, name) -> {lower-case locale -> (locale as spelt in file names, parts present)}
        self._index: dict[tuple[str, str], dict[str, tuple[str, frozenset[str]]]] = {}
        self._resolved: dict[tuple[str, str, str | None], _Resolved] = {}

    def names(self, channel: str = EMAIL) -> list[str]:
        """Return the template names of a family (``["newsletter", "reunion"]``), sorted."""
        folder = self.root / channel
        if not folder.is_dir():
            return []
        return sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.is_dir() and _NAME.match(entry.name) and any(entry.glob("*.j2"))
        )

    def locales(self, name: str, *, family: str = EMAIL) -> list[str]:
        """Return the locales in which email template ``name`` is complete (all three parts)."""
        index = self._locale_index(family, name)
        return sorted(locale for locale, parts in index.values() if len(parts) == len(PARTS))

    def incomplete_locales(self, name: str, *, family: str = EMAIL) -> dict[str, list[str]]:
        """Return, for each locale of ``name`` that lacks a part, the parts it lacks."""
        return {
            locale: [part for part in PARTS if part not in parts]
            for locale, parts in sorted(self._locale_index(family, name).values())
            if len(parts) != len(PARTS)
        }

    def email_locale(self, name: str, locale: str | None, *, family: str = EMAIL) -> str:
        """Return the locale email ``name`` is written in for an alum of ``locale``, as spelt in
        its file names (``pt`` for ``pt-BR`` when only ``pt`` exists): what :meth:`render_email`
        will use, so dates and numbers can be written in the email's language.

        Raises:
            RenderError: the template has no complete locale among the candidates.
        """
        resolved = self._resolved.get((family, name, locale))
        if resolved is None:
            resolved = self._resolve(family, name, locale)
        return resolved.locale

    def render_email(
        self, name: str, locale: str | None, context: Mapping[str, Any], *, family: str = EMAIL
    ) -> RenderedEmail:
        """Render email template ``name`` in the best locale available for ``locale``.

        Args:
            name: the template's folder name under ``family``, e.g. ``reunion``.
            locale: the alum's BCP 47 locale, or None for the default.
            context: the data described in this module's docstring.
            family: ``email`` (campaigns), ``invite`` (event mailings) or ``request``
                (notices about an alum's request).

        Returns:
            The subject (one line, never empty), text and HTML, and the locale used.

        Raises:
            RenderError: no locale of the template is complete, a variable is undefined or
                ``None``, the sandbox refused an access, or the subject came out empty.
        """
        resolved = self._resolved.get((family, name, locale))
        if resolved is None:
            resolved = self._resolve(family, name, locale)
        raw_subject = self._render(resolved.subject, locale, context)
        subject = " ".join(raw_subject.split()).translate(_CONTROLS)
        if not subject:
            raise RenderError(
                template=resolved.subject.name or name,
                locale=locale,
                variable=None,
                message="the subject is empty after rendering; give it text that is always shown",
            )
        return RenderedEmail(
            subject=subject,
            text=self._render(resolved.text, locale, context),
            html=self._render(resolved.html, locale, context),
            locale=resolved.locale,
        )

    def post_locales(self, name: str) -> dict[str, str]:
        """The locales of social template ``name`` (``social/<name>/<locale>.txt.j2``), by
        lower-case tag, each as spelt in its file name."""
        self._check_name(f"social/{name}", name)
        folder = self.root / "social" / name
        if not folder.is_dir():
            return {}
        return {
            match["locale"].lower(): match["locale"]
            for entry in sorted(folder.iterdir())
            if (match := _POST_FILE.match(entry.name)) and entry.is_file()
        }

    def render_post(
        self, name: str, locale: str | None, context: Mapping[str, Any]
    ) -> RenderedPost:
        """Render social template ``name`` in the best locale available for ``locale``.

        Raises:
            RenderError: no such template, a variable is undefined or ``None``, the sandbox
                refused an access, or the post came out empty.
        """
        spelt = self.post_locales(name)
        where = f"social/{name}"
        if not spelt:
            raise RenderError(
                template=where,
                locale=locale,
                variable=None,
                message=(
                    f"no such social template under {self.root} (social templates found: "
                    f"{', '.join(self.names('social')) or 'none'}); create "
                    f"{where}/{self.default_locale}.txt.j2"
                ),
            )
        candidates = locale_candidates(locale, self.default_locale)
        found = next((spelt[c.lower()] for c in candidates if c.lower() in spelt), None)
        if found is None:
            raise RenderError(
                template=where,
                locale=locale,
                variable=None,
                message=f"no locale among {', '.join(candidates)}; add {where}/{locale}.txt.j2",
            )
        template = self._load(self._text_env, f"{where}/{found}.txt.j2", locale)
        text = self._render(template, locale, context).strip()
        if not text:
            raise RenderError(
                template=template.name or where,
                locale=locale,
                variable=None,
                message="the post is empty after rendering; give it text that is always shown",
            )
        return RenderedPost(text=text, locale=found)

    def syntax_errors(self) -> tuple[int, list[RenderError]]:
        """Compile every template file under the root (every family, name and locale),
        rendering nothing: how many files there are, and one error per file that does not
        compile (HTML parts as autoescaped HTML, the rest as text, as they are sent).
        """
        files = sorted(path.relative_to(self.root).as_posix() for path in self.root.rglob("*.j2"))
        errors = []
        for name in files:
            env = self._html_env if name.endswith(".html.j2") else self._text_env
            try:
                self._load(env, name, None)
            except RenderError as error:
                errors.append(error)
        return len(files), errors

    def _check_name(self, where: str, name: str) -> None:
        if not _NAME.match(name):
            raise RenderError(
                template=where,
                locale=None,
                variable=None,
                message="a template name is lower-case letters, digits, '-' and '_' only",
            )

    def _locale_index(self, family: str, name: str) -> dict[str, tuple[str, frozenset[str]]]:
        index = self._index.get((family, name))
        if index is not None:
            return index
        if family not in EMAIL_FAMILIES:
            raise ValueError(f"family {family!r}: email templates are {', '.join(EMAIL_FAMILIES)}")
        self._check_name(f"{family}/{name}", name)
        found: dict[str, tuple[str, set[str]]] = {}
        folder = self.root / family / name
        if folder.is_dir():
            for entry in sorted(folder.iterdir()):
                match = _FILE.match(entry.name)
                if match and entry.is_file():
                    entry_parts = found.setdefault(
                        match["locale"].lower(), (match["locale"], set())
                    )[1]
                    entry_parts.add(match["part"])
        index = {key: (spelt, frozenset(parts)) for key, (spelt, parts) in found.items()}
        with self._lock:
            self._index[(family, name)] = index
        return index

    def _resolve(self, family: str, name: str, locale: str | None) -> _Resolved:
        index = self._locale_index(family, name)
        if not index:
            known = ", ".join(self.names(family)) or "none"
            raise RenderError(
                template=f"{family}/{name}",
                locale=locale,
                variable=None,
                message=(
                    f"no such {family} template under {self.root} (templates found: {known}); "
                    f"create {family}/{name}/{self.default_locale}.{{subject,txt,html}}.j2"
                ),
            )
        candidates = locale_candidates(locale, self.default_locale)
        for candidate in candidates:
            entry = index.get(candidate.lower())
            if entry is None or len(entry[1]) != len(PARTS):
                continue
            spelt = entry[0]
            prefix = f"{family}/{name}/{spelt}"
            resolved = _Resolved(
                locale=spelt,
                subject=self._load(self._text_env, f"{prefix}.subject.j2", locale),
                text=self._load(self._text_env, f"{prefix}.txt.j2", locale),
                html=self._load(self._html_env, f"{prefix}.html.j2", locale),
            )
            with self._lock:
                self._resolved[(family, name, locale)] = resolved
            return resolved
        raise RenderError(
            template=f"{family}/{name}",
            locale=locale,
            variable=None,
            message=(
                f"no complete locale among {', '.join(candidates)} (each needs .subject.j2, "
                f".txt.j2 and .html.j2); add the missing files for {self.default_locale}"
            ),
        )

    def _load(
        self, env: ImmutableSandboxedEnvironment, template: str, locale: str | None
    ) -> Template:
        try:
            return env.get_template(template)
        except TemplateSyntaxError as exc:
            raise RenderError(
                template=template,
                locale=locale,
                variable=None,
                message=f"syntax error on line {exc.lineno}: {exc.message}; correct the template",
            ) from None
        except TemplateNotFound:
            raise RenderError(
                template=template,
                locale=locale,
                variable=None,
                message="the file disappeared after the store listed it; restore it",
            ) from None

    def _render(self, template: Template, locale: str | None, context: Mapping[str, Any]) -> str:
        try:
            # The alum's own tag rides along for the locale filters (``ar-EG`` refines ``ar``).
            return template.render(context, **{READER_KEY: locale})
        except Exception as exc:  # everything a template raises is a template problem
            _raise_render_error(template, locale, context, exc)


def _raise_render_error(
    template: Template, locale: str | None, context: Mapping[str, Any], exc: Exception
) -> NoReturn:
    name = template.name or "<template>"
    line_number = _template_line(template, exc.__traceback__)
    line = _source_line(template, line_number)
    where = f" (line {line_number})" if line_number else ""
    variable: str | None = None
    if isinstance(exc, SecurityError):
        message = (
            f"the sandbox refused it{where}: {exc}; templates may only read the context's data"
        )
    elif isinstance(exc, _PrintedNone):
        variable = _none_path_on_line(line, context)
        shown = variable or "a value"
        message = (
            f"{shown} is None and would print as 'None'{where}; "
            f"wrap it in {{% if {variable or '...'} %}} or give a default: "
            f"{{{{ {variable or '...'} or '' }}}}"
        )
    elif isinstance(exc, UndefinedError):
        variable, message = _undefined_variable(str(exc), line)
        if variable is None:
            message = f"{message}{where}; add it to the context or remove it from the template"
    elif isinstance(exc, TemplateError):
        message = f"{exc}{where}; correct the template"
    else:
        message = f"{type(exc).__name__}: {exc}{where}; correct the template or its data"
    raise RenderError(template=name, locale=locale, variable=variable, message=message) from exc


def _undefined_variable(text: str, line: str | None) -> tuple[str | None, str]:
    """Return (variable, message) for a StrictUndefined error message, best effort."""
    found = _UNDEFINED_NAME.match(text)
    if found:
        variable = found["name"]
        return variable, _undefined_message(variable)
    found = _NO_ATTRIBUTE.match(text)
    if not found:
        return None, text
    attribute = found["attr"]
    owner = _owner_on_line(line, attribute)
    if found["owner"] == "None" and owner:
        return owner, (
            f"variable '{owner}' is None, so it has no attribute '{attribute}'; "
            f"guard it with {{% if {owner} %}}"
        )
    variable = f"{owner}.{attribute}" if owner else attribute
    return variable, _undefined_message(variable)


def _undefined_message(variable: str) -> str:
    return (
        f"variable '{variable}' is undefined; add it to the context or remove it from the template"
    )


def _owner_on_line(line: str | None, attribute: str) -> str | None:
    """Return the dotted path that ``.attribute`` (or ``['attribute']``) hangs off on ``line``."""
    if line is None:
        return None
    quoted = re.escape(attribute)
    pattern = rf"({_DOTTED})\s*(?:\.\s*{quoted}\b|\[\s*['\"]{quoted}['\"]\s*\])"
    found = re.search(pattern, line)
    return found.group(1) if found else None


def _none_path_on_line(line: str | None, context: Mapping[str, Any]) -> str | None:
    """Return the first dotted path on ``line`` whose value in ``context`` is None."""
    if line is None:
        return None
    for path in _PATH_ON_LINE.findall(line):
        value: Any = context
        for part in path.split("."):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif not isinstance(value, Mapping) and hasattr(value, part):
                value = getattr(value, part)
            else:
                break
        else:
            if value is None:
                return str(path)
    return None


def _template_line(template: Template, tb: TracebackType | None) -> int | None:
    """Return the template line the exception came from (Jinja rewrites tracebacks to it)."""
    line = None
    while tb is not None:
        if template.filename and tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _source_line(template: Template, line_number: int | None) -> str | None:
    if not line_number or not template.filename:
        return None
    try:
        lines = Path(template.filename).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return lines[line_number - 1] if 0 < line_number <= len(lines) else None


def preflight(
    store: TemplateStore,
    name: str,
    recipients: Iterable[tuple[str, str | None, Mapping[str, Any]]],
    *,
    family: str = EMAIL,
    max_errors: int = 20,
    require_unsubscribe: bool = True,
    on_rendered: Callable[[str, RenderedEmail], None] | None = None,
) -> int:
    """Render email ``name`` for every recipient, sending nothing, and report every problem.

    All recipients are rendered even after failures, so one run shows every distinct problem.
    The template itself is checked first: its default locale must have all three parts, and no
    locale may be half-made (it would silently fall back to another language).

    Args:
        store: the templates.
        name: the email template, e.g. ``reunion`` (or ``invite`` in the ``invite`` family).
        recipients: (ref, locale, context) per recipient; ref names the recipient in errors
            (an external id or Delivery id, not an address).
        family: ``email`` (campaigns) or ``invite`` (event mailings).
        max_errors: at most this many failures are listed (all are counted).
        require_unsubscribe: also fail a recipient whose text or HTML does not show their
            ``links.unsubscribe`` URL (every marketing email must).
        on_rendered: given (ref, email) for each recipient that rendered, so a caller can keep
            the work for the send instead of rendering twice.

    Returns:
        The number of recipients rendered.

    Raises:
        PreflightError: any template or recipient problem; nothing should be sent.
    """
    if max_errors < 1:
        raise ValueError(f"max_errors must be at least 1, not {max_errors}")
    template_failures = _template_problems(store, family, name)
    if not store.locales(name, family=family):
        raise PreflightError(template_failures)
    first_of_problem: dict[tuple[str, str | None, str], int] = {}
    kept: dict[int, tuple[str, RenderError]] = {}
    repeats: list[int] = []
    failed = checked = 0
    for index, (ref, locale, context) in enumerate(recipients):
        checked += 1
        try:
            email = store.render_email(name, locale, context, family=family)
            if require_unsubscribe:
                _check_unsubscribe(email, f"{family}/{name}", locale, context)
            if on_rendered is not None:
                on_rendered(ref, email)
        except RenderError as error:
            failed += 1
            key = error.cause
            if key not in first_of_problem:
                first_of_problem[key] = index
                kept[index] = (ref, error)
            else:
                kept[first_of_problem[key]][1].alike += 1
                if len(repeats) < max_errors:
                    repeats.append(index)
                    error.alike = 0
                    kept[index] = (ref, error)
    if template_failures or failed:
        # Every distinct problem first, then repeats of them, within max_errors.
        firsts = sorted(first_of_problem.values())
        chosen = firsts[: max(max_errors - len(template_failures), 0)]
        chosen += repeats[: max(max_errors - len(template_failures) - len(chosen), 0)]
        failures = template_failures + [kept[index] for index in sorted(chosen)]
        raise PreflightError(failures[:max_errors], failed=failed, checked=checked)
    return checked


def _template_problems(
    store: TemplateStore, family: str, name: str
) -> list[tuple[str, RenderError]]:
    problems: list[tuple[str, RenderError]] = []
    try:
        missing_parts = store.incomplete_locales(name, family=family)
        complete = store.locales(name, family=family)
    except RenderError as error:
        return [(TEMPLATE_REF, error)]
    default = store.default_locale
    if not complete and not missing_parts:
        message = (
            f"no such {family} template under {store.root}; "
            f"create {family}/{name}/{default}.{{subject,txt,html}}.j2"
        )
        return [(TEMPLATE_REF, RenderError(f"{family}/{name}", None, None, message))]
    if default.lower() not in {locale.lower() for locale in complete}:
        lacking = next(
            (parts for locale, parts in missing_parts.items() if locale.lower() == default.lower()),
            list(PARTS),
        )
        for part in lacking:
            message = (
                f"the file is missing; every alum whose locale has no template falls back to "
                f"{default}, so create it"
            )
            template = f"{family}/{name}/{default}.{part}.j2"
            problems.append((TEMPLATE_REF, RenderError(template, None, None, message)))
    for locale, lacking in missing_parts.items():
        if locale.lower() == default.lower():
            continue
        present = ", ".join(part for part in PARTS if part not in lacking)
        for part in lacking:
            message = (
                f"the file is missing while {locale} has {present}; alumni in {locale} would get "
                f"another language: create it or remove the other {locale} files"
            )
            problems.append(
                (
                    TEMPLATE_REF,
                    RenderError(f"{family}/{name}/{locale}.{part}.j2", locale, None, message),
                )
            )
    return problems


def _check_unsubscribe(
    email: RenderedEmail, where: str, locale: str | None, context: Mapping[str, Any]
) -> None:
    links = context.get("links")
    if isinstance(links, Mapping):
        url = links.get("unsubscribe")
    else:
        url = getattr(links, "unsubscribe", None)
    prefix = f"{where}/{email.locale}"
    if not url:
        raise RenderError(
            template=prefix,
            locale=locale,
            variable="links.unsubscribe",
            message="the context has no unsubscribe link; the campaign must provide one",
        )
    for part, body, shown in (("html", email.html, str(escape(url))), ("txt", email.text, url)):
        if shown not in body:
            raise RenderError(
                template=f"{prefix}.{part}.j2",
                locale=locale,
                variable="links.unsubscribe",
                message=(
                    "the message does not show the unsubscribe link; "
                    "add {{ links.unsubscribe }} where readers can see it"
                ),
            )
