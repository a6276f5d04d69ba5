"""docs/workflow.md shows the transition table as the code has it (datasette's docs-as-tests)."""

from __future__ import annotations

from pathlib import Path

from gridcity.domain.cases import TRANSITIONS, RefusalCode
from gridcity.domain.cases.render import BEGIN, END, section, updated

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow.md"


def test_the_generated_part_of_workflow_md_equals_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert updated(text) == text, (
        "docs/workflow.md is stale: python -m gridcity.domain.cases.render --update docs/workflow.md"
    )


def test_the_rendered_table_has_one_line_per_row_and_the_diagram_every_status_change() -> None:
    rendered = section()
    assert rendered.startswith(BEGIN) and rendered.endswith(END)
    for (status, action), target in TRANSITIONS.items():
        assert f"| `{status}` | `{action}` | `{target}`" in rendered
        if target != status:
            assert f"    {status} --> {target}: " in rendered


def test_the_rules_page_names_every_refusal_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [code.value for code in RefusalCode if f"`{code.value}`" not in text]
    assert not missing, f"refusal codes missing from docs/workflow.md: {missing}"
