"""Admin page: import unit grids or division boundaries from a file (a dry run first, then a
confirmed write through the same service), and export them in any of the four formats.

The page holds no upload between the two steps (the app is stateless): the check and the
confirmation each send the file, and the confirmation carries the fingerprint the dry run
showed: when it was made, the grids and divisions versions it saw, and an HMAC under the secret
key of these, the file and the options. So what is written is what was checked, against the
data as it was checked, within ``CHECK_MAX_AGE``; a replayed confirmation finds the versions
moved by its own first write and is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.background import BackgroundTask

from gridcity.config import Settings
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from gridcity.domain.imports import ImportRefused
from gridcity.services import divisions, file_import
from gridcity.services.data_versions import data_versions
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.file_import import FileImport, FileKind, ImportOptions
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.errors import human_message, translated
from gridcity.web.i18n import N_, gettext_
from gridcity.web.limits import MB
from gridcity.web.templating import CHINA_TZ, Templates
from gridcity.web.ui.common import raise_if_forbidden, redirect, start_of_day
from gridcity.web.ui.map_page import basemap_config, display_shapes
from gridcity.web.ui.uploads import staged

router = APIRouter(prefix="/admin/import")
# Gauss-Krüger: the CGCS2000 3-degree zones by central meridian, EPSG:4534 (75°E) to 4554 (135°E).
GK_ZONES = tuple((f"EPSG:{code}", 75 + 3 * (code - 4534)) for code in range(4534, 4555))
NAMED_CRS = {
    "EPSG:4490": N_("CGCS2000 lon/lat (EPSG:4490)"),
    "EPSG:4326": N_("WGS-84 lon/lat (EPSG:4326)"),
    "gcj02": N_("GCJ-02 (Amap, Tencent)"),
    "bd09": N_("BD-09 (Baidu)"),
}
CRS_CHOICES = frozenset(NAMED_CRS) | {code for code, _ in GK_ZONES}
ENCODINGS = ("", "utf-8", "gbk")
FORMATS = {"geojson": ".geojson", "zip": ".zip", "gpkg": ".gpkg", "csv": ".csv"}
PREVIEW_FEATURES = 2_000  # more are counted, not drawn
SHOWN_PROBLEMS = 200
SHOWN_COMMUNITIES = 200  # named in the dry run; the others are listed by code
DONE = {
    FileKind.GRIDS: N_(
        "Imported: %(created)s unit grids in %(communities)s communities; %(ended)s earlier grids ended and stay as history"
    ),
    FileKind.DIVISIONS: N_(
        "Imported: %(created)s new divisions, %(updated)s changed, %(unchanged)s unchanged"
    ),
}
CHANGED = N_("The file or its options changed since the check; check it again")
EXPIRED = N_("The check is more than %(minutes)s minutes old; check the file again")
CHECK_MAX_AGE = timedelta(minutes=30)
CLOCK_SKEW = timedelta(minutes=1)  # app hosts' clocks may differ a little


def upload_fingerprint(
    secret: str,
    sha256: str,
    kind: str,
    crs: str,
    encoding: str,
    valid_from: str,
    *,
    issued: int,
    versions: tuple[int, int],
) -> str:
    """What a confirmation must carry: check time, data versions, HMAC of them, file, options."""
    stamp = f"{issued}.{versions[0]}.{versions[1]}"
    text = "|".join((stamp, sha256, kind, crs, encoding, valid_from))
    mac = hmac.new(secret.encode(), b"import-check:" + text.encode(), hashlib.sha256)
    return f"{stamp}.{mac.hexdigest()[:40]}"


def fingerprint_stamp(fingerprint: str) -> tuple[int, tuple[int, int]]:
    """The check time and versions a fingerprint names (unverified), or a refusal."""
    parts = fingerprint.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise Conflict("import_unchecked", CHANGED)
    return int(parts[0]), (int(parts[1]), int(parts[2]))


@router.get("", response_class=HTMLResponse)
def import_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """The import form (for those who may import) and the export downloads."""
    require(actor, Permission.GRID_READ)
    done = request.query_params.get("done", "")
    return _page(request, actor, _done(request), {"done_kind": done})


@dataclass(frozen=True)
class ImportForm:
    """The fields of the import form, as sent (checked by ``_run``)."""

    kind: str
    crs: str
    encoding: str
    valid_from: str
    file: UploadFile | None


def import_form(
    kind: Annotated[str, Form(max_length=16)] = "",
    crs: Annotated[str, Form(max_length=16)] = "",
    encoding: Annotated[str, Form(max_length=8)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> ImportForm:
    """The import form of a request (every field optional: permission is checked first)."""
    return ImportForm(kind, crs, encoding, valid_from, file)


Fields = Annotated[ImportForm, Depends(import_form)]


@router.post("/check", response_class=HTMLResponse)
async def check(
    request: Request, actor: PageActor, deps: Deps, info: Info, form: Fields
) -> Response:
    """Dry run: what the file would write, or every problem in it; nothing is written."""
    try:
        result, fingerprint = await _run(request, deps, actor, info, form, confirmed=None)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _report(request, {"refused": _refusal(exc)}, status_code=exc.status)
    return _report(request, _summary(request, deps, actor, result, fingerprint))


@router.post("", response_class=HTMLResponse)
async def confirm(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    form: Fields,
    fingerprint: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Write the checked file through the import service, all-or-nothing; back to the page."""
    try:
        result, _ = await _run(request, deps, actor, info, form, confirmed=fingerprint)
    except DomainError as exc:
        raise_if_forbidden(exc)
        refused = {"report": {"refused": _refusal(exc)}}
        return _page(request, actor, [], refused, status_code=exc.status)
    return redirect("/admin/import?" + _done_query(result))


async def _run(
    request: Request,
    deps: ServiceDeps,
    actor: Actor,
    info: RequestInfo,
    form: ImportForm,
    *,
    confirmed: str | None,
) -> tuple[FileImport, str]:
    """The import of the uploaded file: a dry run, or (given the fingerprint the dry run
    showed) the write; with the fingerprint of the file and options."""
    kind = _kind(form.kind)
    file_import.require_import(actor, kind)
    options = _options(kind, form.crs, form.encoding, form.valid_from)
    settings: Settings = request.app.state.container.settings
    now = deps.clock()
    if confirmed is None:  # versions read before the check, so a change during it shows too
        issued, versions = int(now.timestamp()), data_versions(deps)
    else:
        issued, versions = fingerprint_stamp(confirmed)
    async with staged(form.file, _limit(request)) as upload:
        fingerprint = upload_fingerprint(
            settings.secret_key,
            upload.sha256,
            kind,
            form.crs,
            form.encoding,
            form.valid_from,
            issued=issued,
            versions=versions,
        )
        if confirmed is not None:
            if not hmac.compare_digest(confirmed, fingerprint):
                raise Conflict("import_unchecked", CHANGED)
            age = now.timestamp() - issued
            if not -CLOCK_SKEW.total_seconds() <= age <= CHECK_MAX_AGE.total_seconds():
                raise Conflict(
                    "import_check_expired",
                    EXPIRED,
                    minutes=int(CHECK_MAX_AGE.total_seconds() // 60),
                )
        result = file_import.import_file(
            deps,
            actor,
            upload.path,
            name=upload.name,
            options=options,
            info=info,
            dry_run=confirmed is None,
            checked_versions=None if confirmed is None else versions,
        )
    return result, fingerprint


@router.get("/export")
def export(
    actor: PageActor,
    deps: Deps,
    kind: Annotated[str, Query(max_length=16)] = "grids",
    format: Annotated[str, Query(max_length=8)] = "geojson",
    crs: Annotated[str, Query(max_length=16)] = "EPSG:4490",
    encoding: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """A download of the grids in force (or the divisions) in the actor's data scope."""
    chosen = _kind(kind)
    if format not in FORMATS:
        raise InvalidInput(
            "export_format_unknown", "Unknown export format %(format)s", format=format
        )
    _options(chosen, crs, encoding, "")
    stamp = deps.clock().astimezone(CHINA_TZ).strftime("%Y%m%d")
    name = f"{chosen.value}-{stamp}{FORMATS[format]}"
    folder = Path(tempfile.mkdtemp(prefix="gridcity-export-"))
    try:
        file_import.export_file(
            deps, actor, chosen, folder / name, crs=crs, encoding=encoding or None
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / name,
        filename=name,
        media_type=_media_type(format),
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


# --- options -------------------------------------------------------------------------------------


def _kind(value: str) -> FileKind:
    """The kind of file chosen, or a refusal."""
    try:
        return FileKind(value)
    except ValueError:
        raise InvalidInput(
            "import_kind_unknown", "Choose unit grids or divisions, not %(kind)s", kind=value
        ) from None


def _options(kind: FileKind, crs: str, encoding: str, valid_from: str) -> ImportOptions:
    """The options of the form, each one of the choices offered."""
    if crs and crs not in CRS_CHOICES:
        raise InvalidInput("import_crs_unknown", "Unknown coordinate system %(crs)s", crs=crs)
    if encoding not in ENCODINGS:
        raise InvalidInput(
            "import_encoding_unknown", "Unknown text encoding %(encoding)s", encoding=encoding
        )
    start = start_of_day(valid_from) if kind is FileKind.GRIDS else None
    return ImportOptions(kind, crs or None, encoding or None, start)


def _limit(request: Request) -> int:
    """The largest import file accepted, in bytes (never above the request limit for uploads)."""
    settings: Settings = request.app.state.container.settings
    return min(settings.max_import_mb or settings.max_upload_mb, settings.max_upload_mb) * MB


def _media_type(format: str) -> str:
    """The content type of a download."""
    return {
        "geojson": "application/geo+json",
        "zip": "application/zip",
        "gpkg": "application/geopackage+sqlite3",
        "csv": "text/csv; charset=utf-8",
    }[format]


# --- what the page shows -------------------------------------------------------------------------


def _summary(
    request: Request, deps: ServiceDeps, actor: Actor, result: FileImport, fingerprint: str
) -> dict[str, Any]:
    """The dry run's findings for the report: counts, per community or level, and a map."""
    settings: Settings = request.app.state.container.settings
    drawn = [f for f in result.features if f.geometry is not None][:PREVIEW_FEATURES]
    shapes = display_shapes(settings, [f.geometry for f in drawn])
    codes = [str(f.properties.get("grid_code") or f.properties.get("code") or "") for f in drawn]
    preview = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": g, "properties": {"code": c}}
            for g, c in zip(shapes, codes, strict=True)
        ],
    }
    context: dict[str, Any] = {
        "result": result,
        "fingerprint": fingerprint,
        "preview": {"features": preview, "basemap": basemap_config(settings)},
        "more_features": len(result.features) > PREVIEW_FEATURES,
    }
    if result.grids is not None:
        names = _names(deps, actor, [code for code, _, _ in result.grids.per_community])
        context["communities"] = [
            (code, names.get(code, ""), created, ended)
            for code, created, ended in result.grids.per_community
        ]
    if result.divisions is not None:
        done = result.divisions
        levels = Counter(len(code) for code in (*done.created, *done.updated))
        context["levels"] = [(n, levels.get(n, 0)) for n in (6, 9, 12)]
    return context


def _names(deps: ServiceDeps, actor: Actor, codes: list[str]) -> dict[str, str]:
    """Names of the communities a file names (the first SHOWN_COMMUNITIES; the rest by code)."""
    names: dict[str, str] = {}
    for code in codes[:SHOWN_COMMUNITIES]:
        try:
            names[code] = divisions.get_division(deps, actor, code).name
        except NotFound:
            continue
    return names


def _refusal(exc: DomainError) -> dict[str, Any]:
    """A refusal for the report: its message and, for a refused file, every problem."""
    problems = exc.problems if isinstance(exc, ImportRefused) else ()
    return {
        "message": human_message(exc) if not problems else "",
        "count": len(problems),
        "problems": [
            (p.index, p.code, translated(p.message, p.params)) for p in problems[:SHOWN_PROBLEMS]
        ],
        "more": max(len(problems) - SHOWN_PROBLEMS, 0),
    }


def _done_query(result: FileImport) -> str:
    """The counts the page shows after a write (numbers only: nothing to inject)."""
    if result.grids is not None:
        g = result.grids
        return f"done={FileKind.GRIDS}&created={g.created}&communities={len(g.communities)}&ended={g.ended}"
    d = result.divisions
    assert d is not None
    return f"done={FileKind.DIVISIONS}&created={len(d.created)}&updated={len(d.updated)}&unchanged={d.unchanged}"


def _done(request: Request) -> list[tuple[str, str]]:
    """The success message after a write, from the counts in the query string."""
    try:
        kind = FileKind(request.query_params.get("done", ""))
    except ValueError:
        return []
    counts = {
        key: int(value) if value.isdigit() else 0
        for key in ("created", "communities", "ended", "updated", "unchanged")
        for value in [request.query_params.get(key, "0")]
    }
    return [("success", gettext_(DONE[kind]) % counts)]


def _report(request: Request, context: dict[str, Any], *, status_code: int = 200) -> Response:
    """The report fragment the page's script puts under the form."""
    templates: Templates = request.app.state.templates
    return templates.render(
        request,
        "admin/import_report.html",
        {"report": context},
        status_code=status_code,
    )


def _page(
    request: Request,
    actor: Actor,
    messages: list[tuple[str, str]],
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """The whole page."""
    kinds = [k for k in FileKind if actor.can(file_import.WRITE_PERMISSION[k])]
    context = {
        "import_kinds": kinds,
        "export_kinds": [k for k in FileKind if actor.can(file_import.READ_PERMISSION[k])],
        "named_crs": NAMED_CRS,
        "gk_zones": GK_ZONES,
        "formats": list(FORMATS),
        "limit_mb": _limit(request) // MB,
        "flashes": messages,
        "report": None,
        "done_kind": "",
        **(extra or {}),
    }
    templates: Templates = request.app.state.templates
    return templates.render(request, "admin/import.html", context, status_code=status_code)
