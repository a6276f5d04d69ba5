"""Migration 0005: the catalog tables, the code sets of the domain, the active set, and back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridcity.adapters.db import migrate
from gridcity.domain.catalog import CODE_SETS
from tests.integration.test_migrations import engine  # noqa: F401


def test_0005_seeds_the_domain_s_code_sets_and_2026_as_active(
    engine: sa.Engine,  # noqa: F811
) -> None:
    migrate.upgrade(engine)
    with engine.connect() as conn:
        sets = {
            row.key: (row.name_zh, row.minor_digits)
            for row in conn.execute(sa.text("SELECT * FROM catalog_code_set"))
        }
        active = conn.execute(sa.text("SELECT active_code_set FROM catalog_setting")).scalar_one()
    assert sets == {k: (v.name_zh, v.minor_digits) for k, v in CODE_SETS.items()}
    assert active == "gbt47678_5_2026"


def test_0005_refuses_a_second_setting_row_and_an_unknown_level(
    engine: sa.Engine,  # noqa: F811
) -> None:
    migrate.upgrade(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO catalog_setting VALUES (2, 'cjt214_2007', '2026-01-01')"))
    row = (
        "INSERT INTO catalog_class (code_set, kind, level, code, major, name_zh, name_en,"
        " initials, confidence, note, is_local_extension, filing_criteria,"
        " closing_criteria, time_limits, form_fields, updated_at) VALUES"
        " ('cjt214_2007', 'component', '{level}', '0101', '01', 'x', '', '', '✅', '',"
        " false, '[]', '', '[]', '[]', '2026-01-01')"
    )
    with engine.begin() as conn:  # the same row with a known level is accepted
        conn.execute(sa.text(row.format(level="minor")))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(row.format(level="sub")))


def test_0005_goes_back_to_0004_without_the_catalog_tables(
    engine: sa.Engine,  # noqa: F811
) -> None:
    migrate.upgrade(engine)
    migrate.migrate_to(engine, "0004")
    names = set(sa.inspect(engine).get_table_names())
    assert not {n for n in names if n.startswith("catalog_")}
    assert "named_shift" in names
