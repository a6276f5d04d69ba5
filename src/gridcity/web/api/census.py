"""Census import and export of components (部件普查) over the API.

``POST /census/import`` takes a multipart upload (CSV, Excel, GeoJSON, zipped Shapefile or
GeoPackage) and answers 200 with what was imported (or, ``dry_run``, would be), or 422
``census_refused`` with every problem (row, column, code, message) and their total.
``GET /census/export`` downloads the inventory in the caller's data scope.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from gridcity.adapters.component_columns import Abbreviations
from gridcity.adapters.component_export import parse_format
from gridcity.adapters.crs import parse_system
from gridcity.config import Settings
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.census import CensusRefused
from gridcity.domain.components import DUPLICATE_DISTANCE_DEFAULT_M
from gridcity.domain.errors import InvalidInput
from gridcity.services import census
from gridcity.services.deps import ServiceDeps
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps, Info
from gridcity.web.errors import refusal_body
from gridcity.web.limits import MB
from gridcity.web.templating import CHINA_TZ

router = APIRouter(prefix="/census", tags=["census"], responses=ERRORS)
# The extensions a census upload may have, and what each must hold (Excel is a zip).
UPLOAD_TYPES = {
    ".csv": "csv",
    ".xlsx": "zip",
    ".geojson": "json",
    ".json": "json",
    ".zip": "zip",
    ".gpkg": "sqlite",
}
ENCODINGS = ("", "utf-8", "gbk", "gb18030")


def upload_limit(request: Request) -> int:
    """The largest census file accepted, in bytes (the import page's limit)."""
    settings: Settings = request.app.state.container.settings
    return min(settings.max_import_mb or settings.max_upload_mb, settings.max_upload_mb) * MB


def census_options(
    *,
    dry_run: bool,
    duplicate_distance: float,
    refuse_duplicates: bool,
    reason: str,
    crs: str,
    encoding: str,
    ignore_unknown: bool,
) -> census.CensusOptions:
    """The options of a request, checked (a coordinate system and an encoding we know)."""
    if crs:
        parse_system(crs)
    if encoding not in ENCODINGS:
        raise InvalidInput(
            "import_encoding_unknown", "Unknown text encoding %(encoding)s", encoding=encoding
        )
    return census.CensusOptions(
        crs=crs or None,
        encoding=encoding or None,
        duplicate_distance_m=duplicate_distance,
        refuse_duplicates=refuse_duplicates,
        dry_run=dry_run,
        reason=reason,
        ignore_unknown=ignore_unknown,
    )


@router.post(
    "/import",
    summary="Import a census file of components (all or nothing; dry_run checks only)",
    responses={422: {"description": "census_refused: the problems, by row and column"}},
)
async def import_file(
    request: Request,
    actor: ApiActor,
    deps: Deps,
    info: Info,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: Annotated[bool, Form()] = False,
    duplicate_distance: Annotated[float, Form(ge=0, le=100)] = DUPLICATE_DISTANCE_DEFAULT_M,
    refuse_duplicates: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=500)] = "",
    crs: Annotated[str, Form(max_length=16)] = "",
    encoding: Annotated[str, Form(max_length=8)] = "",
    ignore_unknown: Annotated[bool, Form()] = False,
    dry_run_query: Annotated[bool, Query(alias="dry_run")] = False,
) -> Response:
    """200 with the result, or 422 with every problem of the file."""
    from gridcity.web.ui.uploads import staged  # web.ui imports this module: no cycle at load

    require(actor, Permission.COMPONENT_WRITE)
    options = census_options(
        dry_run=dry_run or dry_run_query,
        duplicate_distance=duplicate_distance,
        refuse_duplicates=refuse_duplicates,
        reason=reason,
        crs=crs,
        encoding=encoding,
        ignore_unknown=ignore_unknown,
    )
    async with staged(file, upload_limit(request), UPLOAD_TYPES) as upload:
        try:
            result = await run_in_threadpool(
                lambda: census.import_census(
                    deps, actor, upload.path, options=options, info=info, name=upload.name
                )
            )
        except CensusRefused as exc:
            return JSONResponse(refusal_body(exc), status_code=422)
    return JSONResponse(result.as_dict())


def export_response(
    deps: ServiceDeps,
    actor: Actor,
    *,
    format: str,
    standard: bool,
    class_codes: list[str],
    states: list[str],
    under: str,
) -> FileResponse:
    """The export as a download (written to a temporary folder, removed once sent)."""
    chosen = parse_format(format)
    stamp = deps.clock().astimezone(CHINA_TZ).strftime("%Y%m%d")
    name = f"components-{stamp}{chosen.suffix}"
    folder = Path(tempfile.mkdtemp(prefix="gridcity-export-"))
    try:
        census.export_components(
            deps,
            actor,
            folder / name,
            format=chosen,
            filters=census.ExportFilters(tuple(class_codes), tuple(states), under),
            abbreviations=Abbreviations.GBT47678 if standard else Abbreviations.OURS,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        folder / name,
        filename=name,
        media_type=chosen.media_type,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("/export", summary="Download the components in your data scope")
def export_file(
    actor: ApiActor,
    deps: Deps,
    format: Annotated[
        str, Query(max_length=16, description="csv, xlsx, geojson or shapefile")
    ] = "csv",
    standard: Annotated[
        bool, Query(description="GB/T 47678.5-2026 abbreviations (GLBJBSM …) instead of ours")
    ] = True,
    class_code: Annotated[list[str], Query()] = [],  # noqa: B006
    state: Annotated[list[str], Query()] = [],  # noqa: B006
    under: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """A file of the chosen format (EPSG:4490)."""
    return export_response(
        deps,
        actor,
        format=format,
        standard=standard,
        class_codes=class_code,
        states=state,
        under=under,
    )
