"""Admin page: the component census (部件普查) — upload a file, check it (dry run) or import it,
watch the progress, read the row-level report; and export the inventory in four formats.

The app is stateless (several processes behind a load balancer), so no job is kept in
memory: the POST itself answers with a stream of NDJSON lines, ``{"stage", "done", "total"}``
while the import runs, then one final ``{"result": …}``, ``{"refused": …}`` or
``{"error": …}``. ``static/census.js`` reads them with fetch(). Refusals that come before the
file is read (no permission, a file too large or of the wrong type) are plain 4xx answers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from gridcity.domain.access import Permission, require
from gridcity.domain.census import CensusRefused
from gridcity.domain.components import DUPLICATE_DISTANCE_DEFAULT_M, DUPLICATE_DISTANCE_MAX_M
from gridcity.domain.errors import DomainError
from gridcity.services import census
from gridcity.web.api.census import (
    UPLOAD_TYPES,
    census_options,
    export_response,
    upload_limit,
)
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.errors import human_message, refusal_body
from gridcity.web.i18n import N_, current_locale, gettext_
from gridcity.web.limits import MB
from gridcity.web.templating import Templates
from gridcity.web.ui.admin_import import GK_ZONES, NAMED_CRS
from gridcity.web.ui.uploads import staged

router = APIRouter(prefix="/admin/census")
log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.2  # at most ~5 progress lines a second per stage
STAGE_LABELS = {
    "read": N_("Reading the file"),
    "check": N_("Checking the rows"),
    "locate": N_("Placing them in grids"),
    "write": N_("Writing"),
}
EXPORT_FORMATS = (
    ("csv", N_("CSV")),
    ("xlsx", N_("Excel")),
    ("geojson", N_("GeoJSON")),
    ("shapefile", N_("Shapefile (zip)")),
)


@router.get("", response_class=HTMLResponse)
def census_page(request: Request, actor: PageActor) -> Response:
    """The import form (for inventory editors) and the export buttons (every staff member)."""
    require(actor, Permission.COMPONENT_READ)
    config = {
        "import": "/admin/census/import",
        "stages": {k: gettext_(v) for k, v in STAGE_LABELS.items()},
        "failed": gettext_("The import could not be made"),
        "shown": 200,
    }
    context = {
        "can_import": actor.can(Permission.COMPONENT_WRITE),
        "named_crs": NAMED_CRS,
        "gk_zones": GK_ZONES,
        "limit_mb": upload_limit(request) // MB,
        "formats": EXPORT_FORMATS,
        "default_distance": DUPLICATE_DISTANCE_DEFAULT_M,
        "max_distance": DUPLICATE_DISTANCE_MAX_M,
        "config": config,
    }
    templates: Templates = request.app.state.templates
    return templates.render(request, "admin/census.html", context)


@router.post("/import")
async def import_stream(
    request: Request,
    actor: PageActor,
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
) -> Response:
    """Check or import the uploaded file, answering with its progress and then its result."""
    require(actor, Permission.COMPONENT_WRITE)
    options = census_options(
        dry_run=dry_run,
        duplicate_distance=duplicate_distance,
        refuse_duplicates=refuse_duplicates,
        reason=reason,
        crs=crs,
        encoding=encoding,
        ignore_unknown=ignore_unknown,
    )
    uploads = staged(file, upload_limit(request), UPLOAD_TYPES)
    upload = await uploads.__aenter__()  # refusals here are answered before the stream starts
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    locale = current_locale.get()

    def put(item: dict[str, Any] | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        try:
            result = census.import_census(
                deps,
                actor,
                upload.path,
                options=options,
                info=info,
                progress=_throttled(put),
                name=upload.name,
            )
            put({"result": result.as_dict()})
        except CensusRefused as exc:
            put({"refused": exc})
        except DomainError as exc:
            put({"error": exc})
        except Exception:  # the stream must end with a line the page can show
            log.exception("census import failed")
            put({"error": None})
        finally:
            put(None)
            # The import runs to its end even if the browser goes away; then the file goes.
            asyncio.run_coroutine_threadsafe(uploads.__aexit__(None, None, None), loop)

    try:
        running = loop.run_in_executor(None, contextvars.copy_context().run, run)
    except BaseException:
        await uploads.__aexit__(None, None, None)
        raise

    async def lines() -> AsyncIterator[bytes]:
        current_locale.set(locale)
        while (item := await queue.get()) is not None:
            yield orjson.dumps(_shown(item)) + b"\n"
        await running

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _throttled(put: Callable[[dict[str, Any]], None]) -> Callable[[str, int, int], None]:
    """A progress callback that sends a line on each new stage, at its end, and otherwise at
    most every PROGRESS_EVERY_S seconds."""
    last: dict[str, float] = {}

    def advance(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage in last and done < total and now - last[stage] < PROGRESS_EVERY_S:
            return
        last[stage] = now
        put({"stage": stage, "done": done, "total": total})

    return advance


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """A line of the stream, refusals translated into the request's language."""
    if "refused" in item:
        return {"refused": refusal_body(item["refused"])}
    if "error" in item:
        exc = item["error"]
        if exc is None:
            return {
                "error": {
                    "code": "internal_error",
                    "message": gettext_("The import could not be made"),
                }
            }
        return {"error": {"code": exc.code, "message": human_message(exc)}}
    return item


@router.get("/export")
def export(
    actor: PageActor,
    deps: Deps,
    format: Annotated[str, Query(max_length=16)] = "csv",
    standard: Annotated[bool, Query()] = True,
) -> Response:
    """A download of the inventory in the actor's data scope."""
    return export_response(
        deps, actor, format=format, standard=standard, class_codes=[], states=[], under=""
    )
