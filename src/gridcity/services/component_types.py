"""What goes into and comes out of ``add_components`` (re-exported by ``component_writes``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcity.domain.errors import InvalidInput


@dataclass
class NewComponents:
    """Components to add, as columns (one entry per row); empty text means "not given".

    ``rows`` are the row numbers the source shows (a file's line or feature number), used in
    the report. Departments are referred to by 统一社会信用代码, full name or short name.
    ``identifier`` empty: one is drawn; given: it is checked and kept (a re-census).
    """

    rows: list[int]
    class_code: list[str]
    geometry: NDArray[np.object_]
    identifier: list[str] | None = None
    name: list[str] | None = None
    competent: list[str] | None = None
    owner: list[str] | None = None
    maintainer: list[str] | None = None
    state: list[str] | None = None
    census_date: list[str] | None = None
    changed_on: list[str] | None = None
    data_source: list[str] | None = None
    accuracy: list[str] | None = None
    position_text: list[str] | None = None
    note: list[str] | None = None
    attributes: list[Mapping[str, Any]] | None = None

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class ImportSource:
    """Where a batch came from, kept with the batch (and shown in each component's history)."""

    file_name: str
    file_format: str
    reason: str = ""


@dataclass(frozen=True)
class Duplicate:
    """A likely duplicate: a row close to another row of the file, or to a stored component."""

    row: int
    other_row: int | None
    other_identifier: str | None
    class_code: str
    distance_m: float


@dataclass(frozen=True)
class AddResult:
    """What a batch wrote (or, with ``dry_run``, would write)."""

    import_id: int | None
    added: int
    identifiers_drawn: int
    duplicates: tuple[Duplicate, ...]
    by_class: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


@dataclass(frozen=True)
class ClassRow:
    """What a batch needs of a component class."""

    id: int
    code: str
    name: str
    department_id: int | None
    fields: tuple[Any, ...]


def parse_census_date(value: str) -> date:
    """A date as YYYY-MM-DD or YYYYMMDD (the 2026 standard's 8-digit form)."""
    text = value.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InvalidInput(
            "invalid_date", "A date is YYYY-MM-DD or YYYYMMDD: %(value)s", value=value
        ) from None
