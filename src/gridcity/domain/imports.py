"""Refusals of a file import: every problem found, each naming its feature, in one error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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


class HasText(Protocol):
    """A problem that can say itself in one line (English, parameters filled in)."""

    @property
    def text(self) -> str: ...


class FileRefused(InvalidInput):
    """A file refused as a whole (nothing written): the first problems in the message, all kept.

    ``messages`` is the (all shown, some more) pair of msgids; ``problems`` must already be in
    file order; ``total`` counts every problem found, which may exceed the problems kept.
    """

    def __init__(
        self,
        code: str,
        messages: tuple[str, str],
        source: str,
        problems: Sequence[HasText],
        *,
        total: int | None = None,
    ) -> None:
        total = len(problems) if total is None else total
        more = total - min(SHOWN, len(problems))
        super().__init__(
            code,
            messages[1] if more > 0 else messages[0],
            source=source,
            count=total,
            problems="; ".join(p.text for p in problems[:SHOWN]),
            more=more,
        )
        self.source = source
        self.problems: tuple[Any, ...] = tuple(problems)
        self.total = total


class ImportRefused(FileRefused):
    """A file refused as a whole (nothing written); ``problems`` holds every reason, in order."""

    problems: tuple[Problem, ...]

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        ordered = sorted(problems, key=_order)
        super().__init__(
            "import_refused",
            (
                N_("%(source)s: nothing was imported; %(count)s problems: %(problems)s"),
                N_(
                    "%(source)s: nothing was imported; %(count)s problems: %(problems)s; and %(more)s more"
                ),
            ),
            source,
            ordered,
        )
