"""Census import and export of components (部件普查): a file in, through the one write path
``component_writes.add_components``; the inventory out, streamed, in our column names or the
GB/T 47678.5-2026 表2 abbreviations.

An import reads the file (``adapters.component_files``), fills a missing class code from a
class name the catalog knows, and hands the batch to ``add_components``; a refusal lists every
problem with the file's own row number and column header. An export reads the inventory in
chunks with Core selects (never a list of ORM objects), so a million rows stream through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gridcity.adapters.component_files import ComponentFile, ReadOptions, read_components
from gridcity.adapters.db.tables import CatalogClass
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import CODE_SETS, parse_form_fields
from gridcity.domain.census import CensusProblem, CensusRefused
from gridcity.domain.components import (
    DUPLICATE_DISTANCE_DEFAULT_M,
    check_duplicate_distance,
    check_reason,
)
from gridcity.services.catalog import active_code_set
from gridcity.services.census_export import ExportFilters, export_components
from gridcity.services.component_writes import (
    AddResult,
    ImportSource,
    NewComponents,
    add_components,
)
from gridcity.services.deps import RequestInfo, ServiceDeps

__all__ = [
    "CensusOptions",
    "CensusResult",
    "ExportFilters",
    "export_components",
    "import_census",
]

EXPORT_CHUNK = 5_000
Advance = Callable[[str, int, int], None]


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


# --- import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CensusOptions:
    """How to read and check a census file."""

    crs: str | None = None  # of a CSV/Excel file, or of a geo file that names none
    encoding: str | None = None  # of a CSV file or of Shapefile attributes
    duplicate_distance_m: float = DUPLICATE_DISTANCE_DEFAULT_M
    refuse_duplicates: bool = False
    dry_run: bool = False
    reason: str = ""
    ignore_unknown: bool = False  # unknown columns: left out (listed) instead of refusing


@dataclass(frozen=True)
class CensusResult:
    """What an import wrote (or, dry, would write), and how the file was read."""

    file_name: str
    format: str
    crs: str
    added: AddResult
    ignored_columns: tuple[str, ...] = ()
    unused_columns: tuple[str, ...] = ()
    layers: tuple[tuple[str, int, int], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (API, UI)."""
        a = self.added
        return {
            "file": self.file_name,
            "format": self.format,
            "crs": self.crs,
            "dry_run": a.dry_run,
            "import_id": a.import_id,
            "added": a.added,
            "identifiers_drawn": a.identifiers_drawn,
            "by_class": a.by_class,
            "duplicates": [
                {
                    "row": d.row,
                    "other_row": d.other_row,
                    "other_identifier": d.other_identifier,
                    "class_code": d.class_code,
                    "distance_m": d.distance_m,
                }
                for d in a.duplicates
            ],
            "ignored_columns": list(self.ignored_columns),
            "unused_columns": list(self.unused_columns),
            "layers": [{"name": n, "first": f, "last": t} for n, f, t in self.layers],
        }


@dataclass(frozen=True)
class _Catalog:
    digits: int
    attribute_names: frozenset[str]
    class_by_name: dict[str, str]


def import_census(
    deps: ServiceDeps,
    actor: Actor,
    path: Path,
    *,
    options: CensusOptions,
    info: RequestInfo,
    progress: Advance = _no_progress,
    name: str | None = None,
) -> CensusResult:
    """Import a census file, all or nothing (inventory editors); ``name`` is the file's name
    as the person knows it (an upload is stored under another)."""
    require(actor, Permission.COMPONENT_WRITE)
    reason = check_reason(options.reason, required=False)
    check_duplicate_distance(options.duplicate_distance_m)
    shown = name or Path(path).name
    catalog = _catalog(deps)
    progress("read", 0, 1)
    read = read_components(
        Path(path),
        ReadOptions(
            crs=options.crs,
            encoding=options.encoding,
            ignore_unknown=options.ignore_unknown,
            attribute_names=catalog.attribute_names,
            class_digits=catalog.digits,
        ),
        progress,
    )
    batch = _batch(read, catalog)
    try:
        added = add_components(
            deps,
            actor,
            batch,
            source=ImportSource(shown, read.kind.value, reason),
            info=info,
            duplicate_distance_m=options.duplicate_distance_m,
            refuse_duplicates=options.refuse_duplicates,
            dry_run=options.dry_run or read.problem_total > 0,
            progress=progress,
        )
    except CensusRefused as exc:
        raise _refusal(shown, read, exc.problems, exc.total) from None
    if read.problem_total:
        raise _refusal(shown, read, (), 0)
    return CensusResult(
        shown,
        read.kind.value,
        read.crs,
        added,
        read.columns.ignored,
        read.columns.derived,
        read.layers,
    )


def _catalog(deps: ServiceDeps) -> _Catalog:
    """What reading a file needs of the active code set: digits, attribute names, class names."""
    with deps.db.read() as session:
        code_set = CODE_SETS[active_code_set(session)]
        rows = session.execute(
            sa.select(CatalogClass.code, CatalogClass.name_zh, CatalogClass.form_fields).where(
                CatalogClass.code_set == code_set.key,
                CatalogClass.kind == "component",
                CatalogClass.level == "minor",
            )
        ).all()
    names: dict[str, list[str]] = {}
    attributes: set[str] = set()
    for code, name_zh, fields in rows:
        names.setdefault(str(name_zh), []).append(str(code))
        attributes.update(f.name for f in parse_form_fields(fields or []))
    by_name = {n: codes[0] for n, codes in names.items() if len(codes) == 1}
    return _Catalog(code_set.class_digits, frozenset(attributes), by_name)


def _batch(read: ComponentFile, catalog: _Catalog) -> NewComponents:
    """The batch of a file; a row with neither class code nor identifier takes the class its
    name names (the standard's GLBJMC is the class name)."""
    values = read.values
    class_codes = list(values.get("class_code") or [""] * len(read.rows))
    identifiers = values.get("identifier")
    names = values.get("name")
    if names is not None:
        for i, code in enumerate(class_codes):
            if not code and not (identifiers and identifiers[i]):
                class_codes[i] = catalog.class_by_name.get(names[i], "")
    return NewComponents(
        rows=read.rows,
        class_code=class_codes,
        geometry=read.geometry,
        identifier=identifiers,
        name=names,
        competent=values.get("competent"),
        owner=values.get("owner"),
        maintainer=values.get("maintainer"),
        state=values.get("state"),
        census_date=values.get("census_date"),
        changed_on=values.get("changed_on"),
        data_source=values.get("data_source"),
        accuracy=values.get("accuracy"),
        position_text=values.get("position_text"),
        note=values.get("note"),
        attributes=list(read.attributes) if read.attributes is not None else None,
    )


def _refusal(
    source: str, read: ComponentFile, problems: Sequence[CensusProblem], total: int
) -> CensusRefused:
    """One refusal of the file's and the batch's problems, columns as the file names them.

    A row whose position the file could not give is not also reported as having none.
    """
    kept: list[CensusProblem] = []
    dropped = 0
    for p in problems:
        if p.code == "missing_geometry" and p.row in read.geometry_rows:
            dropped += 1
            continue
        column = read.column_of(p.column, p.row, dict(p.params))
        kept.append(CensusProblem(p.row, column, p.code, p.message, p.params))
    return CensusRefused(
        source, [*kept, *read.problems], total=total - dropped + read.problem_total
    )
