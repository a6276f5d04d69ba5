"""Census import and export of components (部件普查): a file in, through the one write path
``component_writes.add_components``; the inventory out, streamed, in our column names or the
GB/T 47678.5-2026 表2 abbreviations.

An import reads the file (``adapters.component_files``), fills a missing class code from a
class name the catalog knows, and hands the batch to ``add_components``; a refusal lists every
problem with the file's own row number and column header. An export reads the inventory in
chunks with Core selects (never a list of ORM objects), so a million rows stream through.
"""

from __future__ import annotations

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
from gridcity.adapters.component_export import (
    EXCEL_MAX_ROWS,
    ExportFormat,
    open_writer,
)
from gridcity.adapters.component_files import ComponentFile, ReadOptions, read_components
from gridcity.adapters.db.tables import CatalogClass, Component, Department, Division
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import CODE_SETS, parse_form_fields
from gridcity.domain.census import CensusProblem, CensusRefused
from gridcity.domain.components import (
    DUPLICATE_DISTANCE_DEFAULT_M,
    STATE_NAMES_ZH,
    ComponentState,
    check_duplicate_distance,
    check_reason,
    parse_state,
)
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services.catalog import active_code_set
from gridcity.services.component_writes import (
    AddResult,
    ImportSource,
    NewComponents,
    add_components,
)
from gridcity.services.deps import RequestInfo, ServiceDeps

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


# --- export ------------------------------------------------------------------------------------


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
    columns = [c for c, _ in base] + list(attributes.values())
    keys = [k for _, k in base]
    if isinstance(target, Path):
        return _export_to(
            deps, target, format, columns, keys, attributes, where, lookups, total, progress
        )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gridcity-export-") as folder:
        path = Path(folder) / f"components{format.suffix}"
        written = _export_to(
            deps, path, format, columns, keys, attributes, where, lookups, total, progress
        )
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                target.write(chunk)
    return written


def _export_to(
    deps: ServiceDeps,
    path: Path,
    format: ExportFormat,
    columns: list[str],
    keys: list[str],
    attributes: Mapping[str, str],
    where: list[sa.ColumnElement[bool]],
    lookups: _Lookups,
    total: int,
    progress: Advance,
) -> int:
    """Stream the selected rows into a file of the format."""
    if not path.parent.is_dir():
        raise InvalidInput(
            "file_unwritable",
            "Cannot write %(path)s: %(why)s",
            path=str(path),
            why="no such folder",
        )
    progress("export", 0, total)
    names = sorted(attributes)
    with open_writer(format, path, columns) as writer:
        for chunk in _chunks(deps, where):
            geoms = shapely.from_wkb(np.array([bytes(r.wkb) for r in chunk], dtype=object))
            rows = []
            for r in chunk:
                values = _values(r, lookups)
                attrs = r.attributes or {}
                rows.append(
                    [values[k] for k in keys] + [_attribute_text(attrs.get(n)) for n in names]
                )
            writer.write(geoms, rows)
            progress("export", writer.count, total)
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
        where.append(Component.class_code.in_(sorted(set(filters.class_codes))))
    if filters.states:
        where.append(Component.state.in_(sorted({parse_state(s).value for s in filters.states})))
    return where


def _under(code: str) -> sa.ColumnElement[bool]:
    """A component whose community, else grid, lies under a division code."""
    return sa.or_(Component.community_code.startswith(code), Component.grid_code.startswith(code))


def _attribute_keys(session: Session, where: list[sa.ColumnElement[bool]]) -> list[str]:
    """Every extension attribute name the selected components carry."""
    if session.get_bind().dialect.name == "postgresql":
        keys = sa.func.json_object_keys(Component.attributes)
        query = sa.select(keys).where(*where).distinct()
    else:
        each = sa.func.json_each(Component.attributes).table_valued("key")
        query = (
            sa.select(each.c.key)
            .select_from(Component)
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
    """The selected rows in id order, EXPORT_CHUNK at a time (keyset paging, Core selects)."""
    geom = Component.__table__.c.geom
    last = 0
    while True:
        with deps.db.read() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            wkb = (
                sa.func.ST_AsBinary(geom, type_=sa.LargeBinary)
                if postgres
                else sa.type_coerce(geom, sa.LargeBinary)
            )
            chunk = session.execute(
                sa.select(
                    Component.id,
                    Component.identifier,
                    Component.class_code,
                    Component.name,
                    wkb.label("wkb"),
                    Component.grid_code,
                    Component.community_code,
                    Component.competent_department_id,
                    Component.owner_department_id,
                    Component.maintainer_department_id,
                    Component.state,
                    Component.census_date,
                    Component.changed_on,
                    Component.data_source,
                    Component.accuracy,
                    Component.position_text,
                    Component.note,
                    Component.attributes,
                )
                .where(*where, Component.id > last)
                .order_by(Component.id)
                .limit(EXPORT_CHUNK)
            ).all()
        if not chunk:
            return
        yield chunk
        last = int(chunk[-1].id)


def _values(r: Any, lookups: _Lookups) -> dict[str, str]:
    """Every value an export column can take, for one row."""

    def department(id_: int | None) -> tuple[str, str, str]:
        if id_ is None:
            return "", "", ""
        credit, name = lookups.departments.get(int(id_), ("", ""))
        return credit, name, credit or name

    competent, owner, maintainer = (
        department(r.competent_department_id),
        department(r.owner_department_id),
        department(r.maintainer_department_id),
    )
    community = r.community_code or ""
    subdistrict = community[:9]
    return {
        "identifier": r.identifier,
        "class_code": r.class_code,
        "name": r.name,
        "competent_code": competent[0],
        "competent_name": competent[1],
        "competent_ref": competent[2],
        "owner_code": owner[0],
        "owner_name": owner[1],
        "owner_ref": owner[2],
        "maintainer_code": maintainer[0],
        "maintainer_name": maintainer[1],
        "maintainer_ref": maintainer[2],
        "grid_code": r.grid_code or "",
        "state": r.state,
        "state_zh": STATE_NAMES_ZH[ComponentState(r.state)],
        "census_date": _iso(r.census_date),
        "census_date_compact": _compact(r.census_date),
        "changed_on": _iso(r.changed_on),
        "changed_on_compact": _compact(r.changed_on),
        "data_source": r.data_source or "",
        "accuracy": r.accuracy or "",
        "position_text": r.position_text or "",
        "note": r.note or "",
        "subdistrict_code": subdistrict,
        "subdistrict_name": lookups.divisions.get(subdistrict, "") if subdistrict else "",
        "community_code": community,
        "community_name": lookups.divisions.get(community, "") if community else "",
    }


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _compact(day: date | None) -> str:
    """YYYYMMDD, the 8-digit date of GB/T 47678.5 (CSRQ, BGRQ)."""
    return day.strftime("%Y%m%d") if day else ""


def _attribute_text(value: Any) -> str:
    """An attribute value as a cell: booleans as true/false, numbers without a spurious .0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
