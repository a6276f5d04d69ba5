"""Export of the component inventory (部件普查 out), streamed: Core selects read the rows a
chunk at a time (keyset paging by id, never a list of ORM objects) and a writer of
``adapters.component_export`` appends each chunk to the file, so a million components pass
through in bounded memory. Columns are ours or the GB/T 47678.5-2026 表2 abbreviations.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.component_columns import (
    Abbreviations,
    attribute_columns,
    export_columns,
)
from gridcity.adapters.component_export import EXCEL_MAX_ROWS, ExportFormat, open_writer
from gridcity.adapters.db.tables import Component, Department, Division
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.components import STATE_NAMES_ZH, parse_state
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services.deps import ServiceDeps

EXPORT_CHUNK = 5_000
Advance = Callable[[str, int, int], None]
_C = Component.__table__.c
# The columns an export reads, in the order of its select (rows are read by position).
_SELECTED = (
    "id",
    "identifier",
    "class_code",
    "name",
    "wkb",
    "grid_code",
    "community_code",
    "competent_department_id",
    "owner_department_id",
    "maintainer_department_id",
    "state",
    "census_date",
    "changed_on",
    "data_source",
    "accuracy",
    "position_text",
    "note",
    "attributes",
)
_AT = {name: i for i, name in enumerate(_SELECTED)}
_STATE_ZH = {state.value: zh for state, zh in STATE_NAMES_ZH.items()}


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class ExportFilters:
    """Which components an export holds (all, by default, in the actor's data scope)."""

    class_codes: tuple[str, ...] = ()
    states: tuple[str, ...] = ()  # identifiers or Chinese names
    under: str = ""  # a division code: components whose community or grid lies under it


@dataclass
class _Lookups:
    departments: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (credit, name)
    divisions: dict[str, str] = field(default_factory=dict)


def export_components(
    deps: ServiceDeps,
    actor: Actor,
    target: Path | IO[bytes],
    *,
    format: ExportFormat,
    filters: ExportFilters = ExportFilters(),
    abbreviations: Abbreviations = Abbreviations.GBT47678,
    progress: Advance = _no_progress,
) -> int:
    """Write the components in the actor's data scope to a file (or a binary stream); returns
    how many were written. Streams: rows are read and written a chunk at a time."""
    require(actor, Permission.COMPONENT_READ)
    where = _export_where(actor, filters)
    shapefile = format is ExportFormat.SHAPEFILE
    with deps.db.read() as session:
        total = int(
            session.scalar(sa.select(sa.func.count()).select_from(Component).where(*where)) or 0
        )
        if format is ExportFormat.EXCEL and total > EXCEL_MAX_ROWS:
            raise InvalidInput(
                "export_too_many_rows",
                "An Excel sheet holds at most %(max)s rows; export CSV, GeoJSON or Shapefile, or fewer components",
                max=EXCEL_MAX_ROWS,
            )
        base = export_columns(abbreviations, shapefile=shapefile)
        attributes = attribute_columns(
            _attribute_keys(session, where), [c for c, _ in base], shapefile=shapefile
        )
        lookups = _lookups(session)
    job = _Export(
        format,
        [c for c, _ in base] + list(attributes.values()),
        [k for _, k in base],
        sorted(attributes),
        where,
        lookups,
        total,
    )
    if isinstance(target, Path):
        return job.run(deps, target, progress)
    with tempfile.TemporaryDirectory(prefix="gridcity-export-") as folder:
        path = Path(folder) / f"components{format.suffix}"
        written = job.run(deps, path, progress)
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                target.write(chunk)
    return written


@dataclass
class _Export:
    format: ExportFormat
    columns: list[str]
    keys: list[str]
    attributes: list[str]
    where: list[sa.ColumnElement[bool]]
    lookups: _Lookups
    total: int

    def run(self, deps: ServiceDeps, path: Path, progress: Advance) -> int:
        """Stream the selected rows into a file of the format."""
        if not path.parent.is_dir():
            raise InvalidInput(
                "file_unwritable",
                "Cannot write %(path)s: %(why)s",
                path=str(path),
                why="no such folder",
            )
        progress("export", 0, self.total)
        cells = _Cells(self.lookups)
        getters = [cells.getter(k) for k in self.keys]
        with open_writer(self.format, path, self.columns) as writer:
            for chunk in _chunks(deps, self.where):
                wkb = _AT["wkb"]
                geoms = shapely.from_wkb(np.array([bytes(r[wkb]) for r in chunk], dtype=object))
                rows = [
                    [get(r) for get in getters] + cells.attributes(r[-1], self.attributes)
                    for r in chunk
                ]
                writer.write(geoms, rows)
                progress("export", writer.count, self.total)
            return writer.count


def _export_where(actor: Actor, filters: ExportFilters) -> list[sa.ColumnElement[bool]]:
    """The conditions of an export: data scope (divisions, as prefixes), then the filters."""
    where: list[sa.ColumnElement[bool]] = []
    scope = actor.scope
    if not scope.everything:
        prefixes = sorted(scope.divisions)
        if not prefixes:
            return [sa.false()]
        where.append(sa.or_(*(_under(p) for p in prefixes)))
    if filters.under:
        code = filters.under.strip()
        visible = scope.everything or any(
            code.startswith(p) or p.startswith(code) for p in scope.divisions
        )
        if not code.isdigit() or not visible:
            raise NotFound("division_not_found", "No division with code %(code)s", code=code)
        where.append(_under(code))
    if filters.class_codes:
        where.append(_C.class_code.in_(sorted(set(filters.class_codes))))
    if filters.states:
        where.append(_C.state.in_(sorted({parse_state(s).value for s in filters.states})))
    return where


def _under(code: str) -> sa.ColumnElement[bool]:
    """A component whose community, else grid, lies under a division code."""
    return sa.or_(_C.community_code.startswith(code), _C.grid_code.startswith(code))


def _attribute_keys(session: Session, where: list[sa.ColumnElement[bool]]) -> list[str]:
    """Every extension attribute name the selected components carry."""
    if session.get_bind().dialect.name == "postgresql":
        keys = sa.func.json_object_keys(_C.attributes)
        query = sa.select(keys).select_from(Component.__table__).where(*where).distinct()
    else:
        each = sa.func.json_each(_C.attributes).table_valued("key")
        query = (
            sa.select(each.c.key)
            .select_from(Component.__table__)
            .join(each, sa.true())
            .where(*where)
            .distinct()
        )
    return sorted(str(k) for k in session.scalars(query))


def _lookups(session: Session) -> _Lookups:
    """Departments (credit code, name) and division names, for the named columns."""
    out = _Lookups()
    for id_, credit, name in session.execute(
        sa.select(Department.id, Department.credit_code, Department.name)
    ):
        out.departments[int(id_)] = (str(credit or ""), str(name))
    for code, name in session.execute(sa.select(Division.code, Division.name)):
        out.divisions[str(code)] = str(name)
    return out


def _chunks(deps: ServiceDeps, where: list[sa.ColumnElement[bool]]) -> Iterator[Sequence[Any]]:
    """The selected rows in id order, EXPORT_CHUNK at a time (keyset paging, Core selects;
    geometry as plain WKB, attributes as their JSON text)."""
    last = 0
    while True:
        with deps.db.read() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            wkb = (
                sa.func.ST_AsBinary(_C.geom, type_=sa.LargeBinary)
                if postgres
                else sa.type_coerce(_C.geom, sa.LargeBinary)
            )
            chunk = session.execute(
                sa.select(
                    *(getattr(_C, name) for name in _SELECTED[:4]),
                    wkb.label("wkb"),
                    *(getattr(_C, name) for name in _SELECTED[5:-1]),
                    sa.type_coerce(_C.attributes, sa.Text).label("attributes"),
                )
                .where(*where, _C.id > last)
                .order_by(_C.id)
                .limit(EXPORT_CHUNK)
            ).all()
        if not chunk:
            return
        yield chunk
        last = int(chunk[-1].id)


class _Cells:
    """Turns a row into export values; what repeats (departments, dates, divisions) is
    converted once."""

    def __init__(self, lookups: _Lookups) -> None:
        self.lookups = lookups
        self.dates: dict[Any, tuple[str, str]] = {}

    def day(self, value: date | str | None) -> tuple[str, str]:
        """A date as (YYYY-MM-DD, YYYYMMDD)."""
        if value is None:
            return "", ""
        found = self.dates.get(value)
        if found is None:
            iso = value if isinstance(value, str) else value.isoformat()
            found = self.dates[value] = (iso[:10], iso[:10].replace("-", ""))
        return found

    def division(self, code: str) -> str:
        return self.lookups.divisions.get(code, "") if code else ""

    def getter(self, key: str) -> Callable[[Any], str]:
        """The function that gives one export column's value of a row."""
        at = _AT

        def text(name: str) -> Callable[[Any], str]:
            i = at[name]
            return lambda r: r[i] or ""

        census, changed, community = at["census_date"], at["changed_on"], at["community_code"]
        getters: dict[str, Callable[[Any], str]] = {
            name: text(name)
            for name in (
                "identifier",
                "class_code",
                "name",
                "grid_code",
                "state",
                "data_source",
                "accuracy",
                "position_text",
                "note",
                "community_code",
            )
        }
        state = at["state"]
        getters |= {
            "state_zh": lambda r: _STATE_ZH[r[state]],
            "census_date": lambda r: self.day(r[census])[0],
            "census_date_compact": lambda r: self.day(r[census])[1],
            "changed_on": lambda r: self.day(r[changed])[0],
            "changed_on_compact": lambda r: self.day(r[changed])[1],
            "community_name": lambda r: self.division(r[community] or ""),
            "subdistrict_code": lambda r: (r[community] or "")[:9],
            "subdistrict_name": lambda r: self.division((r[community] or "")[:9]),
        }
        for role in ("competent", "owner", "maintainer"):
            column = f"{role}_department_id"
            getters[f"{role}_code"] = self._department_part(column, 0)
            getters[f"{role}_name"] = self._department_part(column, 1)
            getters[f"{role}_ref"] = self._department_part(column, None)
        return getters[key]

    def _department_part(self, column: str, part: int | None) -> Callable[[Any], str]:
        """A getter of a department column: its credit code (0), name (1), or either (None)."""
        i = _AT[column]
        known = self.lookups.departments
        # part None: a reference a re-import resolves, the credit code, else the name.
        values = {k: (v[part] if part is not None else v[0] or v[1]) for k, v in known.items()}
        return lambda r: values.get(r[i], "")

    @staticmethod
    def attributes(data: str | Mapping[str, Any] | None, names: Sequence[str]) -> list[str]:
        """The row's extension attributes, one cell per attribute name of the export (their
        JSON text from SQLite; psycopg decodes PostgreSQL's json itself)."""
        if not names:
            return []
        values: Mapping[str, Any] = {}
        if isinstance(data, str):
            values = json.loads(data) if data != "{}" else {}
        elif data:
            values = data
        return [_attribute_text(values.get(n)) for n in names]


def _attribute_text(value: Any) -> str:
    """An attribute value as a cell: booleans as true/false, numbers without a spurious .0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
