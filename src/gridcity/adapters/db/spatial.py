"""Every difference between SQLite and PostgreSQL/PostGIS lives here.

Stored CRS: CGCS2000 geographic, EPSG:4490 (longitude, latitude). PostgreSQL stores a PostGIS
``geometry(<type>, 4490)`` column with a GiST index; SQLite stores WKB in a BLOB. Both dialects
also keep ``min_x/min_y/max_x/max_y`` columns so that window queries look the same everywhere.
"""

from __future__ import annotations

from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, UserDefinedType

STORED_SRID = 4490


class _PostGISGeometry(UserDefinedType[BaseGeometry]):
    """A PostGIS geometry column exchanged as hex EWKB text."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = STORED_SRID) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **_kw: Any) -> str:
        return f"geometry({self.geometry_type},{self.srid})"

    def bind_expression(self, bindvalue: Any) -> Any:
        return sa.func.ST_GeomFromEWKB(sa.func.decode(bindvalue, "hex"), type_=self)

    def column_expression(self, colexpr: Any) -> Any:
        return sa.func.ST_AsEWKB(colexpr, type_=self)

    def bind_processor(self, dialect: Dialect) -> Any:
        srid = self.srid

        def process(value: BaseGeometry | None) -> str | None:
            if value is None:
                return None
            return str(shapely.to_wkb(shapely.set_srid(value, srid), hex=True, include_srid=True))

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        def process(value: bytes | memoryview | str | None) -> BaseGeometry | None:
            if value is None:
                return None
            if isinstance(value, memoryview):
                value = bytes(value)
            return shapely.from_wkb(value)

        return process


class _WKBGeometry(TypeDecorator[BaseGeometry]):
    """Geometry as WKB in a BLOB, for SQLite (no SpatiaLite needed)."""

    impl = sa.LargeBinary
    cache_ok = True

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> bytes | None:
        return None if value is None else bytes(shapely.to_wkb(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(value)


def Geometry(geometry_type: str = "GEOMETRY") -> sa.types.TypeEngine[BaseGeometry]:
    """Column type for a shapely geometry in the stored CRS, on either database."""
    return _WKBGeometry().with_variant(_PostGISGeometry(geometry_type), "postgresql")


def bbox_columns() -> list[sa.Column[float | None]]:
    """The four bounding-box columns that accompany a geometry column (for migrations)."""
    return [
        sa.Column(name, sa.Float, nullable=True) for name in ("min_x", "min_y", "max_x", "max_y")
    ]


def bbox_values(geom: BaseGeometry | None) -> dict[str, float | None]:
    """Bounding-box column values of a geometry."""
    if geom is None or geom.is_empty:
        return {"min_x": None, "min_y": None, "max_x": None, "max_y": None}
    min_x, min_y, max_x, max_y = geom.bounds
    return {"min_x": min_x, "min_y": min_y, "max_x": max_x, "max_y": max_y}


def create_spatial_index(op: Any, table: str, column: str = "geom") -> None:
    """Spatial index for a migration: GiST on PostGIS, a bbox B-tree on SQLite."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_{table}_{column}_gist ON {table} USING gist ({column})")
    else:
        op.create_index(f"ix_{table}_bbox", table, ["min_x", "max_x", "min_y", "max_y"])


def drop_spatial_index(op: Any, table: str, column: str = "geom") -> None:
    """Reverse of :func:`create_spatial_index`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_gist")
    else:
        op.drop_index(f"ix_{table}_bbox", table_name=table)


def enable_extensions(op: Any) -> None:
    """Create the PostGIS extension on PostgreSQL (needs a role allowed to create it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def configure_sqlite(dbapi_connection: Any) -> None:
    """Per-connection SQLite settings: WAL, foreign keys, a busy timeout."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def spatial_version(connection: sa.Connection) -> str:
    """Version of the spatial engine: PostGIS on PostgreSQL, GEOS (shapely) on SQLite."""
    if connection.dialect.name == "postgresql":
        return "PostGIS " + str(
            connection.execute(sa.text("SELECT postgis_lib_version()")).scalar()
        )
    return "GEOS " + shapely.geos_version_string + " (in-process)"
