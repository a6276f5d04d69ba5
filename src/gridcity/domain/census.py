"""Refusals of a component batch (部件普查): every problem, each naming its row and column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

from gridcity.domain.errors import DomainError
from gridcity.domain.imports import N_, FileRefused


@dataclass(frozen=True)
class CensusProblem:
    """Why one row cannot be imported: its number, the column at fault and the reason."""

    row: int
    column: str
    code: str
    message: str  # English msgid with %(name)s parameters
    params: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, row: int, column: str, error: DomainError) -> Self:
        """A problem carrying a domain refusal's own (translatable) message."""
        return cls(row, column, error.code, error.message, dict(error.params))

    @property
    def reason(self) -> str:
        """The English reason with its parameters filled in."""
        return self.message % dict(self.params) if self.params else self.message

    @property
    def text(self) -> str:
        """Row, column and reason in one line."""
        return f"row {self.row}, column {self.column}: {self.reason}"


class CensusRefused(FileRefused):
    """A batch refused as a whole (nothing written); ``problems`` lists them in row order.

    ``total`` counts every problem found, which may exceed the problems kept.
    """

    problems: tuple[CensusProblem, ...]

    def __init__(self, source: str, problems: Sequence[CensusProblem], *, total: int) -> None:
        ordered = sorted(problems, key=lambda p: (p.row, p.column))
        super().__init__(
            "census_refused",
            (
                N_("%(source)s: nothing was imported; %(count)s problems: %(problems)s"),
                N_(
                    "%(source)s: nothing was imported; %(count)s problems: %(problems)s; and %(more)s more"
                ),
            ),
            source,
            ordered,
            total=total,
        )
