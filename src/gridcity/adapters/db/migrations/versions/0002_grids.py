"""Grid layers, grid cells with validity dates, and the spatial version counters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from gridcity.adapters.db.spatial import (
    Geometry,
    bbox_columns,
    create_spatial_index,
    drop_spatial_index,
)
from gridcity.adapters.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    layer = op.create_table(
        "grid_layer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("code", name="uq_grid_layer_code"),
    )
    op.create_table(
        "grid_cell",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("grid_layer.id"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON"), nullable=True),
        *bbox_columns(),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("layer_id", "code", "valid_from", name="uq_grid_cell_layer_code_from"),
    )
    op.create_index("ix_grid_cell_layer_id_valid_to", "grid_cell", ["layer_id", "valid_to"])
    op.create_index("ix_grid_cell_code", "grid_cell", ["code"])
    op.create_index("ix_grid_cell_community_code", "grid_cell", ["community_code"])
    create_spatial_index(op, "grid_cell")

    state = op.create_table(
        "spatial_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )

    # Base data: the unit grid layer always exists; the counters start at 0.
    now = datetime.now(UTC)
    op.bulk_insert(
        layer,
        [
            {
                "kind": "unit",
                "code": "unit",
                "name": "单元网格",
                "description": "万米单元网格 (GB/T 30428.1): 15-digit codes, one community each",
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    op.bulk_insert(
        state,
        [{"name": name, "version": 0, "changed_at": now} for name in ("grids", "divisions")],
    )


def downgrade() -> None:
    op.drop_table("spatial_state")
    drop_spatial_index(op, "grid_cell")
    op.drop_table("grid_cell")
    op.drop_table("grid_layer")
