"""Foundation: divisions, departments, centers, accounts, sessions, tokens, audit, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gridcity.adapters.db.spatial import (
    Geometry,
    bbox_columns,
    create_spatial_index,
    drop_spatial_index,
    enable_extensions,
)
from gridcity.adapters.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    enable_extensions(op)
    op.create_table(
        "division",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("division.id"), nullable=True),
        sa.Column("area_m2", sa.Float, nullable=True),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON"), nullable=True),
        *bbox_columns(),
        *_stamps(),
        sa.UniqueConstraint("code", name="uq_division_code"),
    )
    op.create_index("ix_division_level", "division", ["level"])
    op.create_index("ix_division_name", "division", ["name"])
    op.create_index("ix_division_parent_id", "division", ["parent_id"])
    create_spatial_index(op, "division")

    op.create_table(
        "department",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("short_name", sa.String(40), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("district_id", sa.Integer, sa.ForeignKey("division.id"), nullable=True),
        sa.Column("contact_person", sa.String(50), nullable=False),
        sa.Column("contact_phone", sa.String(30), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("name", name="uq_department_name"),
        sa.UniqueConstraint("credit_code", name="uq_department_credit_code"),
    )

    op.create_table(
        "center",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("district_id", sa.Integer, sa.ForeignKey("division.id"), nullable=False),
        sa.Column("phone", sa.String(30), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("district_id", "kind", name="uq_center_district_kind"),
    )

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(30), nullable=False),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("department.id"), nullable=True),
        sa.Column("center_id", sa.Integer, sa.ForeignKey("center.id"), nullable=True),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.Column("password_changed_at", UTCDateTime(), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("username", name="uq_user_account_username"),
    )
    op.create_index("ix_user_account_department_id", "user_account", ["department_id"])
    op.create_index("ix_user_account_center_id", "user_account", ["center_id"])

    op.create_table(
        "user_scope_division",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("division_code", sa.String(12), primary_key=True),
    )
    op.create_table(
        "user_scope_department",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "department_id",
            sa.Integer,
            sa.ForeignKey("department.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    for table in ("user_session", "api_token"):
        extra = (
            [
                sa.Column("ip", sa.String(64), nullable=False),
                sa.Column("user_agent", sa.String(300), nullable=False),
            ]
            if table == "user_session"
            else [
                sa.Column("name", sa.String(100), nullable=False),
                sa.Column("revoked_at", UTCDateTime(), nullable=True),
            ]
        )
        op.create_table(
            table,
            sa.Column("token_hash", sa.String(64), primary_key=True),
            sa.Column(
                "user_id",
                sa.Integer,
                sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("expires_at", UTCDateTime(), nullable=False),
            *extra,
        )
        op.create_index(f"ix_{table}_user_id", table, ["user_id"])
        op.create_index(f"ix_{table}_expires_at", table, ["expires_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])

    op.create_table(
        "job_run",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.Column("last_finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_result", sa.String(300), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    op.drop_table("audit_log")
    op.drop_table("api_token")
    op.drop_table("user_session")
    op.drop_table("user_scope_department")
    op.drop_table("user_scope_division")
    op.drop_table("user_account")
    op.drop_table("center")
    op.drop_table("department")
    drop_spatial_index(op, "division")
    op.drop_table("division")
