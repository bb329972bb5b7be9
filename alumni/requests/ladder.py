"""The escalation ladder: which officers' notices are due for the desk's open requests, and
firing each of them once.

Contract stage: the signatures the other engineers code against; the bodies come next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from alumni.settings import Settings

RUNGS = ("reminder", "lead", "director")


@dataclass(frozen=True, slots=True)
class Rung:
    """One step of the ladder for one deadline of one request.

    Attributes:
        request_id: the request.
        deadline_kind: ``first_response``, ``next_update`` or ``resolution``.
        deadline: the deadline instant this rung belongs to (a moved deadline makes new rungs).
        rung: ``reminder`` (75% of the SLA time), ``lead`` (the breach), ``director``
            (``director_after`` later), ``repeat-N`` (welfare: every ``escalate_every``).
        level: 1 reminder, 2 lead, 3 director, 3 + N for ``repeat-N``.
        recipients: who is emailed.
        due_at: when the rung fires.
    """

    request_id: int
    deadline_kind: str
    deadline: datetime
    rung: str
    level: int
    recipients: tuple[str, ...]
    due_at: datetime


@dataclass
class EscalationSummary:
    """What one run of the ladder did."""

    planned: int = 0  # notice rows inserted by this run
    sent: int = 0
    failed: int = 0
    fired: list[Rung] = field(default_factory=list)


def due_rungs(
    requests: Iterable[Any],
    *,
    now: datetime,
    types: Mapping[str, Any],
    calendar: Any,
    settings: Settings,
) -> list[Rung]:
    """Every rung due at ``now`` for these open requests, in the order they fell due (pure)."""
    return []


def escalate(engine: Engine, *, now: datetime, settings: Settings) -> EscalationSummary:
    """Plan every rung due at ``now`` as a ledger row (each once) and send what is due."""
    return EscalationSummary()
