"""The one write path for adding components in bulk: census files, the demo city and the API.

``add_components`` checks every row (class, identifier, position inside the managed area,
departments, state, dates, attributes), flags likely duplicates, draws identifiers, assigns
grids, subdistricts and communities, and writes everything in one transaction; any problem
refuses the whole batch with a report naming the row, the column and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import insert_missing, lock_rows
from gridcity.adapters.db.tables import (
    CatalogClass,
    Component,
    ComponentImport,
    ComponentSerial,
    Department,
    SpatialState,
)
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import (
    CODE_SETS,
    CodeSet,
    parse_component_identifier,
    parse_form_fields,
)
from gridcity.domain.census import CensusProblem, CensusRefused
from gridcity.domain.components import (
    DUPLICATE_DISTANCE_DEFAULT_M,
    NAME_MAX,
    NOTE_MAX,
    POSITION_TEXT_MAX,
    SOURCE_MAX,
    ComponentState,
    DuplicatePair,
    anchor_points,
    check_attributes,
    check_duplicate_distance,
    close_pairs,
    parse_accuracy,
    parse_state,
)
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services import audit
from gridcity.services.catalog import active_code_set
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.locate import MAX_BATCH, locate_points

COMPONENTS_STATE = "components"  # spatial_state counter of the inventory
MAX_ROWS = 2_000_000
_WRITE_CHUNK = 20_000

Advance = Callable[[str, int, int], None]  # (stage, done, total)


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


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


class _Problems:
    """Collects row problems; stops collecting (not checking) after a cap to bound memory."""

    CAP = 10_000

    def __init__(self) -> None:
        self.items: list[CensusProblem] = []
        self.total = 0

    def add(self, row: int, column: str, error: DomainError) -> None:
        self.total += 1
        if len(self.items) < self.CAP:
            self.items.append(CensusProblem.of(row, column, error))

    def new(self, row: int, column: str, code: str, message: str, /, **params: object) -> None:
        self.add(row, column, InvalidInput(code, message, **params))


def _column(values: list[str] | None, n: int) -> list[str]:
    return values if values is not None else [""] * n


def add_components(
    deps: ServiceDeps,
    actor: Actor,
    batch: NewComponents,
    *,
    source: ImportSource,
    info: RequestInfo,
    duplicate_distance_m: float = DUPLICATE_DISTANCE_DEFAULT_M,
    refuse_duplicates: bool = False,
    dry_run: bool = False,
    progress: Advance = _no_progress,
) -> AddResult:
    """Add a batch of components, all or nothing (inventory editors).

    Likely duplicates (same class within ``duplicate_distance_m`` of another row or of a
    stored component that is not removed) are reported; with ``refuse_duplicates`` they are
    problems that refuse the batch. ``dry_run`` checks everything and writes nothing.
    """
    require(actor, Permission.COMPONENT_WRITE)
    n = len(batch)
    if n == 0:
        raise InvalidInput("empty_batch", "%(source)s holds no components", source=source.file_name)
    if n > MAX_ROWS:
        raise InvalidInput(
            "batch_too_large",
            "At most %(max)s components per import, got %(n)s",
            max=MAX_ROWS,
            n=n,
        )
    check_duplicate_distance(duplicate_distance_m)
    now = deps.clock()
    today = now.date()
    problems = _Problems()
    with deps.db.read() as session:
        code_set = CODE_SETS[active_code_set(session)]
        classes = _component_classes(session, code_set.key)
        departments = _department_lookup(session)

    progress("check", 0, n)
    class_rows = _resolve_classes(batch, code_set, classes, problems)
    geoms, xy = _check_geometries(batch, problems)
    places = _locate(deps, actor, xy, batch.rows, problems, progress)
    resolved = _check_fields(batch, class_rows, departments, today, problems)
    given = _given_identifiers(batch, code_set, class_rows, places, problems)
    progress("check", n, n)
    duplicates = _duplicates(deps, batch, class_rows, xy, duplicate_distance_m, given)
    if refuse_duplicates:
        for dup in duplicates:
            problems.new(
                dup.row,
                "geometry",
                "likely_duplicate",
                "A %(cls)s lies %(d)s m away (%(other)s)",
                cls=dup.class_code,
                d=dup.distance_m,
                other=f"row {dup.other_row}" if dup.other_row else dup.other_identifier,
            )
    if problems.total:
        raise CensusRefused(source.file_name, problems.items, total=problems.total)

    class_codes = np.array([c.code if c else "" for c in class_rows], dtype=object)
    by_class = {
        str(k): int(v) for k, v in zip(*np.unique(class_codes, return_counts=True), strict=True)
    }
    if dry_run:
        drawn = sum(1 for value in given if not value)
        return AddResult(None, n, drawn, tuple(duplicates), by_class, dry_run=True)

    with deps.db.transaction() as session:
        identifiers, drawn = _draw_identifiers(session, code_set, class_rows, places, given)
        _refuse_taken(session, given, batch.rows, source.file_name)
        # The counter row may not exist yet: two first batches must not both insert it.
        insert_missing(
            session,
            SpatialState.__table__,  # type: ignore[arg-type]
            [{"name": COMPONENTS_STATE, "version": 0, "changed_at": now}],
        )
        bump_version(session, COMPONENTS_STATE, now)
        session.flush()
        seq = read_versions(session)[COMPONENTS_STATE]
        record = ComponentImport(
            file_name=source.file_name[:200],
            file_format=source.file_format,
            code_set=code_set.key,
            rows=n,
            reason=source.reason,
            actor_id=actor.user_id,
            actor_name=actor.username,
            imported_at=now,
        )
        session.add(record)
        session.flush()
        _write_rows(
            session,
            identifiers=identifiers,
            code_set=code_set.key,
            class_rows=class_rows,
            geoms=geoms,
            xy=xy,
            places=places,
            resolved=resolved,
            import_id=record.id,
            seq=seq,
            now=now,
            actor=actor,
            progress=progress,
        )
        audit.append(
            session,
            at=now,
            actor=actor,
            action="component.imported",
            target_type="component_import",
            target_id=record.id,
            detail={
                "file": source.file_name,
                "format": source.file_format,
                "rows": n,
                "identifiers_drawn": drawn,
                "duplicates": len(duplicates),
                "code_set": code_set.key,
            },
            info=info,
        )
    deps.spatial_cache.clear()
    return AddResult(record.id, n, drawn, tuple(duplicates), by_class)


# --- reference data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassRow:
    """What a batch needs of a component class."""

    id: int
    code: str
    name: str
    department_id: int | None
    fields: tuple[Any, ...]


def _component_classes(session: Session, code_set: str) -> dict[str, ClassRow]:
    """Minor component classes of the set by code."""
    rows = session.execute(
        sa.select(
            CatalogClass.id,
            CatalogClass.code,
            CatalogClass.name_zh,
            CatalogClass.department_id,
            CatalogClass.form_fields,
        ).where(
            CatalogClass.code_set == code_set,
            CatalogClass.kind == "component",
            CatalogClass.level == "minor",
        )
    )
    return {
        code: ClassRow(id_, code, name, dept, parse_form_fields(fields or []))
        for id_, code, name, dept, fields in rows
    }


def _department_lookup(session: Session) -> dict[str, int]:
    """Active departments by credit code, full name and short name."""
    lookup: dict[str, int] = {}
    rows = session.execute(
        sa.select(Department.id, Department.credit_code, Department.name, Department.short_name)
        .where(Department.is_active.is_(True))
        .order_by(Department.id)
    )
    for id_, credit, name, short in rows:
        for key in (short, name, credit):  # later keys win: a credit code is unambiguous
            if key:
                lookup[str(key)] = int(id_)
    return lookup


# --- checks -----------------------------------------------------------------------------------


def _resolve_classes(
    batch: NewComponents,
    code_set: CodeSet,
    classes: Mapping[str, ClassRow],
    problems: _Problems,
) -> list[ClassRow | None]:
    """Each row's class: its class code, or the class part of its identifier."""
    identifiers = _column(batch.identifier, len(batch))
    digits = code_set.class_digits
    found: list[ClassRow | None] = []
    for row, code, identifier in zip(batch.rows, batch.class_code, identifiers, strict=True):
        code = code.strip()
        if not code and identifier.strip():
            code = identifier.strip()[6:-6]
        if not code:
            problems.new(row, "class_code", "missing_class", "No class code given")
            found.append(None)
            continue
        hit = classes.get(code)
        if hit is None:
            if len(code) != digits or not code.isdigit():
                problems.new(
                    row,
                    "class_code",
                    "invalid_class_code",
                    "A class code of %(set)s has %(digits)s digits (major + minor): %(code)s",
                    set=code_set.key,
                    digits=digits,
                    code=code,
                )
            else:
                problems.new(
                    row,
                    "class_code",
                    "unknown_component_class",
                    "%(set)s has no component class %(code)s",
                    set=code_set.key,
                    code=code,
                )
        found.append(hit)
    return found


def _check_geometries(
    batch: NewComponents, problems: _Problems
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Geometries (vectorised checks) and their anchor points; NaN where a row failed."""
    geoms = np.asarray(batch.geometry, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.where(missing, -1, shapely.get_type_id(geoms))  # a missing one is -1 too
    allowed = np.isin(types, [0, 1, 3, 4, 5, 6])
    valid = np.zeros(len(geoms), dtype=bool)
    valid[allowed] = shapely.is_valid(geoms[allowed])
    xy = np.full((len(geoms), 2), np.nan)
    if valid.any():
        xy[valid] = anchor_points(geoms[valid])
    for i in np.flatnonzero(~valid):
        row = batch.rows[i]
        if missing[i]:
            problems.new(row, "geometry", "missing_geometry", "A component needs a position")
        elif not allowed[i]:
            problems.new(
                row,
                "geometry",
                "invalid_geometry_type",
                "A component is a point, a line or a polygon, not %(kind)s",
                kind=geoms[i].geom_type,
            )
        else:
            problems.new(
                row,
                "geometry",
                "invalid_geometry",
                "The geometry is not valid: %(reason)s",
                reason=shapely.is_valid_reason(geoms[i]),
            )
    return geoms, xy


@dataclass(frozen=True)
class _Places:
    district: NDArray[np.str_]
    subdistrict: NDArray[np.str_]
    community: NDArray[np.str_]
    grid: NDArray[np.str_]


def _locate(
    deps: ServiceDeps,
    actor: Actor,
    xy: NDArray[np.float64],
    rows: Sequence[int],
    problems: _Problems,
    progress: Advance,
) -> _Places:
    """District, subdistrict, community and unit grid of each anchor point (vectorised)."""
    n = len(xy)
    out = {
        k: np.full(n, "", dtype=object) for k in ("district", "subdistrict", "community", "grid")
    }
    ok = ~np.isnan(xy[:, 0])
    lonlat_ok = ok & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    for i in np.flatnonzero(ok & ~lonlat_ok):
        problems.new(
            rows[int(i)],
            "geometry",
            "not_lonlat",
            "Coordinates are not longitude/latitude: %(x)s, %(y)s",
            x=float(xy[i, 0]),
            y=float(xy[i, 1]),
        )
    index = np.flatnonzero(lonlat_ok)
    for start in range(0, len(index), MAX_BATCH):
        part = index[start : start + MAX_BATCH]
        found = locate_points(deps, actor, xy[part])
        out["district"][part] = found.district
        out["subdistrict"][part] = found.subdistrict
        out["community"][part] = found.community
        out["grid"][part] = found.grid
        progress("locate", start + len(part), n)
    outside = lonlat_ok & (out["district"] == "")
    for i in np.flatnonzero(outside):
        problems.new(
            rows[int(i)],
            "geometry",
            "outside_managed_area",
            "The position %(x)s, %(y)s lies outside the managed area",
            x=round(float(xy[i, 0]), 6),
            y=round(float(xy[i, 1]), 6),
        )
    return _Places(out["district"], out["subdistrict"], out["community"], out["grid"])


@dataclass
class _Resolved:
    name: list[str]
    competent: list[int]
    owner: list[int | None]
    maintainer: list[int | None]
    state: list[str]
    census_date: list[date]
    changed_on: list[date | None]
    data_source: list[str]
    accuracy: list[str]
    position_text: list[str]
    note: list[str]
    attributes: list[dict[str, Any]]


class _Cached:
    """Memoised parsing of values that repeat down a column (dates, states)."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self.parse = parse
        self.known: dict[str, Any] = {}

    def __call__(self, value: str) -> Any:
        try:
            return self.known[value]
        except KeyError:
            result = self.known[value] = self.parse(value)
            return result


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


def _check_fields(
    batch: NewComponents,
    class_rows: Sequence[ClassRow | None],
    departments: Mapping[str, int],
    today: date,
    problems: _Problems,
) -> _Resolved:
    """Departments, state, dates, texts and attributes of every row."""
    n = len(batch)
    names = _column(batch.name, n)
    competent = _column(batch.competent, n)
    owner = _column(batch.owner, n)
    maintainer = _column(batch.maintainer, n)
    states = _column(batch.state, n)
    census = _column(batch.census_date, n)
    changed = _column(batch.changed_on, n)
    source = _column(batch.data_source, n)
    accuracy = _column(batch.accuracy, n)
    position = _column(batch.position_text, n)
    note = _column(batch.note, n)
    attributes = batch.attributes if batch.attributes is not None else [{}] * n
    state_of = _Cached(lambda v: parse_state(v).value if v.strip() else ComponentState.INTACT.value)
    date_of = _Cached(parse_census_date)
    accuracy_of = _Cached(lambda v: a.value if (a := parse_accuracy(v)) else "")
    out = _Resolved([], [], [], [], [], [], [], [], [], [], [], [])

    def department(row: int, column: str, ref: str, fallback: int | None) -> int | None:
        ref = ref.strip()
        if not ref:
            return fallback
        found = departments.get(ref)
        if found is None:
            problems.new(
                row,
                column,
                "unknown_department",
                "No active department %(ref)s (give its credit code or its name)",
                ref=ref,
            )
        return found

    def text(row: int, column: str, value: str, limit: int) -> str:
        value = value.strip()
        if len(value) > limit:
            problems.new(
                row,
                column,
                "text_too_long",
                "At most %(limit)s characters, got %(n)s",
                limit=limit,
                n=len(value),
            )
        return value

    for i in range(n):
        row = batch.rows[i]
        cls = class_rows[i]
        out.name.append(text(row, "name", names[i], NAME_MAX) or (cls.name if cls else ""))
        fallback = cls.department_id if cls else None
        dept = department(row, "competent", competent[i], fallback)
        if dept is None and not competent[i].strip() and cls is not None:
            problems.new(
                row,
                "competent",
                "missing_competent_department",
                "No competent department given, and class %(code)s has no default department",
                code=cls.code,
            )
        out.competent.append(dept or 0)
        out.owner.append(department(row, "owner", owner[i], None))
        out.maintainer.append(department(row, "maintainer", maintainer[i], None))
        try:
            out.state.append(state_of(states[i]))
        except DomainError as exc:
            problems.add(row, "state", exc)
            out.state.append("")
        census_day = today
        if census[i].strip():
            try:
                census_day = date_of(census[i])
            except DomainError as exc:
                problems.add(row, "census_date", exc)
        if census_day > today:
            problems.new(
                row,
                "census_date",
                "census_date_in_future",
                "The census date %(value)s is in the future",
                value=census_day.isoformat(),
            )
        out.census_date.append(census_day)
        change_day = None
        if changed[i].strip():
            try:
                change_day = date_of(changed[i])
                if not census_day <= change_day <= today:
                    problems.new(
                        row,
                        "changed_on",
                        "invalid_change_date",
                        "The change date %(value)s must lie between the census date and today",
                        value=change_day.isoformat(),
                    )
            except DomainError as exc:
                problems.add(row, "changed_on", exc)
        out.changed_on.append(change_day)
        out.data_source.append(text(row, "data_source", source[i], SOURCE_MAX))
        try:
            out.accuracy.append(accuracy_of(accuracy[i]))
        except DomainError as exc:
            problems.add(row, "accuracy", exc)
            out.accuracy.append("")
        out.position_text.append(text(row, "position_text", position[i], POSITION_TEXT_MAX))
        out.note.append(text(row, "note", note[i], NOTE_MAX))
        attrs: dict[str, Any] = {}
        if cls is not None and (attributes[i] or cls.fields):
            try:
                attrs = check_attributes(cls.fields, attributes[i])
            except DomainError as exc:
                problems.add(row, "attributes", exc)
        out.attributes.append(attrs)
    return out


def _given_identifiers(
    batch: NewComponents,
    code_set: CodeSet,
    class_rows: Sequence[ClassRow | None],
    places: _Places,
    problems: _Problems,
) -> list[str]:
    """Identifiers given in the batch ('' where one is to be drawn), checked and unique."""
    if batch.identifier is None:
        return [""] * len(batch)
    seen: dict[str, int] = {}
    out: list[str] = []
    for i, value in enumerate(batch.identifier):
        value = value.strip()
        row = batch.rows[i]
        if not value:
            out.append("")
            continue
        try:
            parts = parse_component_identifier(code_set, value)
        except DomainError as exc:
            problems.add(row, "identifier", exc)
            out.append("")
            continue
        cls = class_rows[i]
        if cls is not None and parts.class_code != cls.code:
            problems.new(
                row,
                "identifier",
                "identifier_class_mismatch",
                "The identifier %(value)s names class %(theirs)s, the row says %(ours)s",
                value=value,
                theirs=parts.class_code,
                ours=cls.code,
            )
        district = places.district[i]
        if district and parts.admin != district:
            problems.new(
                row,
                "identifier",
                "identifier_admin_mismatch",
                "The identifier %(value)s names division %(theirs)s, the position lies in %(ours)s",
                value=value,
                theirs=parts.admin,
                ours=district,
            )
        if value in seen:
            problems.new(
                row,
                "identifier",
                "duplicate_identifier",
                "The identifier %(value)s is also on row %(other)s",
                value=value,
                other=seen[value],
            )
        seen.setdefault(value, row)
        out.append(value)
    return out


def _duplicates(
    deps: ServiceDeps,
    batch: NewComponents,
    class_rows: Sequence[ClassRow | None],
    xy: NDArray[np.float64],
    distance_m: float,
    given: Sequence[str],
) -> list[Duplicate]:
    """Likely duplicates within the batch and against stored components that are not removed."""
    if distance_m <= 0:
        return []
    ok = ~np.isnan(xy[:, 0])
    codes = np.array([c.code if c else "" for c in class_rows], dtype=object)
    index = np.flatnonzero(ok & (codes != ""))
    pts, cls = xy[index], codes[index]
    found = [
        Duplicate(
            batch.rows[index[p.first]],
            batch.rows[index[p.second]],
            None,
            str(cls[p.first]),
            p.distance_m,
        )
        for p in close_pairs(pts, cls, pts, cls, distance_m, same_set=True)
    ]
    if len(index) == 0:
        return found
    pad = distance_m / 80_000.0  # degrees, generous at any latitude in China
    with deps.db.read() as session:
        stored = session.execute(
            sa.select(Component.identifier, Component.class_code, Component.x, Component.y).where(
                Component.state != ComponentState.REMOVED.value,
                Component.x.between(float(pts[:, 0].min()) - pad, float(pts[:, 0].max()) + pad),
                Component.y.between(float(pts[:, 1].min()) - pad, float(pts[:, 1].max()) + pad),
                Component.class_code.in_(sorted(set(cls.tolist()))),
            )
        ).all()
    if not stored:
        return found
    ids = [r[0] for r in stored]
    s_cls = np.array([r[1] for r in stored], dtype=object)
    s_xy = np.array([(r[2], r[3]) for r in stored], dtype=np.float64)
    pairs: list[DuplicatePair] = close_pairs(pts, cls, s_xy, s_cls, distance_m, same_set=False)
    given_set = {g for g in given if g}
    for p in pairs:
        if ids[p.second] in given_set:
            continue  # the row re-surveys that very component; the identifier check refuses it
        found.append(
            Duplicate(
                batch.rows[index[p.first]], None, ids[p.second], str(cls[p.first]), p.distance_m
            )
        )
    found.sort(key=lambda d: (d.row, d.other_row or 0, d.other_identifier or ""))
    return found


# --- writing ----------------------------------------------------------------------------------


def draw_serials(
    session: Session,
    code_set: str,
    wanted: Mapping[tuple[str, str], int],
    floor: Mapping[tuple[str, str], int],
) -> dict[tuple[str, str], int]:
    """Reserve serials: for each (admin, class), the first of ``wanted[key]`` new ones.

    The counter rows are held until commit, so two writers never draw the same serial;
    ``floor`` is the highest serial a batch brings itself (given identifiers).
    """
    keys = sorted(set(wanted) | set(floor))
    if not keys:
        return {}
    insert_missing(
        session,
        ComponentSerial.__table__,  # type: ignore[arg-type]
        [
            {"code_set": code_set, "admin_code": a, "class_code": c, "last_serial": 0}
            for a, c in keys
        ],
    )
    table = ComponentSerial.__table__
    key_match = sa.tuple_(ComponentSerial.admin_code, ComponentSerial.class_code).in_(keys)
    lock_rows(session, table, ComponentSerial.code_set == code_set, key_match)  # type: ignore[arg-type]
    current = {
        (a, c): int(last)
        for a, c, last in session.execute(
            sa.select(
                ComponentSerial.admin_code, ComponentSerial.class_code, ComponentSerial.last_serial
            ).where(ComponentSerial.code_set == code_set, key_match)
        )
    }
    first: dict[tuple[str, str], int] = {}
    for key in keys:
        start = max(current.get(key, 0), floor.get(key, 0)) + 1
        count = wanted.get(key, 0)
        if start + count - 1 > 999_999:
            raise InvalidInput(
                "serials_exhausted",
                "No serials left for class %(cls)s in division %(admin)s",
                cls=key[1],
                admin=key[0],
            )
        first[key] = start
        session.execute(
            sa.update(ComponentSerial)
            .where(
                ComponentSerial.code_set == code_set,
                ComponentSerial.admin_code == key[0],
                ComponentSerial.class_code == key[1],
            )
            .values(last_serial=start + count - 1)
        )
    return first


def _draw_identifiers(
    session: Session,
    code_set: CodeSet,
    class_rows: Sequence[ClassRow | None],
    places: _Places,
    given: Sequence[str],
) -> tuple[list[str], int]:
    """Every row's identifier: the given one, or admin + class + the next serial."""
    wanted: dict[tuple[str, str], int] = {}
    floor: dict[tuple[str, str], int] = {}
    keys: list[tuple[str, str]] = []
    for i, value in enumerate(given):
        cls = class_rows[i]
        assert cls is not None  # checked before writing
        key = (str(places.district[i]), cls.code)
        keys.append(key)
        if value:
            floor[key] = max(floor.get(key, 0), int(value[-6:]))
        else:
            wanted[key] = wanted.get(key, 0) + 1
    first = draw_serials(session, code_set.key, wanted, floor)
    taken = dict(first)
    out: list[str] = []
    for key, value in zip(keys, given, strict=True):
        if value:
            out.append(value)
            continue
        serial = taken[key]
        taken[key] = serial + 1
        out.append(f"{key[0]}{key[1]}{serial:06d}")
    return out, sum(wanted.values())


def _refuse_taken(session: Session, given: Sequence[str], rows: Sequence[int], source: str) -> None:
    """Given identifiers that the inventory already holds refuse the batch (drawn ones come
    from held counters that every write path advances, so they cannot clash)."""
    problems: list[CensusProblem] = []
    chunk = 900
    position = {value: rows[i] for i, value in enumerate(given) if value}
    identifiers = list(position)
    for start in range(0, len(identifiers), chunk):
        part = identifiers[start : start + chunk]
        for (value,) in session.execute(
            sa.select(Component.identifier).where(Component.identifier.in_(part))
        ):
            problems.append(
                CensusProblem.of(
                    position[value],
                    "identifier",
                    InvalidInput(
                        "identifier_exists",
                        "The inventory already holds %(value)s (edit it instead)",
                        value=value,
                    ),
                )
            )
    if problems:
        raise CensusRefused(source, problems, total=len(problems))


def _write_rows(
    session: Session,
    *,
    identifiers: Sequence[str],
    code_set: str,
    class_rows: Sequence[ClassRow | None],
    geoms: NDArray[np.object_],
    xy: NDArray[np.float64],
    places: _Places,
    resolved: _Resolved,
    import_id: int,
    seq: int,
    now: datetime,
    actor: Actor,
    progress: Advance,
) -> None:
    """Insert the rows in chunks: executemany on SQLite, COPY on PostgreSQL.

    Rows go in identifier order, which keeps the identifier and class indexes' inserts local.
    """
    n = len(identifiers)
    postgres = session.get_bind().dialect.name == "postgresql"
    columns = _INSERT_COLUMNS
    order = np.argsort(np.asarray(identifiers, dtype=object), kind="stable")
    for start in range(0, n, _WRITE_CHUNK):
        stop = min(n, start + _WRITE_CHUNK)
        part = order[start:stop]
        if postgres:
            wkb = shapely.to_wkb(shapely.set_srid(geoms[part], 4490), hex=True, include_srid=True)
        else:
            wkb = shapely.to_wkb(geoms[part])
        rows = []
        for k, i in enumerate(part.tolist()):
            cls = class_rows[i]
            assert cls is not None
            attrs = resolved.attributes[i]
            rows.append(
                (
                    identifiers[i],
                    code_set,
                    cls.id,
                    cls.code,
                    resolved.name[i],
                    wkb[k],
                    float(xy[i, 0]),
                    float(xy[i, 1]),
                    places.grid[i] or None,
                    places.community[i] or None,
                    resolved.competent[i],
                    resolved.owner[i],
                    resolved.maintainer[i],
                    resolved.state[i],
                    resolved.census_date[i],
                    resolved.changed_on[i],
                    resolved.data_source[i],
                    resolved.accuracy[i],
                    resolved.position_text[i],
                    "[]",
                    resolved.note[i],
                    json.dumps(attrs, ensure_ascii=False) if attrs else "{}",
                    import_id,
                    1,
                    seq,
                    now,
                    actor.user_id,
                    now,
                )
            )
        if postgres:
            _copy(session, columns, rows)
        else:
            _executemany(session, columns, rows)
        progress("write", stop, n)


_INSERT_COLUMNS = (
    "identifier",
    "code_set",
    "class_id",
    "class_code",
    "name",
    "geom",
    "x",
    "y",
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
    "photos",
    "note",
    "attributes",
    "import_id",
    "version",
    "change_seq",
    "created_at",
    "created_by",
    "updated_at",
)


def _executemany(session: Session, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """SQLite: one prepared INSERT run over the rows (dates and times in SQLAlchemy's text form)."""
    texts: dict[Any, str] = {}

    def as_text(value: Any) -> str | None:
        if value is None:
            return None
        found = texts.get(value)
        if found is None:
            found = texts[value] = (
                value.strftime("%Y-%m-%d %H:%M:%S.%f")
                if isinstance(value, datetime)
                else value.isoformat()
            )
        return found

    convert = [
        k
        for k, c in enumerate(columns)
        if c in {"created_at", "updated_at", "census_date", "changed_on"}
    ]
    fixed = []
    for values in rows:
        out = list(values)
        for k in convert:
            out[k] = as_text(out[k])
        fixed.append(tuple(out))
    sql = f"INSERT INTO component ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    session.connection().exec_driver_sql(sql, fixed)


def _copy(session: Session, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: COPY the rows in (geometry as hex EWKB text)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    sql = f"COPY component ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for values in rows:
            copy.write_row(values)
