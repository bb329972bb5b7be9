"""How a flow run ends, said in words an officer reads in the Prefect UI.

- ``completed(message, data)``: the Completed state whose message says what happened ("17
  sent, 51 wait for their local morning..."); its data is what the flow returned before, so a
  caller of the flow (the command line, a parent flow, a test) still gets the same dict.
- ``failed_run(cause, what_to_do)``: the Failed state whose message is the one-line cause,
  and a markdown report artifact saying what failed and what to do. The exception, when
  there is one, is the state's data: a caller of the flow gets it raised as before.
- ``reported(report_key, what_to_do)``: put under ``@flow``; any exception in the flow ends
  it with ``failed_run`` (a failed preflight as its grouped report, a stopped campaign with
  how to resume it), the traceback in the run's logs only (at debug level for a cause said in
  one line: a server that cannot be reached or refuses the login, a failed preflight).

Example:
    >>> @flow(name="due-campaigns")  # doctest: +SKIP
    ... @reported("due-campaigns-failure", "run it again; nothing is sent twice")
    ... def due_campaigns() -> dict[str, Any]:
    ...     return completed("nothing due", {})
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed, Failed

from alumni.delivery.preflight_report import PreflightReport
from alumni.delivery.progress import CampaignStopped
from alumni.messages.rendering import PreflightError
from connectors.imap import ImapConfigError
from connectors.smtp import SmtpConnectError
from connectors.social import SocialConnectError

# A configuration that cannot work: the one line says it all (which server, what to fix), so
# the run ends ``Misconfigured`` and the traceback goes to the debug log only.
MISCONFIGURED = "Misconfigured"
CANNOT_WORK = (SmtpConnectError, ImapConfigError, SocialConnectError)
SAID = (*CANNOT_WORK, PreflightError, CampaignStopped)

P = ParamSpec("P")
R = TypeVar("R")
TRACEBACK_NOTE = "The traceback, for whoever maintains the flows, is in this run's logs."


def completed(message: str, data: R) -> R:
    """A Completed state saying ``message`` (also logged), carrying ``data`` as the result.

    Typed as ``data``: a flow returns this state, and Prefect hands whoever called the flow
    the state's data, so the flow keeps its return type for its callers.
    """
    get_run_logger().info(message)
    return cast(R, Completed(message=message, data=data))


def failed_run(
    cause: str,
    what_to_do: str,
    *,
    report_key: str | None = None,
    details: str = "",
    error: BaseException | None = None,
    name: str = "Failed",
) -> State[Any]:
    """A Failed state whose message is ``cause`` (one line), after writing the report artifact.

    Args:
        cause: what failed, one line; first in the report and the state's message.
        what_to_do: what the officer does about it, in words.
        report_key: the artifact's key (lowercase letters, digits, dashes), so the latest
            failure of a campaign or flow is found under one name; None: only on the run.
        details: markdown under the cause (the grouped preflight table, a campaign's note).
        error: the exception, kept as the state's data: calling the flow raises it.
        name: the state's name (``Misconfigured`` for a configuration that cannot work).
    """
    line = " ".join(cause.split())
    markdown = "\n".join(
        [f"# {name}: {line}", "", "## What to do", "", what_to_do, "", details, TRACEBACK_NOTE]
    )
    create_markdown_artifact(
        markdown=markdown + "\n", key=report_key, description=f"Why this run failed: {line}"
    )
    get_run_logger().error("%s. What to do: %s", line, what_to_do)
    return Failed(name=name, message=line, data=error)


def explain(
    error: BaseException,
    parameters: dict[str, Any],
    what_to_do: str,
    *,
    report_key: str | None = None,
) -> State[Any]:
    """The failed state (and report) for ``error`` raised by a run with ``parameters``."""
    campaign_id = parameters.get("campaign_id")
    if isinstance(error, PreflightError):
        report = PreflightReport.of(error, campaign_id=campaign_id)
        return failed_run(
            report.cause,
            report.what_to_do,
            details=report.markdown(),
            error=error,
            report_key=report_key,
        )
    if isinstance(error, CampaignStopped):
        note = "\n".join(f"    {line}" for line in (error.note or "").splitlines())
        return failed_run(
            str(error),
            "Nothing was sent. Fix what the campaign's note says (below), then "
            f"`alumni campaign resume {error.campaign_id}` (or run the class-campaign "
            "deployment with resume on): the preflight runs again and the campaign goes on.",
            details=f"The campaign's note:\n\n{note}\n" if note else "",
            error=error,
            report_key=report_key,
        )
    lines = str(error).strip().splitlines()
    cause = lines[0] if lines else type(error).__name__
    if len(lines) > 1:
        cause += " (more in the report)"
    details = "```\n" + "\n".join(lines) + "\n```\n" if len(lines) > 1 else ""
    name = MISCONFIGURED if isinstance(error, CANNOT_WORK) else "Failed"
    return failed_run(
        cause, what_to_do, details=details, error=error, report_key=report_key, name=name
    )


def cause_of(state: State[Any]) -> str:
    """The one-line cause of a failed task or flow state: the exception's own words when it
    holds one (not Prefect's "Task run encountered an exception ..." around them)."""
    error = state.result(raise_on_failure=False)
    said = str(error) if isinstance(error, BaseException) and str(error) else state.message
    return " ".join((said or state.name or "failed").split())


def reported(report_key: str, what_to_do: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """End the decorated flow function with ``failed_run`` when it raises (see the module).

    Args:
        report_key: the failure report's key, a format string over the flow's parameters
            (``campaign-{campaign_id}-failure``).
        what_to_do: what to do about an error this module has no better words for.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn, eval_str=True)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as error:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                said = isinstance(error, SAID)
                get_run_logger().log(
                    logging.DEBUG if said else logging.ERROR, "the run failed:", exc_info=True
                )
                key = report_key.format(**bound.arguments)
                return explain(error, dict(bound.arguments), what_to_do, report_key=key)

        # resolved in the flow's module: Prefect would look its types up in this one
        run.__signature__ = signature  # type: ignore[attr-defined]
        run.__annotations__ = typing.get_type_hints(fn, include_extras=True)
        return cast(Callable[P, R], run)

    return decorate
