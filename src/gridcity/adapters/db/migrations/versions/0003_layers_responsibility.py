"""Layer schemes, the unit grids of cells made of unit grids, and responsibility assignments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gridcity.adapters.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_layer_scheme",
        sa.Column(
            "layer_id",
            sa.Integer,
            sa.ForeignKey("grid_layer.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("scheme", sa.String(32), nullable=False),
    )
    op.create_table(
        "grid_cell_member",
        sa.Column(
            "cell_id",
            sa.Integer,
            sa.ForeignKey("grid_cell.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("grid_code", sa.String(15), primary_key=True),
    )
    op.create_index("ix_grid_cell_member_grid_code", "grid_cell_member", ["grid_code"])
    op.create_table(
        "responsibility_assignment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("post", sa.String(16), nullable=False),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("grid_layer.id"), nullable=True),
        sa.Column("cell_code", sa.String(32), nullable=True),
        sa.Column("division_code", sa.String(12), nullable=True),
        sa.Column("shift", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.CheckConstraint(
            "(cell_code IS NOT NULL AND layer_id IS NOT NULL AND division_code IS NULL)"
            " OR (cell_code IS NULL AND layer_id IS NULL AND division_code IS NOT NULL)",
            name="one_target",
        ),
    )
    op.create_index(
        "ix_responsibility_assignment_user_id", "responsibility_assignment", ["user_id"]
    )
    op.create_index(
        "ix_responsibility_assignment_division_code",
        "responsibility_assignment",
        ["division_code"],
    )
    op.create_index(
        "ix_responsibility_assignment_layer_id_cell_code",
        "responsibility_assignment",
        ["layer_id", "cell_code"],
    )


def downgrade() -> None:
    op.drop_table("responsibility_assignment")
    op.drop_table("grid_cell_member")
    op.drop_table("grid_layer_scheme")
