"""The standard catalog: code sets, classes (search, one class, edit, local extensions), the
mapping between code sets (pairs added by hand, classes without a counterpart), and switching
the city's active code set (which re-codes the components)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from gridcity.domain.catalog_mapping import ClassRef
from gridcity.services import catalog, catalog_admin, catalog_mappings, catalog_switch
from gridcity.services.catalog import ClassView
from gridcity.services.catalog_admin import ClassEdit, NewExtensionClass
from gridcity.services.catalog_mappings import MappingView
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps, Info

router = APIRouter(responses=ERRORS)
TAGS: list[str | Enum] = ["catalog"]
CLASS_PATH = "/catalog/classes/{code_set}/{kind}/{code}"


class CodeSetOut(BaseModel):
    """A code set, whether it is active, and how many classes it holds."""

    key: str
    name_zh: str
    name_en: str
    minor_digits: int
    kinds: list[str]
    active: bool
    classes: int


class ClassOut(BaseModel):
    """A class with its confidence (✅/🟡/❓ as standards.md marks it) and what a city set on it."""

    code_set: str
    kind: str
    level: str
    code: str
    major: str
    name_zh: str
    name_en: str
    initials: str
    confidence: str
    note: str
    is_local_extension: bool
    department_id: int | None
    filing_criteria: list[dict[str, Any]]
    closing_criteria: str
    time_limits: list[dict[str, Any]]
    form_fields: list[dict[str, Any]]


class ClassPatch(BaseModel):
    """Fields to change; a list replaces the stored one; ``department_id: null`` clears it."""

    name_zh: str | None = Field(default=None, max_length=60, description="Extension classes only")
    name_en: str | None = Field(default=None, max_length=60)
    department_id: int | None = None
    filing_criteria: list[dict[str, Any]] | None = Field(
        default=None, examples=[[{"code": "01", "text": "成堆成片"}]]
    )
    # 20000 only bounds the request; the service refuses more than 500 with its own reason
    closing_criteria: str | None = Field(default=None, max_length=20_000)
    time_limits: list[dict[str, Any]] | None = Field(
        default=None,
        examples=[[{"amount": 1, "unit": "working_days", "urgency": "normal", "area_class": "A"}]],
    )
    form_fields: list[dict[str, Any]] | None = Field(
        default=None, examples=[[{"name": "area_m2", "label_zh": "面积", "type": "number"}]]
    )


class ExtensionIn(BaseModel):
    """A local extension class: a major (the city picks its code) or a minor under one."""

    code_set: str = Field(examples=["gbt47678_5_2026"])
    kind: str = Field(examples=["component"])
    level: str = Field(examples=["major"])
    code: str = Field(max_length=8, examples=["21"])
    name_zh: str = Field(max_length=60, examples=["扩展部件"])
    name_en: str = Field(default="", max_length=60)


class RefOut(BaseModel):
    """A class by (code set, kind, code)."""

    code_set: str
    kind: str
    code: str


class MappingOut(BaseModel):
    """A class and its counterpart in another code set, with the basis and its confidence."""

    id: int
    source: RefOut
    target: RefOut
    source_name: str
    target_name: str
    basis: str
    confidence: str
    note: str


class RefIn(BaseModel):
    """A class by (code set, kind, code)."""

    code_set: str = Field(max_length=32, examples=["gbt47678_5_2026"])
    kind: str = Field(max_length=16, examples=["component"])
    code: str = Field(max_length=8, examples=["01001"])


class MappingIn(BaseModel):
    """Two minor classes of different code sets to pair by hand, with a note."""

    source: RefIn
    target: RefIn
    note: str = Field(default="", max_length=500)


class UnmappedOut(BaseModel):
    """A class without a counterpart in the other set; ``components`` for administrators only."""

    ref: RefOut
    name_zh: str
    is_local_extension: bool
    components: int | None


class SwitchIn(BaseModel):
    """The code set to make active; ``dry_run`` only reports."""

    code_set: str = Field(examples=["cjt214_2007"])
    dry_run: bool = True


class PairOut(BaseModel):
    """A class of the current set and its counterpart in the new one."""

    source: RefOut
    target: RefOut


class MoveOut(BaseModel):
    """How many components of a class the switch re-codes, and to which class (null: lost)."""

    source: RefOut
    target: RefOut | None
    components: int


class SwitchOut(BaseModel):
    """The report of a switch: mapped and unmapped classes, what happens to the components,
    and whether it was carried out."""

    from_set: str
    to_set: str
    switched: bool
    mapped: list[PairOut]
    unmapped: list[RefOut]
    lost: list[RefOut] = Field(
        default_factory=list, description="Classes in use the switch would leave unmapped"
    )
    moves: list[MoveOut] = Field(default_factory=list, description="Components per class")
    components_moved: int = 0
    components_lost: int = 0
    recoded: int = Field(default=0, description="Components re-coded by this switch")


def _class(view: ClassView) -> ClassOut:
    """Response model of a class (the database id stays inside)."""
    data = dict(view.__dict__)
    data.pop("id")
    return ClassOut(**data)


def _ref(ref: ClassRef) -> RefOut:
    """Response model of a class reference."""
    return RefOut(code_set=ref.code_set, kind=ref.kind, code=ref.code)


@router.get("/catalog/code-sets", tags=TAGS, response_model=list[CodeSetOut], summary="Code sets")
def list_code_sets(actor: ApiActor, deps: Deps) -> list[CodeSetOut]:
    """Every code set; the city's active one is marked."""
    return [CodeSetOut(**v.__dict__) for v in catalog.list_code_sets(deps, actor)]


@router.get("/catalog/classes", tags=TAGS, response_model=list[ClassOut], summary="Classes")
def list_classes(
    actor: ApiActor,
    deps: Deps,
    code_set: str | None = Query(default=None, description="Default: the active code set"),
    kind: str | None = None,
    major: str | None = None,
    level: str | None = None,
    q: str | None = Query(
        default=None, description="Code prefix, part of the name, pinyin initials"
    ),
    limit: int = Query(default=500, ge=1, le=2000),
) -> list[ClassOut]:
    """Classes of a code set, filtered."""
    found = catalog.list_classes(
        deps, actor, code_set=code_set, kind=kind, major=major, level=level, q=q, limit=limit
    )
    return [_class(v) for v in found]


@router.get(CLASS_PATH, tags=TAGS, response_model=ClassOut, summary="One class")
def get_class(code_set: str, kind: str, code: str, actor: ApiActor, deps: Deps) -> ClassOut:
    """One class by code set, kind and code."""
    class_id = catalog.class_id_of(deps, actor, code_set, kind, code)
    return _class(catalog.get_class(deps, actor, class_id))


@router.patch(CLASS_PATH, tags=TAGS, response_model=ClassOut, summary="Edit a class")
def patch_class(
    code_set: str, kind: str, code: str, body: ClassPatch, actor: ApiActor, deps: Deps, info: Info
) -> ClassOut:
    """Administrators: criteria, time limits, default department, form fields, names."""
    class_id = catalog.class_id_of(deps, actor, code_set, kind, code)
    given = body.model_fields_set
    edit = ClassEdit(
        name_zh=body.name_zh,
        name_en=body.name_en,
        department_id=body.department_id,
        clear_department="department_id" in given and body.department_id is None,
        filing_criteria=body.filing_criteria,
        closing_criteria=body.closing_criteria,
        time_limits=body.time_limits,
        form_fields=body.form_fields,
    )
    return _class(catalog_admin.update_class(deps, actor, class_id, edit, info=info))


@router.post(
    "/catalog/classes",
    tags=TAGS,
    response_model=ClassOut,
    status_code=201,
    summary="Add a local extension class",
)
def post_extension(body: ExtensionIn, actor: ApiActor, deps: Deps, info: Info) -> ClassOut:
    """Administrators; the code must not collide with any class of the set."""
    new = NewExtensionClass(**body.model_dump())
    return _class(catalog_admin.add_extension_class(deps, actor, new, info=info))


def _mapping(view: MappingView) -> MappingOut:
    """Response model of a mapping row."""
    return MappingOut(
        id=view.id,
        source=_ref(view.row.source),
        target=_ref(view.row.target),
        source_name=view.source_name,
        target_name=view.target_name,
        basis=view.row.basis.value,
        confidence=view.row.confidence.value,
        note=view.row.note,
    )


@router.get(
    "/catalog/mapping", tags=TAGS, response_model=list[MappingOut], summary="Mapping between sets"
)
def list_mapping(
    actor: ApiActor,
    deps: Deps,
    basis: str | None = Query(default=None, description="rule, name_match or manual"),
) -> list[MappingOut]:
    """Every pairing of classes between code sets (rule, name match or manual)."""
    return [_mapping(v) for v in catalog_mappings.list_mappings(deps, actor, basis=basis)]


@router.post(
    "/catalog/mapping",
    tags=TAGS,
    response_model=MappingOut,
    status_code=201,
    summary="Pair two classes by hand",
)
def post_mapping(body: MappingIn, actor: ApiActor, deps: Deps, info: Info) -> MappingOut:
    """Administrators: a ``manual`` row between minor classes of two sets, one to one."""
    view = catalog_mappings.add_manual_mapping(
        deps,
        actor,
        ClassRef(body.source.code_set, body.source.kind, body.source.code),
        ClassRef(body.target.code_set, body.target.kind, body.target.code),
        note=body.note,
        info=info,
    )
    return _mapping(view)


@router.delete(
    "/catalog/mapping/{mapping_id}",
    tags=TAGS,
    status_code=204,
    summary="Delete a pair added by hand",
)
def delete_mapping(mapping_id: int, actor: ApiActor, deps: Deps, info: Info) -> Response:
    """Administrators; rule and name-match rows belong to the seed and are refused."""
    catalog_mappings.delete_manual_mapping(deps, actor, mapping_id, info=info)
    return Response(status_code=204)


@router.get(
    "/catalog/unmapped",
    tags=TAGS,
    response_model=list[UnmappedOut],
    summary="Classes without a counterpart in another set",
)
def list_unmapped(
    actor: ApiActor,
    deps: Deps,
    to_set: str = Query(description="The other code set", examples=["cjt214_2007"]),
    code_set: str | None = Query(default=None, description="Default: the active code set"),
) -> list[UnmappedOut]:
    """What a switch to ``to_set`` would leave unmapped, without starting one."""
    found = catalog_mappings.unmapped_classes(deps, actor, to_set, code_set=code_set)
    return [
        UnmappedOut(
            ref=_ref(u.ref),
            name_zh=u.name_zh,
            is_local_extension=u.is_local_extension,
            components=u.components,
        )
        for u in found
    ]


@router.post(
    "/catalog/switch", tags=TAGS, response_model=SwitchOut, summary="Switch the active code set"
)
def post_switch(body: SwitchIn, actor: ApiActor, deps: Deps, info: Info) -> SwitchOut:
    """Administrators; the report says which classes map and how many components move to which
    class; refused if a class in use would not map. The switch re-codes every component."""
    result = catalog_switch.switch_code_set(
        deps, actor, body.code_set, dry_run=body.dry_run, info=info
    )
    report = result.report
    return SwitchOut(
        from_set=report.from_set,
        to_set=report.to_set,
        switched=result.switched,
        mapped=[PairOut(source=_ref(s), target=_ref(t)) for s, t in report.mapped],
        unmapped=[_ref(r) for r in report.unmapped],
        lost=[_ref(r) for r in report.lost],
        moves=[
            MoveOut(
                source=_ref(m.source),
                target=None if m.target is None else _ref(m.target),
                components=m.components,
            )
            for m in report.moves
        ],
        components_moved=report.components_moved,
        components_lost=report.components_lost,
        recoded=result.recoded,
    )
