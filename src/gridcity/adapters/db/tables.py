"""ORM tables. The migration history in ``migrations/`` is the source of truth for the schema;
``tests/integration/test_migrations.py`` proves the two agree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gridcity.adapters.db.spatial import Geometry, bbox_values
from gridcity.adapters.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic batch mode needs them)."""

    metadata = sa.MetaData(naming_convention=NAMING)


class SpatialMixin:
    """A geometry column in the stored CRS plus its bounding box."""

    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry("MULTIPOLYGON"), nullable=True)
    min_x: Mapped[float | None] = mapped_column(sa.Float)
    min_y: Mapped[float | None] = mapped_column(sa.Float)
    max_x: Mapped[float | None] = mapped_column(sa.Float)
    max_y: Mapped[float | None] = mapped_column(sa.Float)

    def set_geometry(self, geom: BaseGeometry | None) -> None:
        """Set the geometry and keep the bounding box in step."""
        self.geom = geom
        for key, value in bbox_values(geom).items():
            setattr(self, key, value)


class Division(SpatialMixin, Base):
    """District, subdistrict or community, with its boundary."""

    __tablename__ = "division"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    level: Mapped[str] = mapped_column(sa.String(16), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("division.id"), index=True)
    area_m2: Mapped[float | None] = mapped_column(sa.Float)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    parent: Mapped[Division | None] = relationship(remote_side="Division.id")


class Department(Base):
    """A professional department (专业部门) that handles cases."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    short_name: Mapped[str] = mapped_column(sa.String(40), default="")
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("division.id"))
    contact_person: Mapped[str] = mapped_column(sa.String(50), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(30), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Center(Base):
    """The supervision center (监督中心) or the command center (指挥中心) of a district."""

    __tablename__ = "center"
    __table_args__ = (sa.UniqueConstraint("district_id", "kind", name="uq_center_district_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(100))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("division.id"))
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    """A staff account. Roles are stored as a comma-separated list of role names."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    roles: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    center_id: Mapped[int | None] = mapped_column(sa.ForeignKey("center.id"), index=True)
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    scope_divisions: Mapped[list[UserScopeDivision]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    scope_departments: Mapped[list[UserScopeDepartment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class UserScopeDivision(Base):
    """One division (by code; a prefix covers its children) in a user's data scope."""

    __tablename__ = "user_scope_division"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    division_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)


class UserScopeDepartment(Base):
    """One department in a user's data scope."""

    __tablename__ = "user_scope_department"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("department.id", ondelete="CASCADE"), primary_key=True
    )


class UserSession(Base):
    """A browser session; the cookie carries the token, the table keeps only its SHA-256."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")


class ApiToken(Base):
    """A bearer token for the API and the field app; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditLog(Base):
    """Append-only record of logins, failures, permission changes and every state change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(32), default="")
    target_id: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    request_id: Mapped[str] = mapped_column(sa.String(64), default="")


class JobRun(Base):
    """Last run of each periodic job, so several workers do not repeat one another."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str] = mapped_column(sa.String(300), default="")


class GridLayer(Base):
    """A grid layer: the unit grids, or responsibility, social, enforcement, sanitation, fire."""

    __tablename__ = "grid_layer"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GridCell(SpatialMixin, Base):
    """One version of one cell of a layer, valid from ``valid_from`` until ``valid_to`` (None: now)."""

    __tablename__ = "grid_cell"
    __table_args__ = (
        sa.UniqueConstraint("layer_id", "code", "valid_from", name="uq_grid_cell_layer_code_from"),
        sa.Index("ix_grid_cell_layer_id_valid_to", "layer_id", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(sa.ForeignKey("grid_layer.id"))
    code: Mapped[str] = mapped_column(sa.String(32), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    community_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SpatialState(Base):
    """A counter per spatial data set (``grids``, ``divisions``), bumped by every change to it,
    so that each process knows when its in-memory point index is stale."""

    __tablename__ = "spatial_state"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GridLayerScheme(Base):
    """The code scheme and coverage rule a layer's cells obey (``domain.layers.Scheme``)."""

    __tablename__ = "grid_layer_scheme"

    layer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grid_layer.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(sa.String(32))


class GridCellMember(Base):
    """One unit grid of a cell made of whole unit grids (a responsibility grid's patrol area)."""

    __tablename__ = "grid_cell_member"

    cell_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grid_cell.id", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(sa.String(15), primary_key=True, index=True)


class Assignment(Base):
    """One person on one post for a grid cell or a division, over days and an optional shift."""

    __tablename__ = "responsibility_assignment"
    __table_args__ = (
        sa.CheckConstraint(
            "(cell_code IS NOT NULL AND layer_id IS NOT NULL AND division_code IS NULL)"
            " OR (cell_code IS NULL AND layer_id IS NULL AND division_code IS NOT NULL)",
            name="one_target",
        ),
        sa.Index("ix_responsibility_assignment_layer_id_cell_code", "layer_id", "cell_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    post: Mapped[str] = mapped_column(sa.String(16))
    layer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grid_layer.id"))
    cell_code: Mapped[str | None] = mapped_column(sa.String(32))
    division_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    shift: Mapped[str] = mapped_column(sa.String(16), default="")
    # ISO weekday digits of a rota ("12345": Monday to Friday); every day by default.
    weekdays: Mapped[str] = mapped_column(sa.String(7), default="1234567", server_default="1234567")
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(sa.Integer)


class LayerSchemeSetting(Base):
    """What a city changed about a layer scheme: marker, division level, sequence, names."""

    __tablename__ = "layer_scheme_setting"

    scheme: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    marker: Mapped[str] = mapped_column(sa.String(4))
    division_level: Mapped[str] = mapped_column(sa.String(16))
    sequence_digits: Mapped[int] = mapped_column(sa.Integer)
    name_zh: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str] = mapped_column(sa.String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NamedShiftRow(Base):
    """A named shift (``day``: 08:00–20:00, local time); a retired one takes no new assignments."""

    __tablename__ = "named_shift"

    name: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    starts_at: Mapped[str] = mapped_column(sa.String(5))
    ends_at: Mapped[str] = mapped_column(sa.String(5))
    name_zh: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str] = mapped_column(sa.String(50))
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogCodeSet(Base):
    """A versioned code set of the standard catalog (CJ/T 214-2007, GB/T 47678.5-2026 …)."""

    __tablename__ = "catalog_code_set"

    key: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(60))
    name_en: Mapped[str] = mapped_column(sa.String(60))
    minor_digits: Mapped[int] = mapped_column(sa.Integer)


class CatalogSetting(Base):
    """The city's active code set (one row, id 1)."""

    __tablename__ = "catalog_setting"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    active_code_set: Mapped[str] = mapped_column(sa.ForeignKey("catalog_code_set.key"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogClass(Base):
    """A major or minor class of a code set, standard (seeded) or a local extension."""

    __tablename__ = "catalog_class"
    __table_args__ = (
        sa.UniqueConstraint("code_set", "kind", "level", "code", name="uq_catalog_class_key"),
        sa.CheckConstraint("level IN ('major', 'minor')", name="level"),
        sa.CheckConstraint("kind IN ('component', 'event', 'matter')", name="kind"),
        sa.CheckConstraint("confidence IN ('✅', '🟡', '❓', '')", name="confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code_set: Mapped[str] = mapped_column(sa.ForeignKey("catalog_code_set.key"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    level: Mapped[str] = mapped_column(sa.String(8))
    code: Mapped[str] = mapped_column(sa.String(8))
    major: Mapped[str] = mapped_column(sa.String(2))
    name_zh: Mapped[str] = mapped_column(sa.String(60))
    name_en: Mapped[str] = mapped_column(sa.String(60), default="")
    initials: Mapped[str] = mapped_column(sa.String(60), default="")
    confidence: Mapped[str] = mapped_column(sa.String(4))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    is_local_extension: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    filing_criteria: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    closing_criteria: Mapped[str] = mapped_column(sa.String(500), default="")
    time_limits: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    form_fields: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogMapping(Base):
    """One class of a code set and its counterpart in another, with the basis of the pairing."""

    __tablename__ = "catalog_mapping"
    __table_args__ = (
        sa.UniqueConstraint(
            "source_set", "source_kind", "source_code", "target_set", name="uq_catalog_mapping_key"
        ),
        sa.CheckConstraint("basis IN ('rule', 'name_match', 'manual')", name="basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_set: Mapped[str] = mapped_column(sa.ForeignKey("catalog_code_set.key"))
    source_kind: Mapped[str] = mapped_column(sa.String(16))
    source_code: Mapped[str] = mapped_column(sa.String(8))
    target_set: Mapped[str] = mapped_column(sa.ForeignKey("catalog_code_set.key"))
    target_kind: Mapped[str] = mapped_column(sa.String(16))
    target_code: Mapped[str] = mapped_column(sa.String(8))
    basis: Mapped[str] = mapped_column(sa.String(16))
    confidence: Mapped[str] = mapped_column(sa.String(4))
    note: Mapped[str] = mapped_column(sa.String(500), default="")


class ComponentImport(Base):
    """One census file imported into the inventory (部件普查): who, when, how many rows, why."""

    __tablename__ = "component_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(200))
    file_format: Mapped[str] = mapped_column(sa.String(16))
    code_set: Mapped[str] = mapped_column(sa.ForeignKey("catalog_code_set.key"))
    rows: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    actor_name: Mapped[str] = mapped_column(sa.String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComponentSerial(Base):
    """The last serial drawn for identifiers of one (code set, admin code, class)."""

    __tablename__ = "component_serial"

    code_set: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    admin_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    class_code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    last_serial: Mapped[int] = mapped_column(sa.Integer)


class Component(Base):
    """A surveyed public facility (部件); removal is the state ``removed``, never a deleted row.

    ``x``/``y`` is the anchor point (the point itself, or a point on the line or inside the
    polygon) that places it on the map and in its grid; there are no bounding-box columns
    (PostgreSQL has a GiST index, SQLite the in-process component index, decision 0011). The
    subdistrict is the first 9 digits of ``community_code``. ``change_seq`` is the ``components``
    counter of the write that last touched the row, so a process's map index reloads only
    what changed.
    """

    __tablename__ = "component"
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('intact', 'damaged', 'lost', 'occupied', 'abandoned', 'removed')",
            name="state",
        ),
        sa.CheckConstraint("accuracy IN ('A', 'B', 'C', '')", name="accuracy"),
        sa.Index(
            "ix_component_state_identifier",
            "state",
            "identifier",
            sqlite_where=sa.text("state <> 'intact'"),
            postgresql_where=sa.text("state <> 'intact'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(sa.String(17), unique=True)
    code_set: Mapped[str] = mapped_column(sa.ForeignKey("catalog_code_set.key"))
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_class.id"), index=True)
    class_code: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(60))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("GEOMETRY"))
    x: Mapped[float] = mapped_column(sa.Float)
    y: Mapped[float] = mapped_column(sa.Float)
    grid_code: Mapped[str | None] = mapped_column(sa.String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(sa.String(12))
    competent_department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    owner_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    maintainer_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    state: Mapped[str] = mapped_column(sa.String(16))
    census_date: Mapped[date] = mapped_column(sa.Date)
    changed_on: Mapped[date | None] = mapped_column(sa.Date)
    data_source: Mapped[str] = mapped_column(sa.String(30), default="")
    accuracy: Mapped[str] = mapped_column(sa.String(1), default="")
    position_text: Mapped[str] = mapped_column(sa.String(256), default="")
    photos: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("component_import.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComponentVersion(Base):
    """One change to a component: the fields that changed (old and new), who, when and why."""

    __tablename__ = "component_version"
    __table_args__ = (
        sa.UniqueConstraint("component_id", "version", name="uq_component_version_component_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(sa.ForeignKey("component.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    actor_name: Mapped[str] = mapped_column(sa.String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarYear(Base):
    """A year the working calendar covers: its holidays and make-up workdays are known."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(sa.String(200))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str] = mapped_column(sa.String(64))


class CalendarDayRow(Base):
    """A date that differs from Monday–Friday: a day off, or a 调休 make-up workday.

    ``year`` is the notice (covered year) the row came from: the notice for 2019 also set
    2018-12-29 to 2018-12-31, so replacing a year replaces exactly the rows its notice set.
    """

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column("date", sa.Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(sa.Boolean)
    name: Mapped[str] = mapped_column(sa.String(60))
    source: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int] = mapped_column(sa.ForeignKey("calendar_year.year"), index=True)


class CalendarSetting(Base):
    """Office periods of a working day and the city's time zone (one row, id 1)."""

    __tablename__ = "calendar_setting"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    office_hours: Mapped[str] = mapped_column(sa.String(100))
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
