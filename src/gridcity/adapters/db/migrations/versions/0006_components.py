"""The component inventory (部件): components, their change history, census import batches and
the serial counters that identifiers are drawn from.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gridcity.adapters.db.spatial import (
    Geometry,
    create_spatial_index,
    drop_spatial_index,
)
from gridcity.adapters.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATES = "('intact', 'damaged', 'lost', 'occupied', 'abandoned', 'removed')"


def upgrade() -> None:
    op.create_table(
        "component_import",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("file_format", sa.String(16), nullable=False),
        sa.Column("code_set", sa.String(32), sa.ForeignKey("catalog_code_set.key"), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "component_serial",
        sa.Column("code_set", sa.String(32), primary_key=True),
        sa.Column("admin_code", sa.String(6), primary_key=True),
        sa.Column("class_code", sa.String(8), primary_key=True),
        sa.Column("last_serial", sa.Integer, nullable=False),
    )
    op.create_table(
        "component",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("identifier", sa.String(17), nullable=False, unique=True),
        sa.Column("code_set", sa.String(32), sa.ForeignKey("catalog_code_set.key"), nullable=False),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("catalog_class.id"), nullable=False),
        sa.Column("class_code", sa.String(8), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("geom", Geometry("GEOMETRY"), nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column(
            "competent_department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=False
        ),
        sa.Column("owner_department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=True),
        sa.Column(
            "maintainer_department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=True
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("census_date", sa.Date, nullable=False),
        sa.Column("changed_on", sa.Date, nullable=True),
        sa.Column("data_source", sa.String(30), nullable=False),
        sa.Column("accuracy", sa.String(1), nullable=False),
        sa.Column("position_text", sa.String(256), nullable=False),
        sa.Column("photos", sa.JSON, nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("component_import.id"), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(f"state IN {STATES}", name="state"),
        sa.CheckConstraint("accuracy IN ('A', 'B', 'C', '')", name="accuracy"),
    )
    # Few indexes on purpose: each one slows a census import down. A grid code begins with its
    # community's code, so the grid index also serves community and subdistrict filters; state
    # has too few values to be worth one.
    op.create_index("ix_component_class_id", "component", ["class_id"])
    op.create_index("ix_component_grid_code", "component", ["grid_code"])
    op.create_index("ix_component_change_seq", "component", ["change_seq"])
    op.create_index(
        "ix_component_competent_department_id", "component", ["competent_department_id"]
    )
    # Components that are not intact (破损, 丢失 …) are the few a registry search looks for; a
    # census is nearly all intact, so this partial index costs an import next to nothing.
    op.create_index(
        "ix_component_state_identifier",
        "component",
        ["state", "identifier"],
        sqlite_where=sa.text("state <> 'intact'"),
        postgresql_where=sa.text("state <> 'intact'"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # SQLite answers window queries from the in-process component index instead of a
        # bounding-box B-tree (decision 0011).
        create_spatial_index(op, "component")
    op.create_table(
        "component_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "component_id",
            sa.Integer,
            sa.ForeignKey("component.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("component_id", "version", name="uq_component_version_component_id"),
    )


def downgrade() -> None:
    """Drop the inventory."""
    op.drop_table("component_version")
    if op.get_bind().dialect.name == "postgresql":
        drop_spatial_index(op, "component")
    op.drop_table("component")
    op.drop_table("component_serial")
    op.drop_table("component_import")
