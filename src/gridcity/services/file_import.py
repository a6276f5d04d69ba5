"""Import and export of whole feature files (unit grids or divisions), as the admin screen
offers them: permission first, then the file is read and handed to the importer of its kind.

The importers (``grid_import``, ``division_import``) check everything and write in one
transaction; this module only decides who may start, reads the file, and names it in every
refusal by the name its sender gave it (never by the temporary path it was stored under).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from shapely.geometry.base import BaseGeometry

from gridcity.adapters.feature_io import read_file, write_file
from gridcity.adapters.geojson_files import Feature
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import DomainError
from gridcity.services import division_import, grid_import
from gridcity.services.data_versions import Versions, data_versions, stale
from gridcity.services.deps import RequestInfo, ServiceDeps

T = TypeVar("T")


class FileKind(StrEnum):
    """What a file holds."""

    GRIDS = "grids"
    DIVISIONS = "divisions"


WRITE_PERMISSION = {FileKind.GRIDS: Permission.GRID_WRITE, FileKind.DIVISIONS: Permission.ORG_WRITE}
READ_PERMISSION = {FileKind.GRIDS: Permission.GRID_READ, FileKind.DIVISIONS: Permission.ORG_READ}


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: its kind, the CRS and text encoding it does not name, and (grids) the
    start of the new grids (None: now)."""

    kind: FileKind
    crs: str | None = None
    encoding: str | None = None
    valid_from: datetime | None = None


@dataclass(frozen=True)
class FileImport:
    """What an import of one file did, or (dry run) would do, with the features it read."""

    name: str
    crs: str  # the system the file was read in
    features: list[Feature]
    grids: grid_import.GridImport | None = None
    divisions: division_import.DivisionImport | None = None


def require_import(actor: Actor, kind: FileKind) -> None:
    """Refuse an actor who may not import files of this kind (before the file is even read)."""
    require(actor, WRITE_PERMISSION[kind])


def import_file(
    deps: ServiceDeps,
    actor: Actor,
    path: Path,
    *,
    name: str,
    options: ImportOptions,
    info: RequestInfo,
    dry_run: bool,
    checked_versions: Versions | None = None,
) -> FileImport:
    """Read the file at ``path`` (sent as ``name``) and import it, all-or-nothing."""
    # checked_versions: the data_versions a dry run saw; the write holds them and refuses
    # when they moved (services/data_versions.py), inside its own transaction.
    require_import(actor, options.kind)
    if not dry_run and checked_versions is not None and data_versions(deps) != checked_versions:
        raise stale()  # early and cheap; the importing transaction checks again under a lock
    source = _named(path, name, lambda: read_file(path, crs=options.crs, encoding=options.encoding))
    if options.kind is FileKind.DIVISIONS:
        done = division_import.import_divisions(
            deps,
            actor,
            source.features,
            info=info,
            source=name,
            dry_run=dry_run,
            unchanged_since=checked_versions,
        )
        return FileImport(name, source.crs, source.features, divisions=done)
    result = grid_import.import_grids(
        deps,
        actor,
        source.features,
        valid_from=options.valid_from or deps.clock(),
        info=info,
        source=name,
        dry_run=dry_run,
        unchanged_since=checked_versions,
    )
    return FileImport(name, source.crs, source.features, grids=result)


def export_file(
    deps: ServiceDeps,
    actor: Actor,
    kind: FileKind,
    path: Path,
    *,
    crs: str,
    encoding: str | None = None,
) -> int:
    """Write the grids in force (or the divisions with a boundary) in the actor's scope to
    ``path``, in the format of its extension; returns how many features were written."""
    require(actor, READ_PERMISSION[kind])
    rows: list[tuple[BaseGeometry, dict[str, Any]]] = (
        grid_import.export_grids(deps, actor)
        if kind is FileKind.GRIDS
        else division_import.export_divisions(deps, actor)
    )
    return write_file(path, rows, crs=crs, encoding=encoding)


def _named(path: Path, name: str, read: Callable[[], T]) -> T:
    """The result of ``read``; a refusal that names ``path`` names ``name`` instead."""
    try:
        return read()
    except DomainError as exc:
        shown = {k: name if v == str(path) else v for k, v in exc.params.items()}
        if shown == exc.params:
            raise
        raise type(exc)(exc.code, exc.message, **shown) from None
