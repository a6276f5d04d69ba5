"""Grid settings a city edits: the code formats of the layer schemes, and the named shifts."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gridcity.domain.layers import Scheme
from gridcity.services import layer_schemes, shifts
from gridcity.services.layer_schemes import SchemeEdit, SchemeView
from gridcity.services.shifts import ShiftView
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps, Info

# One flat router (paths spelled out) so that route walkers such as the access matrix see it.
router = APIRouter(responses=ERRORS)
TAGS: list[str | Enum] = ["settings"]
SHIFT_NAME = r"^[a-z][a-z0-9_]{0,15}$"
CLOCK = r"^[0-9]{2}:[0-9]{2}$"


class SchemeOut(BaseModel):
    """A layer scheme: its editable format (marker, division level, sequence digits, names) and
    its fixed structure (kind, shape, tiling, dynamic code)."""

    scheme: str
    kind: str
    marker: str
    division_level: str
    sequence_digits: int
    name_zh: str
    name_en: str
    shape: str
    tiles_division: bool
    dynamic_code: bool
    code_pattern: str
    example: str
    editable: bool
    layers: int


class SchemePatch(BaseModel):
    """Fields to change; the format (marker, level, digits) is refused once the scheme has cells."""

    marker: str | None = Field(default=None, max_length=4, examples=["ZR"])
    division_level: str | None = Field(default=None, max_length=16, examples=["subdistrict"])
    sequence_digits: int | None = Field(default=None, ge=0, le=9)
    name_zh: str | None = Field(default=None, max_length=50)
    name_en: str | None = Field(default=None, max_length=50)

    def edit(self) -> SchemeEdit:
        """The service's edit."""
        return SchemeEdit(
            marker=self.marker,
            level=self.division_level,
            sequence_digits=self.sequence_digits,
            name_zh=self.name_zh,
            name_en=self.name_en,
        )


class SchemesPatch(BaseModel):
    """Several schemes changed at once, all-or-nothing (the three fire schemes share a marker)."""

    schemes: dict[Scheme, SchemePatch] = Field(
        examples=[{"fire_big": {"marker": "FX"}, "fire_medium": {"marker": "FX"}}]
    )


class ShiftOut(BaseModel):
    """A named shift (local Beijing time) and how many assignments name it."""

    name: str
    starts_at: str
    ends_at: str
    name_zh: str
    name_en: str
    retired: bool
    overnight: bool
    assignments: int


class ShiftIn(BaseModel):
    """A new named shift; one that ends before it starts runs overnight."""

    name: str = Field(pattern=SHIFT_NAME, examples=["early"])
    starts_at: str = Field(pattern=CLOCK, examples=["06:00"])
    ends_at: str = Field(pattern=CLOCK, examples=["14:00"])
    name_zh: str = Field(min_length=1, max_length=50, examples=["早班"])
    name_en: str = Field(min_length=1, max_length=50, examples=["early shift"])


class ShiftPatch(BaseModel):
    """Fields to change; ``retired: true`` keeps its assignments and takes no new ones."""

    starts_at: str | None = Field(default=None, pattern=CLOCK)
    ends_at: str | None = Field(default=None, pattern=CLOCK)
    name_zh: str | None = Field(default=None, min_length=1, max_length=50)
    name_en: str | None = Field(default=None, min_length=1, max_length=50)
    retired: bool | None = None


def _scheme(view: SchemeView) -> SchemeOut:
    """Response model of a scheme."""
    return SchemeOut(**view.__dict__)


def _shift(view: ShiftView) -> ShiftOut:
    """Response model of a named shift."""
    return ShiftOut(**view.__dict__)


@router.get(
    "/layer-schemes", tags=TAGS, response_model=list[SchemeOut], summary="Layer code schemes"
)
def list_schemes(actor: ApiActor, deps: Deps) -> list[SchemeOut]:
    """Every scheme with its code format and how many layers use it."""
    return [_scheme(v) for v in layer_schemes.list_layer_schemes(deps, actor)]


@router.get(
    "/layer-schemes/{scheme}", tags=TAGS, response_model=SchemeOut, summary="One layer scheme"
)
def get_scheme(scheme: str, actor: ApiActor, deps: Deps) -> SchemeOut:
    """One scheme by name."""
    return _scheme(layer_schemes.get_layer_scheme(deps, actor, scheme))


@router.patch(
    "/layer-schemes/{scheme}",
    tags=TAGS,
    response_model=SchemeOut,
    summary="Change a layer scheme's code format or names",
)
def patch_scheme(
    scheme: str, body: SchemePatch, actor: ApiActor, deps: Deps, info: Info
) -> SchemeOut:
    """Administrators; every stored cell of the scheme's layers must fit the new format."""
    return _scheme(layer_schemes.update_layer_scheme(deps, actor, scheme, body.edit(), info=info))


@router.patch(
    "/layer-schemes",
    tags=TAGS,
    response_model=list[SchemeOut],
    summary="Change several layer schemes at once",
)
def patch_schemes(body: SchemesPatch, actor: ApiActor, deps: Deps, info: Info) -> list[SchemeOut]:
    """Administrators; all-or-nothing (to change the fire marker, change it on all three)."""
    edits = {scheme.value: patch.edit() for scheme, patch in body.schemes.items()}
    return [_scheme(v) for v in layer_schemes.update_layer_schemes(deps, actor, edits, info=info)]


@router.get("/shifts", tags=TAGS, response_model=list[ShiftOut], summary="Named shifts")
def list_shifts(actor: ApiActor, deps: Deps) -> list[ShiftOut]:
    """Every named shift by start time, retired ones last."""
    return [_shift(v) for v in shifts.list_shifts(deps, actor)]


@router.post(
    "/shifts", tags=TAGS, response_model=ShiftOut, status_code=201, summary="Add a named shift"
)
def create_shift(body: ShiftIn, actor: ApiActor, deps: Deps, info: Info) -> ShiftOut:
    """Administrators."""
    view = shifts.create_shift(
        deps,
        actor,
        name=body.name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        name_zh=body.name_zh,
        name_en=body.name_en,
        info=info,
    )
    return _shift(view)


@router.patch(
    "/shifts/{name}", tags=TAGS, response_model=ShiftOut, summary="Change or retire a named shift"
)
def patch_shift(name: str, body: ShiftPatch, actor: ApiActor, deps: Deps, info: Info) -> ShiftOut:
    """Administrators; new hours apply to the assignments naming the shift, and are refused
    when two of them would then overlap."""
    view = shifts.update_shift(
        deps,
        actor,
        name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        name_zh=body.name_zh,
        name_en=body.name_en,
        retired=body.retired,
        info=info,
    )
    return _shift(view)


@router.delete(
    "/shifts/{name}", tags=TAGS, status_code=204, summary="Delete a named shift nobody uses"
)
def delete_shift(name: str, actor: ApiActor, deps: Deps, info: Info) -> None:
    """Administrators; a shift in use is retired instead."""
    shifts.delete_shift(deps, actor, name, info=info)
