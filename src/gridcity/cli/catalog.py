"""``gridcity catalog …``: list the classes of the standard catalog, load the seed again (with
its corrections), switch the active code set (re-coding the components)."""

from __future__ import annotations

from typing import Annotated

import typer

from gridcity.cli.support import SYSTEM, container_or_fail, fail
from gridcity.domain.errors import DomainError
from gridcity.services import catalog, catalog_switch
from gridcity.services.deps import CLI

catalog_app = typer.Typer(
    help="The standard catalog (部件/事件分类): list classes, load the seed, switch the active "
    "code set.",
    no_args_is_help=True,
)


@catalog_app.command("list")
def list_command(
    code_set: Annotated[
        str | None, typer.Option("--set", help="Code set (default: the active one)")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="component, event or matter")] = None,
    q: Annotated[
        str | None, typer.Option(help="Code prefix, part of the name, or pinyin initials")
    ] = None,
) -> None:
    """Print one class a line: code set, kind, level, code, name, confidence."""
    container = container_or_fail()
    try:
        found = catalog.list_classes(
            container.deps, SYSTEM, code_set=code_set, kind=kind, q=q, limit=10_000
        )
    except DomainError as exc:
        fail(f"catalog list: {exc}")
    for c in found:
        mark = " 扩展" if c.is_local_extension else ""
        print(f"{c.code_set}\t{c.kind}\t{c.level}\t{c.code}\t{c.name_zh}\t{c.confidence}{mark}")


@catalog_app.command("switch")
def switch_command(
    code_set: Annotated[str, typer.Argument(help="Code set to make active")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only print the report")] = False,
) -> None:
    """Print which classes of the active set map to the new one, then switch (unless --dry-run)."""
    container = container_or_fail()
    try:
        result = catalog_switch.switch_code_set(
            container.deps, SYSTEM, code_set, dry_run=dry_run, info=CLI
        )
    except DomainError as exc:
        fail(f"catalog switch {code_set}: {exc}")
    report = result.report
    for source, target in report.mapped:
        print(f"mapped\t{source.kind}:{source.code}\t→ {target.kind}:{target.code}")
    for ref in report.unmapped:
        print(f"unmapped\t{ref.kind}:{ref.code}")
    for ref in report.lost:
        print(f"lost (in use)\t{ref.kind}:{ref.code}")
    for move in report.moves:
        to = "lost" if move.target is None else f"{move.target.kind}:{move.target.code}"
        print(f"components\t{move.source.kind}:{move.source.code}\t→ {to}\t{move.components}")
    state = f"switched, {result.recoded} components re-coded" if result.switched else "not switched"
    print(
        f"{report.from_set} → {report.to_set}: {len(report.mapped)} mapped, "
        f"{len(report.unmapped)} unmapped; {report.components_moved} components move, "
        f"{report.components_lost} lost; {state}"
    )


@catalog_app.command("load")
def load_command() -> None:
    """Load the standard catalog again: add what is missing, carry the seed's corrections into
    standard classes, rebuild the derived mapping; print what changed."""
    container = container_or_fail()
    try:
        result = catalog.load_standard_catalog(container.deps, SYSTEM, info=CLI)
    except DomainError as exc:
        fail(f"catalog load: {exc}")
    for fix in result.corrected:
        fields = ", ".join(f"{k}: {old!r} → {new!r}" for k, (old, new) in fix.changes.items())
        print(f"corrected\t{fix.ref.code_set}\t{fix.ref.kind}:{fix.ref.code}\t{fields}")
    for hit in result.collisions:
        print(
            f"kept extension\t{hit.ref.code_set}\t{hit.ref.kind}:{hit.ref.code}\t"
            f"{hit.extension_name} (the seed has {hit.seed_name})"
        )
    for old in result.mappings_removed:
        print(f"mapping removed\t{old.source.code_set}:{old.source.code} → {old.target.code}")
    for old, new in result.mappings_changed:
        print(f"mapping changed\t{old.source.code_set}:{old.source.code} → {new.target.code}")
    for row in result.mappings_yielded:
        print(
            f"manual pair kept\t{row.source.code_set}:{row.source.code} (derived: {row.target.code})"
        )
    for ref in result.not_in_seed:
        print(f"not in the seed\t{ref.code_set}\t{ref.kind}:{ref.code}")
    print(
        f"standard catalog: {result.classes} classes, {result.mappings} mappings, "
        f"{result.time_limits} time-limit examples added; {len(result.corrected)} corrected, "
        f"{len(result.collisions)} seed keys held by extensions"
    )
