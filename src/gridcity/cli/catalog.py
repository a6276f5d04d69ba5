"""``gridcity catalog …``: list the classes of the standard catalog, switch the active code set."""

from __future__ import annotations

from typing import Annotated

import typer

from gridcity.cli.support import SYSTEM, container_or_fail, fail
from gridcity.domain.errors import DomainError
from gridcity.services import catalog, catalog_admin
from gridcity.services.deps import CLI

catalog_app = typer.Typer(
    help="The standard catalog (部件/事件分类): list classes, switch the active code set.",
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
        result = catalog_admin.switch_code_set(
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
    state = "switched" if result.switched else "not switched"
    print(
        f"{report.from_set} → {report.to_set}: {len(report.mapped)} mapped, "
        f"{len(report.unmapped)} unmapped; {state}"
    )
