"""Switching the city's active code set: a migration with a report.

The dry run says, per class, how many components move to which class of the target set and
how many would be lost; a class in use without a counterpart refuses the switch. The switch
itself re-codes every component in one transaction — new class, new identifier (same admin
code + target class code + a freshly drawn serial; 16 ↔ 17 digits), version + 1, one history
row each, the ``components`` counter bumped — and writes one audit row with the counts.
Bulk statements throughout: a million components are never loaded as ORM objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import CatalogClass, CatalogSetting, Component
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import GBT47678_5_2026, CodeSet, parse_code_set
from gridcity.domain.catalog_mapping import (
    ClassRef,
    SwitchReport,
    check_switch,
    identity_report,
    switch_report,
)
from gridcity.domain.components import check_reason
from gridcity.domain.errors import Conflict
from gridcity.services import audit
from gridcity.services.catalog import mapping_rows
from gridcity.services.component_writes import COMPONENTS_STATE, draw_serials
from gridcity.services.deps import RequestInfo, ServiceDeps

_CHUNK = 20_000
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a UTC datetime in SQLite


def component_usage(session: Session) -> dict[ClassRef, int]:
    """How many components (removed ones too: they keep their identifier) refer to each class."""
    query = (
        sa.select(CatalogClass.code_set, CatalogClass.kind, CatalogClass.code, sa.func.count())
        .select_from(Component)
        .join(CatalogClass, CatalogClass.id == Component.class_id)
        .group_by(CatalogClass.id, CatalogClass.code_set, CatalogClass.kind, CatalogClass.code)
    )
    return {ClassRef(s, k, c): int(n) for s, k, c, n in session.execute(query)}


# Every table that refers to catalog classes, with a count per class. The switch refuses to
# leave any of these classes unmapped. Cases (a later issue) register their counter here and
# add their re-coding to ``switch_code_set`` next to ``_recode_components``.
USAGE: dict[str, Callable[[Session], dict[ClassRef, int]]] = {"component": component_usage}


def class_usage(session: Session) -> dict[str, dict[ClassRef, int]]:
    """Per referring table, how many rows refer to each class (of every set)."""
    return {table: count(session) for table, count in USAGE.items()}


def classes_in_use(session: Session, code_set: str) -> set[ClassRef]:
    """Classes of a set that data refers to (components today; cases register in ``USAGE``)."""
    return {
        ref
        for counts in class_usage(session).values()
        for ref, n in counts.items()
        if n and ref.code_set == code_set
    }


@dataclass(frozen=True)
class SwitchResult:
    """The report of a switch, whether it was carried out, and how many components it re-coded."""

    report: SwitchReport
    switched: bool
    recoded: int = 0


def _report(session: Session, current: str, target: str) -> SwitchReport:
    """The switch report from the stored classes, mapping and class usage."""
    refs = [
        ClassRef(code_set, kind, code)
        for code_set, kind, code in session.execute(
            sa.select(CatalogClass.code_set, CatalogClass.kind, CatalogClass.code).where(
                CatalogClass.code_set == current, CatalogClass.level == "minor"
            )
        )
    ]
    usage = class_usage(session)
    in_use = {ref for counts in usage.values() for ref, n in counts.items() if n}
    return switch_report(
        refs,
        mapping_rows(session),
        current,
        target,
        components=usage.get("component", {}),
        in_use=in_use,
    )


def switch_code_set(
    deps: ServiceDeps,
    actor: Actor,
    to_set: str,
    *,
    dry_run: bool,
    info: RequestInfo,
    reason: str = "",
    expected_from: str | None = None,
) -> SwitchResult:
    """Switch the city's active code set and re-code every component (administrators), or
    only report with ``dry_run``.

    Switching to the active set is a no-op with an identity report. A dry run returns the
    report with the classes in use it would lose; the real switch is refused when there are
    any, and a lost race with another switch is a 409 — also when ``expected_from`` (the set
    the person saw active in the report they confirmed) is no longer the active one. The
    ``reason`` goes into the audit row and each component's history row.
    """
    require(actor, Permission.SETTINGS_WRITE)
    target = parse_code_set(to_set)
    why = check_reason(reason, required=False)
    now = deps.clock()
    with deps.db.transaction() as session:
        setting = session.get(CatalogSetting, 1)
        current = setting.active_code_set if setting else GBT47678_5_2026
        if expected_from is not None and not dry_run and current != expected_from:
            raise Conflict(
                "code_set_switched_meanwhile",
                "Someone else switched the active code set just now; "
                "reload the report and try again",
            )
        if current == target.key:
            # Already active: nothing is lost, nothing to check, nothing to write.
            refs = [
                ClassRef(s, k, c)
                for s, k, c in session.execute(
                    sa.select(CatalogClass.code_set, CatalogClass.kind, CatalogClass.code).where(
                        CatalogClass.code_set == current, CatalogClass.level == "minor"
                    )
                )
            ]
            return SwitchResult(identity_report(refs, current), False)
        report = _report(session, current, target.key)
        if dry_run:
            return SwitchResult(report, False)
        check_switch(report)
        _claim_setting(session, setting is None, current, target.key, now)
        # Held now (SQLite: the write lock; PostgreSQL: the setting row and the table lock
        # below), so no component can appear or change between this report and the re-coding.
        _lock_components(session)
        report = _report(session, current, target.key)
        check_switch(report)
        if report.moves:
            require(actor, Permission.COMPONENT_WRITE)
        recoded = _recode_components(session, report, target, actor, now, why)
        audit.append(
            session,
            at=now,
            actor=actor,
            action="catalog.switched",
            target_type="catalog_setting",
            target_id=1,
            detail={
                "from": current,
                "to": target.key,
                "mapped": len(report.mapped),
                "unmapped": len(report.unmapped),
                "components": recoded,
                "reason": why,
                "by_class": {
                    f"{m.source.kind}:{m.source.code}→{m.target.kind}:{m.target.code}": (
                        m.components
                    )
                    for m in report.moves
                    if m.target is not None
                },
            },
            info=info,
        )
    if recoded:
        deps.spatial_cache.clear()
    return SwitchResult(report, True, recoded)


def _claim_setting(
    session: Session, missing: bool, current: str, target: str, now: datetime
) -> None:
    """Make ``target`` active, only if the active set is still the one the report was for."""
    if missing:
        # A concurrent first switch makes this insert clash: the transaction turns it into 409.
        session.add(CatalogSetting(id=1, active_code_set=target, updated_at=now))
        session.flush()
        return
    changed = session.execute(
        sa.update(CatalogSetting)
        .where(CatalogSetting.id == 1, CatalogSetting.active_code_set == current)
        .values(active_code_set=target, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "code_set_switched_meanwhile",
            "Someone else switched the active code set just now; reload the report and try again",
        )


def _lock_components(session: Session) -> None:
    """Keep other writers off the component table until commit (reads go on).

    SQLite has one writer at a time and this transaction has written already. PostgreSQL:
    SHARE ROW EXCLUSIVE conflicts with every insert, update and delete, and with itself.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE component IN SHARE ROW EXCLUSIVE MODE"))


def _class_targets(session: Session, report: SwitchReport) -> dict[int, tuple[int, str]]:
    """Source class id → (target class id, target code) for every class that moves."""
    pairs = {(m.source, m.target) for m in report.moves if m.target is not None}
    wanted = {ref for pair in pairs for ref in pair}
    ids: dict[ClassRef, int] = {}
    for code_set in {r.code_set for r in wanted}:
        for id_, kind, code in session.execute(
            sa.select(CatalogClass.id, CatalogClass.kind, CatalogClass.code).where(
                CatalogClass.code_set == code_set, CatalogClass.level == "minor"
            )
        ):
            ref = ClassRef(code_set, kind, code)
            if ref in wanted:
                ids[ref] = int(id_)
    return {ids[source]: (ids[target], target.code) for source, target in pairs}


def _recode_components(
    session: Session,
    report: SwitchReport,
    target: CodeSet,
    actor: Actor,
    now: datetime,
    why: str = "",
) -> int:
    """Give every component of a moving class its class and identifier in the target set.

    Serials are drawn per (admin code, target class) once, up front; the rows are then read and
    written in chunks by id (keyset pages, so memory stays flat at a million rows).
    """
    if not report.moves:
        return 0
    targets = _class_targets(session, report)
    sources = sorted(targets)
    admin = sa.func.substr(Component.identifier, 1, 6)
    wanted: dict[tuple[str, str], int] = {}
    for admin_code, class_id, count in session.execute(
        sa.select(admin, Component.class_id, sa.func.count())
        .where(Component.class_id.in_(sources))
        .group_by(admin, Component.class_id)
    ):
        key = (str(admin_code), targets[int(class_id)][1])
        wanted[key] = wanted.get(key, 0) + int(count)
    taken = draw_serials(session, target.key, wanted, {})
    bump_version(session, COMPONENTS_STATE, now)
    session.flush()
    seq = read_versions(session)[COMPONENTS_STATE]
    writer = _PostgresWriter(session) if _postgres(session) else _SqliteWriter(session)
    # Between 2007 and 2013 identifiers keep 16 digits: a new one may be another row's old one.
    # Those rows step aside first ('~' + the old identifier, undone by the re-coding), so no
    # statement ever sees a duplicate.
    writer.step_aside(sources, target.identifier_digits)
    reason = f"code set switch {report.from_set} → {report.to_set}" + (f": {why}" if why else "")
    reason = reason[:500]
    last, total = 0, 0
    while True:
        rows = session.execute(
            sa.select(
                Component.id,
                Component.identifier,
                Component.class_id,
                Component.class_code,
                Component.version,
            )
            .where(Component.class_id.in_(sources), Component.id > last)
            .order_by(Component.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return total
        last = int(rows[-1][0])
        ids, identifiers, class_ids, codes, history = [], [], [], [], []
        for id_, held, class_id, old_code, version in rows:
            old = held.lstrip("~")
            new_class, new_code = targets[int(class_id)]
            key = (old[:6], new_code)
            serial = taken[key]
            taken[key] = serial + 1
            new = f"{old[:6]}{new_code}{serial:06d}"
            ids.append(int(id_))
            identifiers.append(new)
            class_ids.append(new_class)
            codes.append(new_code)
            history.append((int(id_), int(version) + 1, _changes(old, new, old_code, new_code)))
        writer.recode(ids, identifiers, class_ids, codes, target.key, seq, now)
        writer.history(history, reason, actor, now)
        total += len(rows)


def _changes(old: str, new: str, old_code: str, new_code: str) -> str:
    """The history row's changes as JSON text (digits only: nothing to escape)."""
    return f'{{"identifier": ["{old}", "{new}"], "class_code": ["{old_code}", "{new_code}"]}}'


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class _SqliteWriter:
    """SQLite: one prepared statement run over each chunk (executemany by primary key)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()

    def step_aside(self, class_ids: Sequence[int], digits: int) -> None:
        marks = ", ".join("?" * len(class_ids))
        self.connection.exec_driver_sql(
            f"UPDATE component SET identifier = '~' || identifier WHERE class_id IN ({marks}) "
            "AND length(identifier) = ?",
            (*class_ids, digits),
        )

    def recode(
        self,
        ids: list[int],
        identifiers: list[str],
        class_ids: list[int],
        codes: list[str],
        code_set: str,
        seq: int,
        now: datetime,
    ) -> None:
        at = now.astimezone(UTC).strftime(_SQLITE_TIME)
        self.connection.exec_driver_sql(
            "UPDATE component SET identifier = ?, code_set = ?, class_id = ?, class_code = ?, "
            "version = version + 1, change_seq = ?, updated_at = ? WHERE id = ?",
            [
                (identifier, code_set, cls, code, seq, at, id_)
                for id_, identifier, cls, code in zip(
                    ids, identifiers, class_ids, codes, strict=True
                )
            ],
        )

    def history(
        self, rows: list[tuple[int, int, str]], reason: str, actor: Actor, now: datetime
    ) -> None:
        at = now.astimezone(UTC).strftime(_SQLITE_TIME)
        self.connection.exec_driver_sql(
            "INSERT INTO component_version (component_id, version, action, changes, reason, "
            "actor_id, actor_name, changed_at) VALUES (?, ?, 'recoded', ?, ?, ?, ?, ?)",
            [
                (cid, version, changes, reason, actor.user_id, actor.username, at)
                for cid, version, changes in rows
            ],
        )


class _PostgresWriter:
    """PostgreSQL: COPY each chunk into a temporary table, then one UPDATE … FROM."""

    def __init__(self, session: Session) -> None:
        self.session = session
        raw = session.connection().connection.driver_connection
        assert raw is not None
        self.raw: Any = raw
        session.execute(
            sa.text(
                "CREATE TEMPORARY TABLE recode_component (id integer PRIMARY KEY, "
                "identifier varchar(17), class_id integer, class_code varchar(8)) ON COMMIT DROP"
            )
        )

    def _load(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.session.execute(sa.text("TRUNCATE recode_component"))
        with (
            self.raw.cursor() as cursor,
            cursor.copy(
                "COPY recode_component (id, identifier, class_id, class_code) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def step_aside(self, class_ids: Sequence[int], digits: int) -> None:
        self.session.execute(
            sa.text(
                "UPDATE component SET identifier = '~' || identifier "
                "WHERE class_id = ANY(:ids) AND length(identifier) = :digits"
            ),
            {"ids": list(class_ids), "digits": digits},
        )

    def recode(
        self,
        ids: list[int],
        identifiers: list[str],
        class_ids: list[int],
        codes: list[str],
        code_set: str,
        seq: int,
        now: datetime,
    ) -> None:
        self._load(list(zip(ids, identifiers, class_ids, codes, strict=True)))
        self.session.execute(
            sa.text(
                "UPDATE component c SET identifier = r.identifier, code_set = :code_set, "
                "class_id = r.class_id, class_code = r.class_code, version = c.version + 1, "
                "change_seq = :seq, updated_at = :at FROM recode_component r WHERE c.id = r.id"
            ),
            {"code_set": code_set, "seq": seq, "at": now.astimezone(UTC)},
        )

    def history(
        self, rows: list[tuple[int, int, str]], reason: str, actor: Actor, now: datetime
    ) -> None:
        at = now.astimezone(UTC)
        sql = (
            "COPY component_version (component_id, version, action, changes, reason, actor_id, "
            "actor_name, changed_at) FROM STDIN"
        )
        with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
            for cid, version, changes in rows:
                copy.write_row(
                    (cid, version, "recoded", changes, reason, actor.user_id, actor.username, at)
                )
