"""The component registry (部件): search and list, one component, its history, create one,
edit one (conditional on the version read), and change the state of many at once."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from shapely.errors import ShapelyError
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.geo import from_geojson
from gridcity.adapters.storage import LocalStorage, local_storage
from gridcity.domain.errors import InvalidInput
from gridcity.services import component_photos, components
from gridcity.services.components import (
    MAX_STATE_BATCH,
    ComponentEdit,
    ComponentSummary,
    ComponentView,
    DepartmentRef,
    HistoryEntry,
    NewComponent,
)
from gridcity.web.api.schemas import ERRORS, PageOut, page_out
from gridcity.web.deps import ApiActor, Deps, Info, container_of

router = APIRouter(prefix="/components", responses=ERRORS)
TAGS: list[str | Enum] = ["components"]
GEOMETRY_DOC = "GeoJSON geometry (Point, LineString, Polygon or Multi-), CGCS2000 lon/lat"


class DepartmentRefOut(BaseModel):
    """A department named in a component."""

    id: int
    name: str


class ComponentOut(BaseModel):
    """A component with its class, state and department names, and its version for editing."""

    identifier: str = Field(examples=["11010101001000001"])
    name: str
    code_set: str
    class_code: str
    class_name: str
    state: str = Field(description="intact, damaged, lost, occupied, abandoned or removed")
    state_name: str = Field(description="The state's Chinese name (GLBJZT): 完好, 破损 …")
    geometry: dict[str, Any] = Field(description=GEOMETRY_DOC)
    lon: float = Field(description="Anchor point: places the component on the map and grid")
    lat: float
    grid_code: str | None
    community_code: str | None
    community_name: str
    subdistrict_code: str | None
    subdistrict_name: str
    competent_department: DepartmentRefOut
    owner_department: DepartmentRefOut | None
    maintainer_department: DepartmentRefOut | None
    census_date: date
    changed_on: date | None
    data_source: str
    accuracy: str
    position_text: str
    note: str
    attributes: dict[str, Any]
    attribute_fields: list[dict[str, Any]] = Field(description="The class's extension fields")
    photos: list[str] = Field(description="Storage keys of the photos")
    photo_urls: list[str] = Field(description="Where to fetch each photo")
    version: int
    created_at: datetime
    updated_at: datetime


class ComponentSummaryOut(BaseModel):
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
    competent_department: DepartmentRefOut
    version: int
    updated_at: datetime


class ComponentPageOut(PageOut[ComponentSummaryOut]):
    """One page of components; counting stops at 10,000 matches."""

    exact: bool = Field(description="False when more than `total` components match")


class HistoryEntryOut(BaseModel):
    """The creation (with its source file or "form") or one change: field → [old, new]."""

    version: int
    action: str = Field(description="created, updated or state_changed")
    changed_at: datetime
    actor_name: str
    reason: str
    changes: dict[str, list[Any]]
    source: dict[str, str] | None = Field(description="Creation only: file_name, file_format")


class ComponentIn(BaseModel):
    """A new component; empty values take defaults (class name, class department, 完好, today)."""

    class_code: str = Field(max_length=8, examples=["01001"])
    geometry: dict[str, Any] | None = Field(default=None, description=GEOMETRY_DOC)
    lon: float | None = Field(default=None, description="A point instead of a geometry")
    lat: float | None = None
    identifier: str = Field(default="", max_length=17, description="Empty: one is drawn")
    name: str = Field(default="", max_length=200)
    competent_department_id: int | None = None
    owner_department_id: int | None = None
    maintainer_department_id: int | None = None
    state: str = Field(default="", max_length=20)
    census_date: date | None = None
    changed_on: date | None = None
    data_source: str = Field(default="", max_length=200)
    accuracy: str = Field(default="", max_length=4)
    position_text: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=4000)
    attributes: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(default="", max_length=2000)
    allow_duplicate: bool = Field(
        default=False, description="Add it even with a component of its class within 2 m"
    )


class ComponentPatch(BaseModel):
    """Fields to change (absent: unchanged; ``null`` empties an owner, maintainer or change
    date), the version that was read, and why."""

    expected_version: int = Field(ge=1, description="The version the editor saw")
    reason: str = Field(default="", max_length=2000, description="Required for a state change")
    name: str | None = Field(default=None, max_length=200)
    class_code: str | None = Field(default=None, max_length=8, description="Cannot change")
    geometry: dict[str, Any] | None = Field(default=None, description=GEOMETRY_DOC)
    competent_department_id: int | None = None
    owner_department_id: int | None = None
    maintainer_department_id: int | None = None
    state: str | None = Field(default=None, max_length=20)
    census_date: date | None = None
    changed_on: date | None = None
    data_source: str | None = Field(default=None, max_length=200)
    accuracy: str | None = Field(default=None, max_length=4)
    position_text: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=4000)
    attributes: dict[str, Any] | None = Field(default=None, description="Replaces them all")


class PhotoRemovalIn(BaseModel):
    """Why a photo is taken off a component (required)."""

    reason: str = Field(default="", max_length=2000, examples=["照片拍错了部件"])


class StateChangeIn(BaseModel):
    """Components to move to one state, and why."""

    identifiers: list[str] = Field(description=f"At most {MAX_STATE_BATCH}")
    state: str = Field(max_length=20, examples=["removed"])
    reason: str = Field(max_length=2000, examples=["道路改造，已拆除"])


class StateChangeOut(BaseModel):
    """How many components changed state, and how many already had it."""

    state: str
    changed: int
    unchanged: int
    identifiers: list[str] = Field(description="The components that changed")


def _dept(ref: DepartmentRef | None) -> DepartmentRefOut | None:
    return DepartmentRefOut(id=ref.id, name=ref.name) if ref else None


def component_out(view: ComponentView) -> ComponentOut:
    """Response model of a component."""
    data = dict(view.__dict__)
    data.pop("class_id")
    for key in ("competent_department", "owner_department", "maintainer_department"):
        data[key] = _dept(data[key])
    data["photo_urls"] = photo_urls(view)
    return ComponentOut(**data)


def photo_urls(view: ComponentView) -> list[str]:
    """The API paths of a component's photos."""
    names = (str(key).rsplit("/", 1)[-1] for key in view.photos)
    return [f"/api/v1/components/{view.identifier}/photos/{name}" for name in names]


def storage_of(request: Request) -> LocalStorage:
    """The app's file storage: ``app.state.storage`` when set (tests), else the local folder."""
    found: LocalStorage | None = getattr(request.app.state, "storage", None)
    return found or local_storage(container_of(request).settings)


async def uploaded_photo(file: Annotated[UploadFile | None, File()] = None) -> bytes:
    """The uploaded file's bytes, read up to one byte past the photo limit."""
    if file is None or not file.filename:
        raise InvalidInput("upload_missing", "Choose a file to upload")
    return await file.read(component_photos.PHOTO_MAX_BYTES + 1)


Upload = Annotated[bytes, Depends(uploaded_photo)]


def _summary(item: ComponentSummary) -> ComponentSummaryOut:
    data = dict(item.__dict__)
    data["competent_department"] = _dept(item.competent_department)
    return ComponentSummaryOut(**data)


def _history(entry: HistoryEntry) -> HistoryEntryOut:
    return HistoryEntryOut(**entry.__dict__)


def _geometry(data: dict[str, Any] | None) -> BaseGeometry | None:
    """The geometry of a request, or a refusal naming what is wrong with it."""
    if data is None:
        return None
    try:
        return from_geojson(data)
    except ShapelyError as exc:  # an unknown type is not among the errors from_geojson maps
        raise InvalidInput("geojson_invalid", "Not valid GeoJSON: %(why)s", why=str(exc)) from None


@router.get("", tags=TAGS, response_model=ComponentPageOut, summary="Components")
def list_components(
    actor: ApiActor,
    deps: Deps,
    q: str = Query(
        "", max_length=100, description="Identifier prefix, part of the name, class pinyin initials"
    ),
    class_code: str = Query("", max_length=8),
    state: str = Query("", max_length=20),
    department_id: int | None = Query(None, description="Competent, owner or maintainer"),
    community_code: str = Query("", max_length=12, description="Any division code"),
    grid_code: str = Query("", max_length=15),
    include_removed: bool = False,
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
) -> dict[str, object]:
    """Components in your data scope, in identifier order; removed ones only when asked for.

    ``q`` of digits is an identifier prefix; other text names classes (part of the name or of
    its pinyin initials) and finds their components, or, naming no class, is looked for in the
    components' own names. The total is exact up to 10,000 (``exact``)."""
    result = components.list_components(
        deps,
        actor,
        q=q,
        class_code=class_code,
        state=state,
        department_id=department_id,
        community_code=community_code,
        grid_code=grid_code,
        include_removed=include_removed,
        page=page,
        per_page=per_page,
    )
    return {**page_out(result, _summary), "exact": result.exact}


@router.post(
    "", tags=TAGS, response_model=ComponentOut, status_code=201, summary="Add one component"
)
def create_component(body: ComponentIn, actor: ApiActor, deps: Deps, info: Info) -> ComponentOut:
    """Administrators; checked like a census row (class, position, departments, attributes)."""
    geometry = _geometry(body.geometry)
    if geometry is None and body.lon is not None and body.lat is not None:
        geometry = Point(body.lon, body.lat)
    fields = body.model_dump(exclude={"geometry", "lon", "lat", "allow_duplicate"})
    data = NewComponent(geometry=geometry, **fields)
    view = components.create_component(
        deps, actor, data, info=info, allow_duplicate=body.allow_duplicate
    )
    return component_out(view)


@router.post("/state", tags=TAGS, response_model=StateChangeOut, summary="Change states in bulk")
def change_states(body: StateChangeIn, actor: ApiActor, deps: Deps, info: Info) -> StateChangeOut:
    """Administrators; all or nothing, with a reason; ``removed`` retires the components."""
    result = components.change_states(
        deps, actor, body.identifiers, body.state, reason=body.reason, info=info
    )
    return StateChangeOut(
        state=result.state,
        changed=result.changed,
        unchanged=result.unchanged,
        identifiers=list(result.identifiers),
    )


@router.get("/{identifier}", tags=TAGS, response_model=ComponentOut, summary="One component")
def get_component(identifier: str, actor: ApiActor, deps: Deps) -> ComponentOut:
    """One component in your data scope (404 outside it)."""
    return component_out(components.get_component(deps, actor, identifier))


@router.patch("/{identifier}", tags=TAGS, response_model=ComponentOut, summary="Edit a component")
def patch_component(
    identifier: str, body: ComponentPatch, actor: ApiActor, deps: Deps, info: Info
) -> ComponentOut:
    """Administrators; 409 ``component_changed_meanwhile`` when someone saved first."""
    given = body.model_fields_set
    nullable = ("owner_department_id", "maintainer_department_id", "changed_on")
    clear = {f for f in (*nullable, "competent_department_id") if f in given}
    clear = {f for f in clear if getattr(body, f) is None}
    values = body.model_dump(exclude={"expected_version", "reason", "geometry"})
    edit = ComponentEdit(**values, geometry=_geometry(body.geometry), clear=frozenset(clear))
    view = components.update_component(
        deps,
        actor,
        identifier,
        edit,
        expected_version=body.expected_version,
        reason=body.reason,
        info=info,
    )
    return component_out(view)


@router.get(
    "/{identifier}/history",
    tags=TAGS,
    response_model=list[HistoryEntryOut],
    summary="History of a component",
)
def component_history(identifier: str, actor: ApiActor, deps: Deps) -> list[HistoryEntryOut]:
    """Its creation, then every change: who, when, what (old → new) and why."""
    return [_history(e) for e in components.component_history(deps, actor, identifier)]


@router.post(
    "/{identifier}/photos",
    tags=TAGS,
    response_model=ComponentOut,
    status_code=201,
    summary="Add a photo",
)
def add_photo(
    identifier: str,
    request: Request,
    actor: ApiActor,
    deps: Deps,
    info: Info,
    data: Upload,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> ComponentOut:
    """Administrators; a JPEG, PNG or WebP image (multipart field ``file``) of at most 10 MB."""
    storage = storage_of(request)
    view = component_photos.add_photo(
        deps, storage, actor, identifier, data, reason=reason, info=info
    )
    return component_out(view)


@router.get(
    "/{identifier}/photos/{name}",
    tags=TAGS,
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
    summary="One photo",
)
def get_photo(
    identifier: str, name: str, request: Request, actor: ApiActor, deps: Deps
) -> Response:
    """A photo of a component in your data scope."""
    storage = storage_of(request)
    photo = component_photos.get_photo(deps, storage, actor, identifier, name)
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(photo.data, media_type=photo.media_type, headers=headers)


@router.delete(
    "/{identifier}/photos/{name}",
    tags=TAGS,
    response_model=ComponentOut,
    summary="Remove a photo",
)
def remove_photo(
    identifier: str,
    name: str,
    actor: ApiActor,
    deps: Deps,
    info: Info,
    body: PhotoRemovalIn | None = None,
) -> ComponentOut:
    """Administrators; a JSON body ``{"reason": "..."}`` says why (422 ``reason_required``
    without one). The photo leaves the component in a new version that names it; the stored
    file is kept for the history, and no longer served."""
    reason = body.reason if body else ""
    view = component_photos.remove_photo(deps, actor, identifier, name, reason=reason, info=info)
    return component_out(view)
