"""The documentation names every setting and every command (datasette's docs-as-tests idea)."""

from __future__ import annotations

from pathlib import Path

from gridcity.cli import app
from gridcity.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_operations() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`GRIDCITY_{name.upper()}`" not in text]
    assert not missing, f"undocumented settings: {missing}"


def test_every_command_is_documented_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    missing = [n for n in names if f"gridcity {n}" not in text]
    assert not missing, f"undocumented commands: {missing}"


def test_the_readme_quickstart_is_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["make run", "make test"]
