"""``gridcity init`` loads the standard catalog once; ``gridcity catalog`` lists, loads again
and switches."""

from __future__ import annotations

from tests.integration.test_cli import Gridcity, assert_one_error_line, gridcity  # noqa: F401


def test_init_loads_the_catalog_once_and_the_catalog_commands_use_it(
    gridcity: Gridcity,  # noqa: F811
    empty_database_url: str,
) -> None:
    url = {"GRIDCITY_DATABASE_URL": empty_database_url}
    first = gridcity("init", **url)
    again = gridcity("init", **url)
    assert first.code == 0, first
    assert "standard catalog: 593 classes, 106 mappings, 8 time-limit examples added" in first.out
    assert "standard catalog: 0 classes, 0 mappings, 0 time-limit examples added" in again.out

    listed = gridcity("catalog", "list", "--kind", "component", "--q", "gsjg", **url)
    assert listed.code == 0, listed
    assert "gbt47678_5_2026\tcomponent\tminor\t01001\t供水井盖\t🟡" in listed.out.splitlines()

    dry = gridcity("catalog", "switch", "cjt214_2007", "--dry-run", **url)
    assert dry.code == 0, dry
    assert "mapped\tmatter:06010\t→ event:0102" in dry.out
    assert "unmapped\tcomponent:01001" in dry.out
    assert dry.out.rstrip().endswith(
        "92 mapped, 311 unmapped; 0 components move, 0 lost; not switched"
    )

    reload = gridcity("catalog", "load", **url)
    assert reload.code == 0, reload
    assert reload.out.rstrip().endswith(
        "standard catalog: 0 classes, 0 mappings, 0 time-limit examples added; 0 corrected, "
        "0 seed keys held by extensions"
    )

    done = gridcity("catalog", "switch", "cjt214_2007", **url)
    assert done.out.rstrip().endswith("; switched, 0 components re-coded")
    old = gridcity("catalog", "list", "--q", "0101", **url)
    assert old.out.splitlines()[0].startswith("cjt214_2007\t")

    bad = gridcity("catalog", "switch", "gbt_1999", **url)
    assert bad.code == 2
    assert_one_error_line(bad, "gridcity: error: catalog switch gbt_1999: Unknown code set")
