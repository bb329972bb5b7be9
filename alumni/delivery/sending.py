"""Turn claimed deliveries into messages and hand them to a mail transport.

Per campaign, everything constant is prepared once (``CampaignKit``: the class's numbers, the
MIME skeleton, the templates, the signers of its links); per recipient only the signatures, the
template render and the MIME assembly run, and all of it but the Date can be done ahead
(``CampaignKit.prepare``, ``finish``).
Every email the office sends is composed here: an event mailing is a ``CampaignKit`` subclass
(``alumni.events.mailing_kit.EventKit``) that adds to the context and the MIME parts through
the ``context`` and ``extra_parts`` hooks, and so is a monthly digest
(``alumni.delivery.digest_kit.DigestKit``), and so is a notice about an alum's request
(``alumni.delivery.request_kit.RequestKit``), and so is a class's digest to its ambassadors
(``alumni.delivery.ambassador_kit.AmbassadorDigestKit``); ``kit_for`` picks a campaign's kit.
``send_claimed`` hands claimed rows to a mail transport a group at a time, each group marked
handed on the ledger first, and results go to the ledger through a ``ReceiptBuffer`` as the
server answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from functools import cached_property
from typing import Any, Self
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery import ledger
from alumni.delivery.audience import DIGEST_TEMPLATE
from alumni.delivery.receipts import MAX_HANDED, ReceiptBuffer
from alumni.messages.mime import (
    DkimKey,
    MessageSkeleton,
    MimePart,
    PreparedMessage,
    Sender,
    verp_address,
)
from alumni.messages.page_links import PAGES, page_linker
from alumni.messages.rendering import (
    EMAIL,
    PreflightError,
    RenderedEmail,
    RenderError,
    TemplateStore,
    preflight,
)
from alumni.messages.signing import return_token_maker, token_maker
from alumni.models import Alumnus, table_of
from alumni.people.names import full_name, greeting_name
from alumni.settings import Settings
from connectors.mail import MailTransport, OutgoingMail, Receipt

MILESTONES = (5, 10, 15, 20, 25, 30, 40, 50)
UNSUBSCRIBE = "unsubscribe"
PREFLIGHT_LISTED = 20  # failing recipients a PreflightError lists (all are counted)
_A = table_of(Alumnus)


def next_milestone(years_since: int) -> int | None:
    """The reunion milestone this year or next: 10 for a class 7 years out, None after 50."""
    return next((m for m in MILESTONES if m >= years_since), None)


def cohort_numbers(connection: Connection, class_year: int, *, now: datetime) -> dict[str, Any]:
    """The class's own numbers that templates show."""
    living = _A.c.status.not_in(("deceased", "erased"))
    classmates, countries = connection.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(_A.c.country))).where(
            _A.c.class_year == class_year, living
        )
    ).one()
    years_since = now.year - class_year
    milestone = next_milestone(years_since)
    return {
        "year": class_year,
        "classmates": classmates,
        "years_since": years_since,
        "next_milestone": milestone,
        "next_milestone_year": class_year + milestone if milestone else None,
        "countries": countries,
    }


@dataclass(frozen=True, slots=True)
class ExtraParts:
    """MIME parts a kind of mailing adds to one message: alternatives after the HTML (e.g.
    ``text/calendar``), attachments beside them (e.g. ``invite.ics``)."""

    alternatives: Sequence[MimePart] = ()
    attachments: Sequence[MimePart] = ()


NO_EXTRA_PARTS = ExtraParts()


@dataclass(frozen=True, slots=True)
class PreparedMail:
    """One recipient's message but for its Date (``CampaignKit.prepare``): what the send
    workers' preflight keeps, so that sending only dates it."""

    delivery_id: int
    envelope_from: str
    recipient: str
    message: PreparedMessage


@dataclass
class CampaignKit:
    """What one campaign's messages share, built once per run.

    Subclasses (event mailings) override :meth:`context` and :meth:`extra_parts`; compose,
    preflight, headers, VERP, List-Unsubscribe and DKIM stay the ones here.
    """

    campaign_id: int
    template: str
    store: TemplateStore
    skeleton: MessageSkeleton
    shared: dict[str, Any]  # cohort, campaign, office
    key: bytes = field(repr=False)  # the link-signing key: never in a repr or a log
    base_url: str
    sender: Sender
    bounce_local: str  # the return path is bounce_local+<signed token>@bounce_domain
    bounce_domain: str
    domain: str
    links_from: datetime  # the page links of this kit's messages work for 90 days from here
    family: str = EMAIL  # the template folder: ``email``, or ``invite`` for event mailings
    renders: int = 0  # messages ``compose`` rendered (not given them rendered): a run reports it

    @classmethod
    def build(
        cls,
        connection: Connection,
        campaign: Any,
        *,
        settings: Settings,
        now: datetime,
        **more: Any,
    ) -> Self:
        """Read and prepare what every message of ``campaign`` shares.

        ``more`` sets further fields (``family``, or a subclass's own).

        Raises:
            ValueError: ALUMNI_FROM has no address.
        """
        local, domain = settings.sender_address()
        address = f"{local}@{domain}"
        sender = Sender(address=address, name=parseaddr(settings.sender)[0])
        bounce_local, bounce_domain = settings.return_path()
        dkim = None
        if settings.dkim_selector and settings.dkim_key_file:
            dkim = DkimKey(
                selector=settings.dkim_selector,
                domain=settings.dkim_domain or domain,
                private_key_pem=settings.dkim_key_file.read_bytes(),
            )
        list_id = f"class-{campaign.class_year}.{domain}"
        skeleton = MessageSkeleton(
            sender=sender, list_id=list_id, list_name=f"Class of {campaign.class_year}", dkim=dkim
        )
        shared = {
            "cohort": cohort_numbers(connection, campaign.class_year, now=now),
            "campaign": {"name": campaign.name},
            "office": {
                "name": settings.office_name,
                "email": address,
                "postal_address": settings.postal_address,
            },
        }
        return cls(
            campaign_id=campaign.id,
            template=campaign.template,
            store=TemplateStore(settings.templates_dir, default_locale=settings.default_locale),
            skeleton=skeleton,
            shared=shared,
            key=settings.signing_key(),
            base_url=settings.base_url.rstrip("/"),
            sender=sender,
            bounce_local=bounce_local,
            bounce_domain=bounce_domain,
            domain=domain,
            links_from=now,
            **more,
        )

    @cached_property
    def _unsubscribe_token(self) -> Callable[[str], str]:
        """Makes a delivery's unsubscribe token (key and purpose checked once per kit)."""
        return token_maker(self.key, UNSUBSCRIBE)

    @cached_property
    def _return_token(self) -> Callable[[int], str]:
        """Makes a delivery's return-path token (key checked once per kit)."""
        return return_token_maker(self.key)

    @cached_property
    def _page_links(self) -> dict[str, Callable[[int], str]]:
        """Make an alum's page links, by page (``alumni.messages.page_links``), once per kit."""
        return {
            page: page_linker(self.key, self.base_url, page, now=self.links_from) for page in PAGES
        }

    def context(self, row: ledger.Claimed, token: str | None = None) -> dict[str, Any]:
        """The template context of one recipient (see ``alumni.messages.rendering``), a new
        dict each call; a subclass adds to it.

        ``links`` holds the unsubscribe link and the signed links to the alum's own pages
        (``preferences``, ``details``, ``request``: ``alumni.messages.page_links``).
        """
        token = token or self._unsubscribe_token(str(row.delivery_id))
        pages = {page: link(row.alumnus_id) for page, link in self._page_links.items()}
        return {
            **self.shared,
            "alum": {
                "first_name": row.first_name,
                "last_name": row.last_name,
                # Names in the alum's order (``alumni.people.names``): "Tanaka Hiroshi".
                "display_name": full_name(
                    row.first_name, row.last_name, locale=row.locale, country=row.country
                ),
                "greeting_name": greeting_name(
                    row.first_name, row.last_name, locale=row.locale, country=row.country
                ),
                "class_year": row.class_year,
                "programme": row.programme,
                "city": row.city,
                "country": row.country,
            },
            "links": {"unsubscribe": f"{self.base_url}/unsubscribe/{token}", **pages},
        }

    def extra_parts(self, row: ledger.Claimed, *, now: datetime) -> ExtraParts:
        """The MIME parts this kind of mailing adds to ``row``'s message: none for a campaign."""
        return NO_EXTRA_PARTS

    def compose(self, row: ledger.Claimed, *, now: datetime) -> OutgoingMail:
        """Render and assemble one recipient's message, dated ``now``.

        Raises:
            RenderError: the template failed for this recipient (the preflight finds it first).
            ValueError: the MIME checks or an extra part refused it (named).
        """
        return self.finish(self.prepare(row, now=now), now)

    def prepare(
        self, row: ledger.Claimed, *, now: datetime, rendered: RenderedEmail | None = None
    ) -> PreparedMail:
        """Render (unless ``rendered`` is given) and assemble one recipient's message but for
        its Date: what a preflight can do ahead of sending (``alumni.delivery.send_workers``).

        Raises:
            RenderError: the template failed for this recipient.
            ValueError: the MIME checks or an extra part refused it (named).
        """
        token = self._unsubscribe_token(str(row.delivery_id))
        email = rendered
        if email is None:
            email = self.store.render_email(
                self.template, row.locale, self.context(row, token), family=self.family
            )
            self.renders += 1
        extra = self.extra_parts(row, now=now)
        message = self.skeleton.prepare(
            to_address=row.address,
            to_name=full_name(
                row.first_name, row.last_name, locale=row.locale, country=row.country
            ),
            subject=email.subject,
            text=email.text,
            html=email.html,
            message_id=row.message_id,
            unsubscribe_url=f"{self.base_url}/unsubscribe/{token}",
            unsubscribe_mailto=(
                f"mailto:{self.sender.address}?subject={quote('unsubscribe ' + token)}"
            ),
            extra_alternatives=extra.alternatives,
            attachments=extra.attachments,
        )
        return PreparedMail(
            delivery_id=row.delivery_id,
            envelope_from=verp_address(
                self.bounce_local, self.bounce_domain, self._return_token(row.delivery_id)
            ),
            recipient=row.address,
            message=message,
        )

    def finish(self, prepared: PreparedMail, now: datetime) -> OutgoingMail:
        """The message of ``prepared``, dated ``now`` (and DKIM-signed), ready to send."""
        return OutgoingMail(
            key=prepared.delivery_id,
            envelope_from=prepared.envelope_from,
            recipient=prepared.recipient,
            data=self.skeleton.finish(prepared.message, now),
        )

    def preflight(
        self,
        rows: Iterable[ledger.Claimed],
        on_rendered: Callable[[int, RenderedEmail], None] | None = None,
    ) -> int:
        """Render every recipient without sending; raise PreflightError listing every failing
        recipient (``delivery <id>``) with the template and variable, also one whose context
        a subclass could not make (a digest none of whose items renders).

        ``on_rendered`` gets (delivery id, rendered email) for each recipient that rendered.
        """
        keep = None
        if on_rendered is not None:
            callback = on_rendered

            def keep(ref: str, email: RenderedEmail) -> None:
                callback(int(ref.rsplit(" ", 1)[1]), email)

        no_context: list[tuple[str, RenderError]] = []

        def recipients() -> Iterator[tuple[str, str | None, dict[str, Any]]]:
            for row in rows:
                ref = f"delivery {row.delivery_id}"
                try:
                    context = self.context(row)
                except RenderError as exc:
                    no_context.append((ref, exc))
                    continue
                yield ref, row.locale, context

        try:
            checked = preflight(
                self.store, self.template, recipients(), family=self.family, on_rendered=keep
            )
        except PreflightError as exc:
            if not no_context:
                raise
            raise PreflightError(
                (exc.failures + no_context)[:PREFLIGHT_LISTED],
                failed=exc.failed + len(no_context),
                checked=exc.checked + len(no_context),
            ) from None
        if no_context:
            raise PreflightError(
                no_context[:PREFLIGHT_LISTED],
                failed=len(no_context),
                checked=checked + len(no_context),
            )
        return checked

    def compose_many(
        self,
        rows: Sequence[ledger.Claimed],
        *,
        now: datetime,
        prepared: Mapping[int, PreparedMail] | None = None,
    ) -> list[Composed]:
        """Compose each row dated ``now``, finishing what ``prepared`` holds (by delivery id)
        instead of rendering it again."""
        known = prepared or {}

        def one(row: ledger.Claimed) -> OutgoingMail:
            ready = known.get(row.delivery_id)
            return self.compose(row, now=now) if ready is None else self.finish(ready, now)

        return compose_each(one, rows)


def kit_for(
    connection: Connection, campaign: Any, *, settings: Settings, now: datetime
) -> CampaignKit:
    """The kit that composes ``campaign``'s emails: a ``DigestKit`` for a monthly digest, a
    ``RequestKit`` for a notice about an alum's request, an ``AmbassadorDigestKit`` for a
    class's digest to its ambassadors, else a ``CampaignKit``. Every place that sends or
    previews a campaign builds its kit here.

    Raises:
        ValueError: ALUMNI_FROM has no address, or a digest campaign has no month.
    """
    # imported here: the kits are CampaignKits, defined on top of this module
    from alumni.delivery.ambassador_kit import AmbassadorDigestKit, ambassador_digest_of
    from alumni.delivery.digest_kit import DigestKit
    from alumni.delivery.request_kit import RequestKit, notice_of

    if campaign.template == DIGEST_TEMPLATE:
        return DigestKit.for_campaign(connection, campaign, settings=settings, now=now)
    digest = ambassador_digest_of(connection, campaign.id)
    if digest is not None:
        return AmbassadorDigestKit.for_digest(
            connection, campaign, digest, settings=settings, now=now
        )
    notice = notice_of(connection, campaign.id)
    if notice is not None:
        return RequestKit.for_notice(connection, campaign, notice, settings=settings, now=now)
    return CampaignKit.build(connection, campaign, settings=settings, now=now)


@dataclass(frozen=True, slots=True)
class Refused:
    """A delivery whose message could not be made (e.g. an address the MIME checks refuse)."""

    delivery_id: int
    reason: str


Composed = OutgoingMail | Refused


def compose_each(
    compose: Callable[[ledger.Claimed], OutgoingMail], rows: Iterable[ledger.Claimed]
) -> list[Composed]:
    """Compose each row; a row the MIME checks refuse becomes its error text."""
    composed: list[Composed] = []
    for row in rows:
        try:
            composed.append(compose(row))
        except ValueError as exc:
            composed.append(Refused(row.delivery_id, str(exc)))
    return composed


# Rows composed at a time while the transport takes a group: small, so the first message of a
# group reaches a connection soon after the group is handed over.
COMPOSE_CHUNK = 10


# Waits until the relay takes this many more messages (the office's rate limit).
Throttle = Callable[[int], None]


def send_claimed(
    compose: Callable[[Sequence[ledger.Claimed]], list[Composed]],
    rows: Sequence[ledger.Claimed],
    *,
    transport: MailTransport,
    buffer: ReceiptBuffer,
    throttle: Throttle | None = None,
) -> dict[str, int]:
    """Compose and send claimed rows; every row handed over ends with a result in ``buffer``.

    Rows go to the transport ``MAX_HANDED`` at a time, each group marked handed in one UPDATE
    just before (the in-flight bound: ``alumni.delivery.receipts``); a row another worker has
    taken over meanwhile is not sent. ``compose`` turns a chunk of rows into messages as the
    transport takes them, so the connections send while the rest are still being rendered. A
    row that cannot be composed fails for good with its reason. With ``throttle``, each group
    waits for ``throttle(len(group))`` before it is handed over. Returns the buffer's counts
    by outcome.

    Raises:
        SmtpConnectError: from the transport, when no connection could be opened at all: the
            rows of that group and after have no result (give them back with
            ``ledger.release``).
    """

    def on_receipt(receipt: Receipt) -> None:
        buffer.add(
            ledger.Result(
                receipt.key,
                receipt.outcome.value,
                reply=receipt.reply,
                address=addresses.get(receipt.key),
                enhanced_status=receipt.enhanced_status,
            )
        )

    def mails(group: Sequence[ledger.Claimed]) -> Iterator[OutgoingMail]:
        for start in range(0, len(group), COMPOSE_CHUNK):
            for item in compose(group[start : start + COMPOSE_CHUNK]):
                if isinstance(item, Refused):
                    buffer.add(ledger.Result(item.delivery_id, "permanent", reply=item.reason))
                else:
                    yield item

    addresses = {row.delivery_id: row.address for row in rows}
    try:
        for start in range(0, len(rows), MAX_HANDED):
            group = rows[start : start + MAX_HANDED]
            if throttle is not None:
                throttle(len(group))
            held = buffer.hand_over([row.delivery_id for row in group])
            transport.send(mails([row for row in group if row.delivery_id in held]), on_receipt)
    finally:
        buffer.flush()
    return dict(buffer.counts)
