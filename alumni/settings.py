"""Configuration: one pydantic-settings object read from ``ALUMNI_*`` environment variables.

Every setting has a default that works on one machine with no configuration (an SQLite
``alumni.db`` in the working directory, a Maildir outbox). Secrets are never given defaults in
code: when ``ALUMNI_SECRET_KEY`` is unset, a random key is created once in a file beside the
database (mode 0600) and reused, so signed links keep working across restarts.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The whole configuration of alumni-outreach. Each field is ``ALUMNI_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ALUMNI_", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///alumni.db",
        description="SQLAlchemy URL of the database: sqlite:///path or postgresql+psycopg://...",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs links (unsubscribe, RSVP); unset: kept in secret_key_file.",
    )
    secret_key_file: Path = Field(
        default=Path(".alumni-secret"),
        description="Where the generated secret key is kept when ALUMNI_SECRET_KEY is unset.",
    )
    office_timezone: str = Field(
        default="UTC",
        description="The office's IANA time zone, used for alumni whose own zone is unknown.",
    )
    default_locale: str = Field(default="en", description="Locale used when an alum has none.")
    stale_after_days: int = Field(
        default=3 * 365,
        ge=1,
        description="A contact detail not verified for this many days counts as stale.",
    )
    import_batch_size: int = Field(
        default=5000, ge=1, description="Rows written per batch by `alumni import`."
    )
    sender: str = Field(
        default="Alumni Office <alumni@school.example>",
        alias="ALUMNI_FROM",
        description="The From of every email: 'Display Name <address>'.",
    )
    office_name: str = Field(default="Alumni Office", description="Shown in templates.")
    postal_address: str = Field(
        default="1 College Road, Springfield", description="The office's postal address (footer)."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of `alumni serve`, where unsubscribe and RSVP links point.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://[user:pass@]host:port[?tls=starttls|ssl|none]; unset: Maildir outbox.",
    )
    smtp_connections: int = Field(default=4, ge=1, le=32, description="Parallel SMTP connections.")
    outbox_dir: Path = Field(
        default=Path("outbox"), description="The Maildir written when ALUMNI_SMTP_URL is unset."
    )
    templates_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "templates",
        description="Folder of the Jinja2 templates.",
    )
    dkim_selector: str | None = Field(default=None, description="DKIM selector; set to sign.")
    dkim_domain: str | None = Field(default=None, description="DKIM signing domain (d=).")
    dkim_key_file: Path | None = Field(default=None, description="PEM private key for DKIM.")
    contact_budget: int = Field(
        default=4, ge=1, description="At most this many news/event messages a person ..."
    )
    contact_budget_days: int = Field(default=30, ge=1, description="... in this many days.")
    require_consent: bool = Field(
        default=False,
        description="Skip alumni with no recorded consent for a purpose (not only refusals).",
    )
    send_workers: int = Field(
        default=os.cpu_count() or 1,
        ge=0,
        description="Processes that compose and send big campaigns (0: all in the flow's own).",
    )
    send_batch_size: int = Field(default=5000, ge=1, description="Deliveries per send task.")
    retry_delays_seconds: list[int] = Field(
        default=[60, 300, 1800, 7200],
        description="Waits before retrying a temporarily refused message (JSON list).",
    )
    claim_lease_seconds: int = Field(
        default=30,
        ge=3,
        description="A claim not renewed for this long is taken over: its worker died. A live "
        "worker renews its claims every third of it, however slow its batch.",
    )
    mastodon_url: str | None = Field(default=None, description="Mastodon server of the office.")
    mastodon_token: SecretStr | None = Field(
        default=None, description="Its access token (or Prefect Secret alumni-mastodon-token)."
    )
    bluesky_url: str | None = Field(
        default=None, description="Bluesky PDS of the office, e.g. https://bsky.social."
    )
    bluesky_handle: str | None = Field(default=None, description="The office's Bluesky handle.")
    bluesky_password: SecretStr | None = Field(
        default=None, description="Its app password (or Prefect Secret alumni-bluesky-password)."
    )
    social_window_hours: int = Field(
        default=24, ge=1, description="A social campaign's posts must go out within this."
    )
    webhook_allow_private: bool = Field(
        default=False, description="Let class webhooks reach private addresses (tests only)."
    )

    @field_validator("office_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"ALUMNI_OFFICE_TIMEZONE={value!r} is not an IANA time zone "
                "(use a name like Europe/London)"
            ) from exc
        return value

    def signing_key(self) -> bytes:
        """Return the key that signs links, creating the key file on first use."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ValueError("ALUMNI_SECRET_KEY must be at least 32 characters long")
            return value.encode()
        path = self.secret_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings read from the environment (cached; tests call ``cache_clear``)."""
    return Settings()
