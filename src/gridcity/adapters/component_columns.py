"""The columns of a census file (部件普查): our own names, the GB/T 47678.5-2026 表2
abbreviations, the CJ/T 214 generation's names and the standard's Chinese field names, all
resolved to the fields of ``component_writes.NewComponents``; and the columns an export writes.

Headers match without regard to case or surrounding spaces (a DBF often holds ``OBJID`` for
``ObjID``). A department given by code and by name is taken by its code; the name is used on
rows whose code cell is empty. Columns that describe where a component lies (grid,
subdistrict, community) are read and not used: ``add_components`` assigns them from the
position. Extension attributes are columns named after a class's form field, or ``attr_<name>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gridcity.domain.errors import InvalidInput

ATTRIBUTE_PREFIX = "attr_"

# field -> every header that means it (ours first: the name an export of ours writes).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "identifier": ("identifier", "GLBJBSM", "ObjID", "管理部件标识码", "部件标识码"),
    "class_code": ("class_code", "部件类别代码", "部件小类代码"),
    "name": ("name", "GLBJMC", "ObjName", "管理部件名称", "部件名称"),
    "competent": ("competent", "ZGBMDM", "DeptCode1", "主管部门代码"),
    "competent_name": ("competent_name", "ZGBMMC", "DeptName1", "主管部门名称"),
    "owner": ("owner", "QSDWDM", "DeptCode2", "权属单位代码"),
    "owner_name": ("owner_name", "QSDWMC", "DeptName2", "权属单位名称"),
    "maintainer": ("maintainer", "YHDWDM", "DeptCode3", "养护单位代码"),
    "maintainer_name": ("maintainer_name", "YHDWMC", "DeptName3", "养护单位名称"),
    "state": ("state", "GLBJZT", "ObjState", "管理部件状态", "部件状态"),
    "census_date": ("census_date", "census_dt", "CSRQ", "ORDate", "初始日期"),
    "changed_on": ("changed_on", "BGRQ", "CHDate", "变更日期"),
    "data_source": ("data_source", "data_src", "SJLY", "DataSource", "数据来源"),
    "accuracy": ("accuracy", "精度等级"),
    "position_text": ("position_text", "position", "LocateDSC", "位置描述"),
    "note": ("note", "BZ", "Note", "备注"),
    "lon": ("lon", "lng", "longitude", "x", "PointX", "经度"),
    "lat": ("lat", "latitude", "y", "PointY", "纬度"),
    "wkt": ("wkt", "geometry", "geom", "the_geom"),
}
# Read and not used: the position decides them (and a class name follows the class code).
DERIVED_ALIASES: tuple[str, ...] = (
    "grid_code",
    "SZDYWGBSM",
    "BGID",
    "所在单元网格标识码",
    "subdistrict_code",
    "SZJDDM",
    "所在街道（镇、乡）代码",
    "subdistrict_name",
    "SZJDMC",
    "所在街道（镇、乡）名称",
    "community_code",
    "comm_code",
    "SZSQDM",
    "所在社区（村）代码",
    "community_name",
    "SZSQMC",
    "所在社区（村）名称",
)
GEOMETRY_FIELDS = ("lon", "lat", "wkt")
# A department reference: its code column, and the name column used where the code is empty.
DEPARTMENT_FIELDS = {
    "competent": "competent_name",
    "owner": "owner_name",
    "maintainer": "maintainer_name",
}


def normal(header: str) -> str:
    """A header as matched: stripped, lower case, a BOM or the CSV guard's apostrophe dropped."""
    return header.strip().lstrip("\ufeff").strip().lower()


_BY_HEADER: dict[str, str] = {
    normal(alias): field for field, aliases in FIELD_ALIASES.items() for alias in aliases
}
_DERIVED = frozenset(normal(a) for a in DERIVED_ALIASES)


@dataclass(frozen=True)
class Columns:
    """How a file's headers map: field -> position, attribute name -> position, and the rest."""

    fields: dict[str, int]
    headers: dict[str, str]  # field or "attr:<name>" -> the header as the file writes it
    attributes: dict[str, int]
    derived: tuple[str, ...]
    ignored: tuple[str, ...]

    def header(self, key: str) -> str | None:
        """The file's header of a field (or ``attr:<name>``), None when the file has none."""
        return self.headers.get(key)


def resolve_columns(
    path: Path,
    headers: Sequence[str],
    *,
    attribute_names: Iterable[str],
    geometry_in_columns: bool,
    ignore_unknown: bool,
) -> Columns:
    """Map the headers of a file, or refuse it naming the columns that make no sense.

    ``geometry_in_columns``: CSV and Excel carry the position in lon/lat or WKT columns; in
    GeoJSON and Shapefile such columns only repeat the geometry and are left unused.
    """
    known_attributes = set(attribute_names)
    fields: dict[str, int] = {}
    names: dict[str, str] = {}
    attributes: dict[str, int] = {}
    derived: list[str] = []
    unknown: list[str] = []
    for position, raw in enumerate(headers):
        text = raw.strip().lstrip("\ufeff").strip()
        key = normal(text)
        if not key:
            continue
        field = _BY_HEADER.get(key)
        if field in GEOMETRY_FIELDS and not geometry_in_columns:
            derived.append(text)
            continue
        if field is not None:
            if field in fields:
                raise InvalidInput(
                    "census_duplicate_column",
                    "%(path)s: the columns %(first)s and %(second)s both give %(field)s; keep one",
                    path=path.name,
                    first=names[field],
                    second=text,
                    field=field,
                )
            fields[field] = position
            names[field] = text
            continue
        if key in _DERIVED:
            derived.append(text)
            continue
        attribute = key.removeprefix(ATTRIBUTE_PREFIX) if key.startswith(ATTRIBUTE_PREFIX) else None
        if attribute is None and key in known_attributes:
            attribute = key
        if attribute:
            if attribute in attributes:
                raise InvalidInput(
                    "census_duplicate_column",
                    "%(path)s: the columns %(first)s and %(second)s both give %(field)s; keep one",
                    path=path.name,
                    first=names[f"attr:{attribute}"],
                    second=text,
                    field=attribute,
                )
            attributes[attribute] = position
            names[f"attr:{attribute}"] = text
            continue
        unknown.append(text)
    if unknown and not ignore_unknown:
        raise InvalidInput(
            "census_unknown_columns",
            "%(path)s: unknown columns %(columns)s; rename them to the names docs/census.md lists, prefix a class attribute with attr_, or leave them out (--ignore-unknown)",
            path=path.name,
            columns=", ".join(unknown),
        )
    if geometry_in_columns and "wkt" not in fields and not {"lon", "lat"} <= set(fields):
        raise InvalidInput(
            "census_position_columns_missing",
            "%(path)s has no position: give lon and lat columns (or PointX and PointY), or a WKT column",
            path=path.name,
        )
    return Columns(fields, names, attributes, tuple(derived), tuple(unknown))


def geometry_header(columns: Columns, default: str = "geometry") -> str:
    """The column(s) a geometry problem points at, as the file names them."""
    wkt = columns.header("wkt")
    lonlat = [h for h in (columns.header("lon"), columns.header("lat")) if h]
    if wkt and lonlat:
        return f"{wkt} / {'+'.join(lonlat)}"
    return wkt or "+".join(lonlat) or default


# --- export ------------------------------------------------------------------------------------


class Abbreviations(StrEnum):
    """Which column names an export writes."""

    GBT47678 = "gbt47678"  # GB/T 47678.5-2026 表2 (GLBJBSM …), dates YYYYMMDD, Chinese states
    OURS = "ours"  # identifier, class_code … (dates ISO, state identifiers)


# Export column -> what fills it (see services.census): GB/T 47678.5-2026 表2 in its order, then
# what the table lacks and a re-import needs (accuracy, position text).
STANDARD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("GLBJBSM", "identifier"),
    ("GLBJMC", "name"),
    ("ZGBMDM", "competent_code"),
    ("ZGBMMC", "competent_name"),
    ("QSDWDM", "owner_code"),
    ("QSDWMC", "owner_name"),
    ("YHDWDM", "maintainer_code"),
    ("YHDWMC", "maintainer_name"),
    ("SZDYWGBSM", "grid_code"),
    ("GLBJZT", "state_zh"),
    ("CSRQ", "census_date_compact"),
    ("BGRQ", "changed_on_compact"),
    ("SJLY", "data_source"),
    ("BZ", "note"),
    ("SZJDDM", "subdistrict_code"),
    ("SZJDMC", "subdistrict_name"),
    ("SZSQDM", "community_code"),
    ("SZSQMC", "community_name"),
    ("accuracy", "accuracy"),
    ("position", "position_text"),
)
OUR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("identifier", "identifier"),
    ("class_code", "class_code"),
    ("name", "name"),
    ("competent", "competent_ref"),
    ("owner", "owner_ref"),
    ("maintainer", "maintainer_ref"),
    ("state", "state"),
    ("census_date", "census_date"),
    ("changed_on", "changed_on"),
    ("data_source", "data_source"),
    ("accuracy", "accuracy"),
    ("position_text", "position_text"),
    ("note", "note"),
    ("grid_code", "grid_code"),
    ("community_code", "community_code"),
)
# Our names that do not fit a DBF field (10 characters); the short forms read back as aliases.
SHAPEFILE_NAMES = {
    "census_date": "census_dt",
    "data_source": "data_src",
    "position_text": "position",
    "community_code": "comm_code",
}
SHAPEFILE_FIELD_MAX = 10


def export_columns(abbreviations: Abbreviations, *, shapefile: bool) -> list[tuple[str, str]]:
    """(column name, value key) of an export, without attributes and geometry columns."""
    chosen = STANDARD_COLUMNS if abbreviations is Abbreviations.GBT47678 else OUR_COLUMNS
    if not shapefile:
        return list(chosen)
    return [(SHAPEFILE_NAMES.get(name, name), key) for name, key in chosen]


def attribute_columns(
    names: Iterable[str], taken: Iterable[str], *, shapefile: bool
) -> dict[str, str]:
    """Attribute name -> its export column: ``attr_<name>``, or in a Shapefile the bare name,
    which must fit the 10 characters of a DBF field and differ from every other column."""
    if not shapefile:
        return {name: f"{ATTRIBUTE_PREFIX}{name}" for name in sorted(names)}
    used = {normal(t) for t in taken}
    out: dict[str, str] = {}
    too_long = sorted(n for n in names if len(n) > SHAPEFILE_FIELD_MAX)
    if too_long:
        raise InvalidInput(
            "export_attribute_name_too_long",
            "A Shapefile field name has at most 10 characters; the attributes %(names)s do not fit: export GeoJSON, CSV or Excel instead",
            names=", ".join(too_long),
        )
    for name in sorted(names):
        if normal(name) in used or normal(name) in _BY_HEADER or normal(name) in _DERIVED:
            raise InvalidInput(
                "export_attribute_name_taken",
                "The attribute %(name)s has the name of another column; a Shapefile cannot tell them apart: export GeoJSON, CSV or Excel instead",
                name=name,
            )
        out[name] = name
    return out
