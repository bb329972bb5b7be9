"""The mail corpus (``corpus/``): its manifest, and its samples filled in for a delivery.

Samples that must match one of our deliveries carry placeholders (``{{RETURN_PATH}}``,
``{{MESSAGE_ID}}``, ``{{ADDRESS}}``, ...) that ``sample`` replaces, so a signed return-path
token is made at test time with the test's own key.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alumni.delivery.sending import UNSUBSCRIBE
from alumni.messages.signing import make_return_token, make_token

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads(
    (CORPUS / "expected.toml").read_text(encoding="utf-8")
)


@dataclass(frozen=True)
class Filling:
    """What a sample's placeholders become."""

    address: str
    message_id: str
    return_path: str
    office: str = "alumni@school.example"
    unsubscribe_token: str = "no-token"
    event_uid: str = "no-event@school.example"
    dtstamp: str = "20250610T080000Z"


def filling(
    key: bytes,
    delivery_id: int,
    *,
    address: str,
    message_id: str,
    return_path: tuple[str, str] = ("alumni-bounces", "school.example"),
    **more: str,
) -> Filling:
    """The filling for one delivery: its signed return path and unsubscribe token."""
    local, domain = return_path
    return Filling(
        address=address,
        message_id=message_id,
        return_path=f"{local}+{make_return_token(key, delivery_id)}@{domain}",
        unsubscribe_token=make_token(key, UNSUBSCRIBE, str(delivery_id)),
        **more,
    )


def is_template(name: str) -> bool:
    """Whether the sample has placeholders (and so can be tied to a delivery of a test's)."""
    return b"{{" in (CORPUS / name).read_bytes()


def sample(name: str, fill: Filling) -> bytes:
    """The sample's bytes with its placeholders filled."""
    raw = (CORPUS / name).read_bytes()
    for field, value in asdict(fill).items():
        raw = raw.replace(f"{{{{{field.upper()}}}}}".encode(), value.encode())
    assert b"{{" not in raw, f"{name}: a placeholder was left unfilled"
    return raw
