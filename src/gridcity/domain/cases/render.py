"""Render the transition table for docs/workflow.md: a Mermaid diagram and a status × action table.

``python -m gridcity.domain.cases.render`` prints the generated section; ``--update PATH`` puts it
between the markers of that file. tests/unit/test_workflow_docs.py fails when the two differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gridcity.domain.access import Role
from gridcity.domain.cases.table import ACTION_ROLES, OPENING, TRANSITIONS
from gridcity.domain.cases.vocabulary import TERMINAL, CaseAction, CaseStatus

BEGIN = "<!-- BEGIN GENERATED: python -m gridcity.domain.cases.render -->"
END = "<!-- END GENERATED -->"


def _roles(action: CaseAction) -> str:
    return ", ".join(f"`{r.value}`" for r in Role if r in ACTION_ROLES[action])


def mermaid() -> str:
    """The status-changing transitions as a Mermaid state diagram (same-status rows: the table)."""
    lines = ["```mermaid", "stateDiagram-v2"]
    for action, target in OPENING.items():
        lines.append(f"    [*] --> {target.value}: {action.value}")
    edges: dict[tuple[CaseStatus, CaseStatus], list[str]] = {}
    for (status, action), target in TRANSITIONS.items():
        if target != status:
            edges.setdefault((status, target), []).append(action.value)
    order = list(CaseStatus)
    for (status, target), actions in sorted(
        edges.items(), key=lambda e: (order.index(e[0][0]), order.index(e[0][1]))
    ):
        lines.append(f"    {status.value} --> {target.value}: {' / '.join(actions)}")
    for status in order:
        if status in TERMINAL:
            lines.append(f"    {status.value} --> [*]")
    lines.append("```")
    return "\n".join(lines)


def table() -> str:
    """Every row: status × action → status, with the roles allowed."""
    rows = ["| From | Action | To | Roles |", "|---|---|---|---|"]
    for action, target in OPENING.items():
        rows.append(f"| (new) | `{action.value}` | `{target.value}` | {_roles(action)} |")
    order = list(CaseStatus)
    for (status, action), target in sorted(
        TRANSITIONS.items(),
        key=lambda r: (order.index(r[0][0]), list(CaseAction).index(r[0][1])),
    ):
        same = " (same)" if target == status else ""
        rows.append(
            f"| `{status.value}` | `{action.value}` | `{target.value}`{same} | {_roles(action)} |"
        )
    return "\n".join(rows)


def section() -> str:
    """The generated part of docs/workflow.md, markers included."""
    return "\n\n".join([BEGIN, mermaid(), table(), END])


def updated(document: str) -> str:
    """The document with its generated part replaced by the current one."""
    head, rest = document.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    return head + section() + tail


def main(argv: list[str]) -> int:
    """Print the section, or rewrite it in place with ``--update PATH``."""
    if len(argv) == 2 and argv[0] == "--update":
        path = Path(argv[1])
        path.write_text(updated(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    sys.stdout.write(section() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
