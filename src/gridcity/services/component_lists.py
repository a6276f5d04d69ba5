"""Lists of components (部件): search, filters, paging, in identifier order, within the actor's
data scope, on a million rows.

How it stays cheap (figures in docs/components.md, from ``bench/component_search.py``):

- every filter is a range or an equality on an indexed column (identifier, grid code, class,
  competent department), never ``LIKE 'p%'`` (which neither database answers from a B-tree
  here);
- counting stops at ``COUNT_LIMIT`` matches: an exact count of a million rows is a full scan;
- with more matches than that, SQLite is told to walk the identifier index and test each row
  (the first page is then found within a few thousand rows) instead of collecting every match
  through another index and sorting it: its planner, without statistics, picks the latter.
  PostgreSQL's planner makes that choice itself;
- a class filter also bounds the identifiers (admin + class + serial: a class's components are
  together in identifier order), so that such a walk starts at the class's first component.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import CatalogClass, Component, Division
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.components import ComponentState, parse_state
from gridcity.domain.errors import InvalidInput
from gridcity.services.component_queries import (
    Clause,
    DepartmentRef,
    actor_departments,
    after_prefix,
    department_names,
    in_division,
    scope_clause,
    starts_with,
    state_name,
    unindexed,
    with_department,
)
from gridcity.services.deps import ServiceDeps
from gridcity.services.pagination import MAX_PER_PAGE, Page

COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class ComponentSummary:
    """One line of a component list."""

    identifier: str
    name: str
    class_code: str
    class_name: str
    state: str
    state_name: str
    lon: float
    lat: float
    grid_code: str | None
    community_code: str | None
    competent_department: DepartmentRef
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class ComponentPage(Page[ComponentSummary]):
    """A page of components; ``exact`` is False when more than ``total`` match."""

    exact: bool = True


@dataclass(frozen=True)
class _Filters:
    """The checked filters of one list request."""

    identifier_prefix: str
    class_ids: list[int] | None  # None: no class filter; [] matches nothing
    class_span: tuple[str, str | None] | None  # identifiers of those classes lie in [low, high)
    name_text: str
    state: str
    include_removed: bool
    department_id: int | None
    division: str
    grid: str


def _digits(value: str, refusal: InvalidInput) -> str:
    """A code filter: digits only, else the given refusal."""
    text = value.strip()
    if text and not (text.isascii() and text.isdigit()):
        raise refusal
    return text


def _classes(session: Session, *where: Clause) -> list[int]:
    """Ids of the minor component classes (of any code set) that match."""
    return list(
        session.scalars(
            sa.select(CatalogClass.id).where(
                CatalogClass.kind == "component", CatalogClass.level == "minor", *where
            )
        )
    )


def _class_span(session: Session, class_ids: list[int]) -> tuple[str, str | None] | None:
    """Bounds of the identifiers of these classes: an identifier begins with its district's
    code and its class code, so the classes' components lie between the least such prefix and
    the greatest end of one. Both databases then read them in identifier order from the first
    (a class's components are together; a planner that assumes them spread would walk the
    whole identifier index past the other classes)."""
    codes = set(session.scalars(sa.select(CatalogClass.code).where(CatalogClass.id.in_(class_ids))))
    districts = set(session.scalars(sa.select(Division.code).where(Division.level == "district")))
    prefixes = [d + c for d in districts for c in codes]
    if not prefixes:
        return None
    ends = [after_prefix(p) for p in prefixes]
    return min(prefixes), (None if None in ends else max(e for e in ends if e is not None))


def _filters(
    session: Session,
    *,
    q: str,
    class_code: str,
    state: str,
    department_id: int | None,
    community_code: str,
    grid_code: str,
    include_removed: bool,
) -> _Filters:
    """Check the filters and resolve ``q`` and the class code into class ids."""
    text = q.strip()
    prefix = text if text.isascii() and text.isdigit() else ""
    class_ids: list[int] | None = None
    name_text = ""
    if text and not prefix:
        found = _classes(
            session,
            sa.or_(
                CatalogClass.name_zh.contains(text, autoescape=True),
                CatalogClass.initials.contains(text.lower(), autoescape=True),
            ),
        )
        class_ids, name_text = (found, "") if found else (None, text)
    code = _digits(
        class_code,
        InvalidInput("invalid_class_filter", "A class code is digits: %(value)s", value=class_code),
    )
    if code:
        chosen = set(_classes(session, CatalogClass.code == code))
        class_ids = sorted(chosen if class_ids is None else chosen & set(class_ids))
    return _Filters(
        identifier_prefix=prefix,
        class_ids=class_ids,
        class_span=_class_span(session, class_ids) if class_ids else None,
        name_text=name_text,
        state=parse_state(state).value if state.strip() else "",
        include_removed=include_removed,
        department_id=department_id,
        division=_digits(
            community_code,
            InvalidInput(
                "invalid_division_filter",
                "A division code is digits: %(value)s",
                value=community_code,
            ),
        ),
        grid=_digits(
            grid_code,
            InvalidInput(
                "invalid_grid_filter", "A grid code is digits: %(value)s", value=grid_code
            ),
        ),
    )


def _where(
    actor: Actor, departments: frozenset[int], f: _Filters, *, indexed: bool
) -> list[Clause]:
    """The WHERE terms of the filters (``indexed=False``: for a walk of the identifier index)."""
    where = [scope_clause(actor, departments, indexed=indexed)]
    if f.identifier_prefix:
        where.append(starts_with(Component.identifier, f.identifier_prefix))
    if f.class_ids is not None:
        classes = Component.class_id if indexed else unindexed(Component.class_id)
        where.append(classes.in_(f.class_ids))
    if f.class_span is not None:
        low, high = f.class_span
        where.append(Component.identifier >= low)
        if high is not None:
            where.append(Component.identifier < high)
    if f.name_text:
        where.append(Component.name.contains(f.name_text, autoescape=True))
    if f.state:
        where.append(Component.state == f.state)
        if f.state != ComponentState.INTACT.value:
            # Spelled as the partial index's own condition, which SQLite needs to use it.
            where.append(Component.state.op("<>")(sa.literal_column("'intact'")))
    elif not f.include_removed:
        where.append(Component.state != ComponentState.REMOVED.value)
    if f.department_id is not None:
        where.append(with_department([f.department_id], indexed=indexed))
    if f.division:
        where.append(in_division(f.division, indexed=indexed))
    if f.grid:
        grid = Component.grid_code if indexed else unindexed(Component.grid_code)
        where.append(grid == f.grid)
    return where


def list_components(
    deps: ServiceDeps,
    actor: Actor,
    *,
    q: str = "",
    class_code: str = "",
    state: str = "",
    department_id: int | None = None,
    community_code: str = "",
    grid_code: str = "",
    include_removed: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> ComponentPage:
    """A page of components in the actor's scope, in identifier order (staff).

    ``q`` of digits is an identifier prefix. Other text first names classes: a part of the
    class name or of its pinyin initials (``gsjg`` finds 供水井盖, ``jg`` every kind of 井盖,
    ``井盖`` too), and finds the components of those classes through the class index. A
    component's name is its class name unless the survey gave it another, which nearly always
    still contains the class name ("东门供水井盖"); so only text that names no class is looked
    for in the components' own names ("景山", "3号"), which reads every row in scope.

    ``community_code`` takes any division code (district, subdistrict, community);
    ``department_id`` matches any of the three departments. Removed components are left out
    unless ``include_removed`` or the state filter asks for them. The total is exact up to
    ``COUNT_LIMIT``; above it, ``exact`` is False and the total is the limit.
    """
    require(actor, Permission.COMPONENT_READ)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    with deps.db.read() as session:
        departments = actor_departments(session, actor)
        chosen = _filters(
            session,
            q=q,
            class_code=class_code,
            state=state,
            department_id=department_id,
            community_code=community_code,
            grid_code=grid_code,
            include_removed=include_removed,
        )
        where = _where(actor, departments, chosen, indexed=True)
        matched = sa.select(sa.literal(1)).select_from(Component).where(*where)
        counted = session.scalar(
            sa.select(sa.func.count()).select_from(matched.limit(COUNT_LIMIT + 1).subquery())
        )
        counted = int(counted or 0)
        exact = counted <= COUNT_LIMIT
        offset = (page - 1) * per_page
        rows: list[sa.Row[tuple[object, ...]]] = []
        if offset < counted or not exact:
            if not exact and session.get_bind().dialect.name == "sqlite":
                where = _where(actor, departments, chosen, indexed=False)
            rows = list(_page_rows(session, where, per_page, offset))
        names = department_names(session, (r.competent_department_id for r in rows))
    items = [
        ComponentSummary(
            identifier=r.identifier,
            name=r.name,
            class_code=r.class_code,
            class_name=r.name_zh,
            state=r.state,
            state_name=state_name(r.state),
            lon=r.x,
            lat=r.y,
            grid_code=r.grid_code,
            community_code=r.community_code,
            competent_department=DepartmentRef(
                r.competent_department_id, names.get(r.competent_department_id, "")
            ),
            version=r.version,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    total = min(counted, COUNT_LIMIT)
    return ComponentPage(items=items, total=total, page=page, per_page=per_page, exact=exact)


def _page_rows(
    session: Session, where: list[Clause], limit: int, offset: int
) -> sa.Result[tuple[object, ...]]:
    """One page of list rows, with the class name."""
    return session.execute(
        sa.select(
            Component.identifier,
            Component.name,
            Component.class_code,
            CatalogClass.name_zh,
            Component.state,
            Component.x,
            Component.y,
            Component.grid_code,
            Component.community_code,
            Component.competent_department_id,
            Component.version,
            Component.updated_at,
        )
        .join(CatalogClass, CatalogClass.id == Component.class_id)
        .where(*where)
        .order_by(Component.identifier)
        .limit(limit)
        .offset(offset)
    )
