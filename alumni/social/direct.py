"""Direct messages: one private message per delivery row, to the handle an alum gave, exactly
once, on a network that has them.

A direct-message campaign's channel is the network (``mastodon``). Its rows are planned by the
one planner (``alumni.delivery.planning``: each row's address is the alum's current handle on
that network, ``audience.decide`` skips with the same reasons as for email) and sent here on the
ledger's ``DELIVERIES`` channel:

1. ``preflight`` renders every unsent row (the social template ``social/<template>/<locale>``
   in the alum's language, checked against the network's length with the mention it goes
   out with) before anything is sent; one failure stops the campaign with every cause named
   (``alumni.delivery.batches.preflight``).
2. ``send_batch`` claims due rows (the same claim, lease, heartbeat, back-off and record as
   email), marks each handed, sends it through the connector's direct-message capability
   (``connectors.social.direct_messaging``) from the office's account on that network (the
   social settings' account) and records the answer. Its idempotency key is the row's
   Message-ID, fixed when it was planned: a message retried after a lost answer, or taken over
   after a crash (flagged ``maybe_duplicate`` like any channel), stays one message on Mastodon.
   The account is verified first: a server away puts the batch on the back-off; a token the
   server refuses stops the run at once (``SocialConnectError``), the rows given back unspent
   and the campaign's note saying why, as an SMTP login refused does for email.

Which networks have direct messages is the connector's to say (``direct_networks``); the code
never asks which connector class it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from alumni.delivery import ledger
from alumni.delivery.batches import lease_of
from alumni.delivery.batches import preflight as preflight_rows
from alumni.delivery.campaigns import stop_run
from alumni.messages.rendering import PreflightError, RenderError, TemplateStore
from alumni.models import utcnow
from alumni.settings import Settings
from alumni.social import text as social_text
from alumni.social.accounts import Account
from connectors.social import DirectMessage, SocialConnectError, SocialNetwork, direct_messaging

__all__ = ["DirectKit", "direct_networks", "preflight", "send_batch"]


def direct_networks(accounts: Sequence[Account]) -> list[str]:
    """The networks, in the accounts' order, whose connector offers direct messages (opening
    a connector sends nothing)."""
    found = []
    for account in accounts:
        client = account.open()
        try:
            if direct_messaging(client) is not None and account.network not in found:
                found.append(account.network)
        finally:
            client.close()
    return found


class DirectKit:
    """What it takes to write one campaign's direct messages: its template and the office.

    ``message(row)`` renders one claimed row as the ``DirectMessage`` it sends, checked
    against the network's length.
    """

    def __init__(self, campaign: Any, settings: Settings) -> None:
        self.network = str(campaign.channel)
        self.template = str(campaign.template)
        self.store = TemplateStore(settings.templates_dir, default_locale=settings.default_locale)
        self.office = {"name": settings.office_name}

    def message(self, row: ledger.Claimed) -> DirectMessage:
        """The message of one row.

        Raises:
            RenderError: the template failed, or the message is too long for the network.
        """
        context = {
            "alum": {
                "first_name": row.first_name,
                "last_name": row.last_name,
                "class_year": row.class_year,
                "programme": row.programme,
            },
            "cohort": {"year": row.class_year},
            "office": self.office,
        }
        rendered = self.store.render_post(self.template, row.locale, context)
        message = DirectMessage(
            key=row.message_id, to=row.address, text=rendered.text, language=rendered.locale
        )
        try:
            social_text.check_length(self.network, message.addressed_text)
        except ValueError as exc:
            raise RenderError(
                f"social/{self.template}/{rendered.locale}", row.locale, None, str(exc)
            ) from None
        return message

    def check(self, rows: Iterable[ledger.Claimed]) -> int:
        """Render every row; return how many.

        Raises:
            PreflightError: naming each row that failed and why.
        """
        failures: list[tuple[str, RenderError]] = []
        checked = 0
        for row in rows:
            checked += 1
            try:
                self.message(row)
            except RenderError as exc:
                failures.append((f"delivery {row.delivery_id} ({row.address})", exc))
        if failures:
            raise PreflightError(failures, failed=len(failures), checked=checked)
        return checked


def preflight(
    engine: Engine, campaign_id: int, *, settings: Settings, resuming: bool = False
) -> int:
    """Render every unsent row no passed preflight covered; return how many rendered.

    Raises:
        PreflightError: a row failed; the campaign is stopped, nothing was sent.
        RuntimeError: the campaign was stopped before.
    """
    with engine.connect() as connection:
        kit = DirectKit(ledger.load_campaign(connection, campaign_id), settings)
    return preflight_rows(
        engine, campaign_id, kit.check, resuming=resuming, templates=settings.templates_dir
    )


def send_batch(
    engine: Engine,
    campaign_id: int,
    accounts: Callable[[], Sequence[Account]],
    *,
    worker: str,
    settings: Settings,
) -> dict[str, int]:
    """Claim the campaign's due rows and send each from the office's account on the campaign's
    network, keeping the batch's lease while it goes out; return ``claimed`` and the count of
    each outcome (sent, transient, permanent).

    ``accounts`` gives the configured accounts (read only when a row is due); the connector is
    opened here, so no token is ever a parameter. With no account on the network the rows
    wait on the back-off, like a post whose account is gone.
    """
    lease = lease_of(settings)
    rows = ledger.claim(
        engine,
        campaign_id,
        worker=worker,
        limit=settings.send_batch_size,
        now=utcnow(),
        lease=lease,
    )
    if not rows:
        return {"claimed": 0}
    with engine.connect() as connection:
        kit = DirectKit(ledger.load_campaign(connection, campaign_id), settings)
    account = next((a for a in accounts() if a.network == kit.network), None)
    delays = [timedelta(seconds=s) for s in settings.retry_delays_seconds]
    counts = {"claimed": len(rows)}
    with ledger.Heartbeat(engine, ledger.DELIVERIES, campaign_id, worker=worker, lease=lease):
        if account is None:
            reply = (
                f"no {kit.network} account is configured (ALUMNI_{kit.network.upper()}_URL); "
                "the message waits for it to be set up"
            )
            results = [ledger.Result(r.delivery_id, "transient", reply=reply) for r in rows]
            ledger.record(
                engine, ledger.DELIVERIES, results, now=utcnow(), worker=worker, retry_delays=delays
            )
            return {**counts, "transient": len(rows)}
        client = account.open(allow_private=settings.webhook_allow_private)
        try:
            try:
                client.verify()  # a refused token stops the run at once, each row unspent
            except SocialConnectError as exc:
                if exc.transient:
                    reply, after = str(exc), exc.retry_after
                    results = [
                        ledger.Result(r.delivery_id, "transient", reply=reply, retry_after=after)
                        for r in rows
                    ]
                    ledger.record(
                        engine,
                        ledger.DELIVERIES,
                        results,
                        now=utcnow(),
                        worker=worker,
                        retry_delays=delays,
                    )
                    return {**counts, "transient": len(rows)}
                ids = [r.delivery_id for r in rows]
                stop_run(engine, ledger.DELIVERIES, campaign_id, ids, worker=worker, cause=exc)
                raise
            for row in rows:
                result = _send_one(engine, kit, client, row, worker=worker)
                if result is None:
                    continue  # another worker took it over
                ledger.record(
                    engine,
                    ledger.DELIVERIES,
                    [result],
                    now=utcnow(),
                    worker=worker,
                    retry_delays=delays,
                )
                counts[result.outcome] = counts.get(result.outcome, 0) + 1
        finally:
            client.close()
    return counts


def _send_one(
    engine: Engine, kit: DirectKit, client: SocialNetwork, row: ledger.Claimed, *, worker: str
) -> ledger.Result | None:
    """Send one claimed row; its result, or None when the row is no longer this worker's."""
    messaging = direct_messaging(client)
    if messaging is None:
        return ledger.Result(
            row.delivery_id, "permanent", reply=f"{kit.network} has no direct messages"
        )
    try:
        message = kit.message(row)
    except RenderError as exc:  # the template changed since the preflight
        return ledger.Result(row.delivery_id, "permanent", reply=f"not rendered: {exc.message}")
    if not ledger.mark_handed(
        engine, ledger.DELIVERIES, [row.delivery_id], worker=worker, now=utcnow()
    ):
        return None
    receipt = messaging.send_direct(message)
    return ledger.Result(
        row.delivery_id,
        receipt.outcome.value,
        reply=receipt.reply or "",
        retry_after=receipt.retry_after,
    )
