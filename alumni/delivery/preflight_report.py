"""A campaign's failed preflight as an officer reads it: one line per cause, not per recipient.

``PreflightError`` (``alumni.messages.rendering``) already groups its failures by cause (the
template file, the variable, the message) with how many recipients each hit; the campaign's
note and the command line show that text. This module adds what a run's failure report
needs: the one-line cause for the run's state, what to do (fix, then resume), and a markdown
table of the causes for the report artifact. No address or personal data: recipients are
named by delivery id.

Example:
    >>> report = PreflightReport.of(error, campaign_id=12)  # doctest: +SKIP
    >>> report.cause  # doctest: +SKIP
    "campaign 12: preflight failed: 74 of 200 recipients could not be rendered: 74 recipients: ..."
"""

from __future__ import annotations

from dataclasses import dataclass

from alumni.messages.rendering import TEMPLATE_REF, Cause, PreflightError


@dataclass(frozen=True)
class PreflightReport:
    """What failed in a preflight and what to do, for one campaign (or a run of several)."""

    campaign_id: int | None
    summary: str
    causes: tuple[Cause, ...]
    unexplained: int

    @classmethod
    def of(cls, error: PreflightError, *, campaign_id: int | None = None) -> PreflightReport:
        return cls(
            campaign_id=campaign_id,
            summary=error.summary(),
            causes=tuple(error.causes()),
            unexplained=error.unexplained(),
        )

    @property
    def cause(self) -> str:
        """One line: the campaign, the head count and the first cause (``and N more causes``)."""
        who = f"campaign {self.campaign_id}: " if self.campaign_id is not None else ""
        line = f"{who}preflight failed: {self.summary}"
        if self.causes:
            line += f": {self.causes[0].line()}"
        if len(self.causes) > 1:
            more = len(self.causes) - 1
            line += f"; and {more} more cause{'s' if more > 1 else ''}"
        return line

    @property
    def what_to_do(self) -> str:
        """Fix the templates named, then resume: nothing was sent."""
        resume = (
            f"`alumni campaign resume {self.campaign_id}` (or run the class-campaign "
            "deployment with resume on)"
            if self.campaign_id is not None
            else "`alumni campaign resume ID`"
        )
        return (
            "Nothing was sent: the campaign is stopped, and no scheduled run sends it. Fix each "
            "template below (the line says which file, which variable, and how), then "
            f"{resume}: the preflight runs again and the campaign goes on when it passes."
        )

    def markdown(self) -> str:
        """The causes as a table: recipients hit, template, problem, first recipient."""
        lines = [
            f"**{self.summary}**",
            "",
            "| recipients | template | problem | e.g. |",
            "|---:|---|---|---|",
        ]
        for cause in self.causes:
            hit = "all" if cause.example == TEMPLATE_REF else str(cause.recipients)
            example = "" if cause.example == TEMPLATE_REF else cause.example
            problem = cause.error.message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {hit} | `{cause.error.template}` | {problem} | {example} |")
        if self.unexplained:
            lines.append(f"| {self.unexplained} | | more recipients, not listed | |")
        return "\n".join(lines) + "\n"
