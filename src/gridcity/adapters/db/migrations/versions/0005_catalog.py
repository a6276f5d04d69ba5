"""The standard catalog: code sets, classes (standard and local extensions), the mapping
between code sets, and the city's active code set.

The classes themselves are base data loaded by ``services.catalog.load_standard_catalog``
(``gridcity init``), not by this revision: their seed files change with corrections, the schema
does not.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from gridcity.adapters.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here (later changes are data): key, Chinese name, English name, minor digits.
CODE_SETS = [
    ("cjt214_2007", "CJ/T 214-2007", "CJ/T 214-2007", 2),
    ("gbt30428_2_2013", "GB/T 30428.2-2013", "GB/T 30428.2-2013", 2),
    ("gbt47678_5_2026", "GB/T 47678.5-2026", "GB/T 47678.5-2026", 3),
]
DEFAULT_ACTIVE = "gbt47678_5_2026"


def upgrade() -> None:
    now = datetime.now(UTC)
    code_sets = op.create_table(
        "catalog_code_set",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(60), nullable=False),
        sa.Column("name_en", sa.String(60), nullable=False),
        sa.Column("minor_digits", sa.Integer, nullable=False),
    )
    op.bulk_insert(
        code_sets,
        [{"key": k, "name_zh": zh, "name_en": en, "minor_digits": d} for k, zh, en, d in CODE_SETS],
    )
    setting = op.create_table(
        "catalog_setting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "active_code_set", sa.String(32), sa.ForeignKey("catalog_code_set.key"), nullable=False
        ),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    op.bulk_insert(setting, [{"id": 1, "active_code_set": DEFAULT_ACTIVE, "updated_at": now}])
    op.create_table(
        "catalog_class",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_set", sa.String(32), sa.ForeignKey("catalog_code_set.key"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("major", sa.String(2), nullable=False),
        sa.Column("name_zh", sa.String(60), nullable=False),
        sa.Column("name_en", sa.String(60), nullable=False),
        sa.Column("initials", sa.String(60), nullable=False),
        sa.Column("confidence", sa.String(4), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("is_local_extension", sa.Boolean, nullable=False),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=True),
        sa.Column("filing_criteria", sa.JSON, nullable=False),
        sa.Column("closing_criteria", sa.String(500), nullable=False),
        sa.Column("time_limits", sa.JSON, nullable=False),
        sa.Column("form_fields", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("code_set", "kind", "level", "code", name="uq_catalog_class_key"),
        sa.CheckConstraint("level IN ('major', 'minor')", name="level"),
        sa.CheckConstraint("kind IN ('component', 'event', 'matter')", name="kind"),
        sa.CheckConstraint("confidence IN ('✅', '🟡', '❓', '')", name="confidence"),
    )
    op.create_table(
        "catalog_mapping",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "source_set", sa.String(32), sa.ForeignKey("catalog_code_set.key"), nullable=False
        ),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_code", sa.String(8), nullable=False),
        sa.Column(
            "target_set", sa.String(32), sa.ForeignKey("catalog_code_set.key"), nullable=False
        ),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_code", sa.String(8), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("confidence", sa.String(4), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.UniqueConstraint(
            "source_set", "source_kind", "source_code", "target_set", name="uq_catalog_mapping_key"
        ),
        sa.CheckConstraint("basis IN ('rule', 'name_match', 'manual')", name="basis"),
    )


def downgrade() -> None:
    """Drop the catalog (base data reloaded by ``gridcity init`` after an upgrade)."""
    op.drop_table("catalog_mapping")
    op.drop_table("catalog_class")
    op.drop_table("catalog_setting")
    op.drop_table("catalog_code_set")
