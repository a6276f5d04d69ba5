"""Refusals of a file import: every problem found, each naming its feature, in one error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gridcity.domain.errors import DomainError, InvalidInput

SHOWN = 5  # problems spelled out in the refusal's message; all of them are in ``problems``


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Problem:
    """Why one feature (index, code) cannot be imported; index None: a whole division."""

    index: int | None
    code: str
    message: str  # English msgid with %(name)s parameters
    params: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, index: int | None, code: str, error: DomainError) -> Problem:
        """A problem carrying a domain refusal's own (translatable) message."""
        return cls(index, code, error.message, dict(error.params))

    @property
    def reason(self) -> str:
        """The English reason with its parameters filled in."""
        return self.message % dict(self.params) if self.params else self.message

    @property
    def text(self) -> str:
        """The reason prefixed with the feature it concerns."""
        if self.index is None:
            return self.reason
        return f"feature {self.index} (code {self.code or 'missing'}): {self.reason}"


def _order(problem: Problem) -> tuple[int, int, str]:
    """File order: features first by index, then whole-division problems by code."""
    return (problem.index is None, problem.index or 0, problem.code)


class ImportRefused(InvalidInput):
    """A file refused as a whole (nothing written); ``problems`` holds every reason, in order."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        ordered = sorted(problems, key=_order)
        more = len(ordered) - SHOWN
        message = (
            N_(
                "%(source)s: nothing was imported; %(count)s problems: %(problems)s; and %(more)s more"
            )
            if more > 0
            else N_("%(source)s: nothing was imported; %(count)s problems: %(problems)s")
        )
        super().__init__(
            "import_refused",
            message,
            source=source,
            count=len(ordered),
            problems="; ".join(p.text for p in ordered[:SHOWN]),
            more=more,
        )
        self.source = source
        self.problems = tuple(ordered)
