"""The office's social accounts and class channels, and the connector each one opens
(``connectors.social.open_social_network``: one ``SocialNetwork`` whichever the network).

Accounts come from ``ALUMNI_MASTODON_URL`` + ``ALUMNI_MASTODON_TOKEN`` and ``ALUMNI_BLUESKY_URL`` +
``ALUMNI_BLUESKY_HANDLE`` + ``ALUMNI_BLUESKY_PASSWORD``. A secret left out of the environment is
asked of ``lookup`` (the flows pass one that reads Prefect Secret blocks named
``alumni-mastodon-token`` and ``alumni-bluesky-password``). Secrets stay inside ``Account`` (its
``repr`` hides them) and the connectors; they are never logged or passed as task parameters:
flows pass account *names* and open the account where they run.

Class channels (a class's Slack, Discord or Teams group) are rows of ``ClassChannel``; their
account name is ``webhook:<id>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.models import ClassChannel, table_of
from alumni.settings import Settings
from connectors.social import SocialNetwork, open_social_network

MASTODON_TOKEN_BLOCK = "alumni-mastodon-token"  # noqa: S105 (a block name)
BLUESKY_PASSWORD_BLOCK = "alumni-bluesky-password"  # noqa: S105 (a block name)
_CH = table_of(ClassChannel)

SecretLookup = Callable[[str], str | None]


def no_lookup(_name: str) -> str | None:
    """Secrets from the environment only."""
    return None


@dataclass(frozen=True)
class Account:
    """One place a social campaign posts to.

    Attributes:
        name: "mastodon", "bluesky" or "webhook:<class channel id>".
        network: "mastodon", "bluesky" or "webhook".
        where: what a person reads to know which account it is (server, handle, masked URL).
    """

    name: str
    network: str
    where: str
    _url: str = field(repr=False)
    _user: str = field(default="", repr=False)
    _secret: str = field(default="", repr=False)
    _style: str = field(default="generic", repr=False)

    def verify(self) -> str:
        """Log in with the account's credentials, posting nothing; who the network says we are.

        Raises:
            SocialConnectError: the network cannot be reached or refused the credentials; the
                message says which and what to fix, never the secret.
        """
        client = self.open()
        try:
            return client.verify()
        finally:
            client.close()

    def open(self, *, allow_private: bool = False) -> SocialNetwork:
        """A connector for this account (close it when done).

        Args:
            allow_private: let a class channel's webhook reach private addresses
                (``ALUMNI_WEBHOOK_ALLOW_PRIVATE``).
        """
        return open_social_network(
            self.network,
            self._url,
            handle=self._user,
            secret=self._secret,
            style=self._style,
            allow_private=allow_private,
        )


def network_accounts(settings: Settings, lookup: SecretLookup = no_lookup) -> list[Account]:
    """The Mastodon and Bluesky accounts configured, in that order.

    Raises:
        ValueError: an account is half configured; names the variable to set.
    """
    accounts = []
    if settings.mastodon_url or settings.mastodon_token:
        token = _secret(settings.mastodon_token) or lookup(MASTODON_TOKEN_BLOCK)
        if not settings.mastodon_url or not token:
            missing = (
                "ALUMNI_MASTODON_URL"
                if not settings.mastodon_url
                else (f"ALUMNI_MASTODON_TOKEN (or the Prefect Secret block {MASTODON_TOKEN_BLOCK})")
            )
            raise ValueError(f"the Mastodon account is half configured: set {missing}")
        accounts.append(
            Account("mastodon", "mastodon", settings.mastodon_url, settings.mastodon_url, "", token)
        )
    if settings.bluesky_url or settings.bluesky_handle or settings.bluesky_password:
        password = _secret(settings.bluesky_password) or lookup(BLUESKY_PASSWORD_BLOCK)
        missing_names = [
            name
            for name, value in (
                ("ALUMNI_BLUESKY_URL", settings.bluesky_url),
                ("ALUMNI_BLUESKY_HANDLE", settings.bluesky_handle),
                (
                    "ALUMNI_BLUESKY_PASSWORD (or the Prefect Secret block "
                    f"{BLUESKY_PASSWORD_BLOCK})",
                    password,
                ),
            )
            if not value
        ]
        if missing_names:
            raise ValueError(
                f"the Bluesky account is half configured: set {', '.join(missing_names)}"
            )
        assert settings.bluesky_url and settings.bluesky_handle and password
        accounts.append(
            Account(
                "bluesky",
                "bluesky",
                f"{settings.bluesky_handle} on {settings.bluesky_url}",
                settings.bluesky_url,
                settings.bluesky_handle,
                password,
            )
        )
    return accounts


def class_channels(connection: Connection, class_year: int) -> list[Account]:
    """The webhook channels of one class year."""
    rows = connection.execute(
        sa.select(_CH).where(_CH.c.class_year == class_year).order_by(_CH.c.id)
    )
    return [channel_account(row) for row in rows]


def channel_account(row: sa.Row[tuple[object, ...]] | ClassChannel) -> Account:
    return Account(
        f"webhook:{row.id}",
        "webhook",
        f"{row.name} ({row.style}, {masked_url(str(row.url))})",
        str(row.url),
        _style=str(row.style),
    )


def masked_url(url: str) -> str:
    """A webhook URL with its secret path hidden: https://hooks.slack.com/…"""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…"


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else None
