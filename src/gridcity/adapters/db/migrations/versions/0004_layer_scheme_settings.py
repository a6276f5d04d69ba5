"""Layer scheme settings and named shifts as data; weekdays (rotas) on assignments.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from gridcity.adapters.db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The values in code until this revision (frozen here: later edits are data, not migrations).
SCHEMES = [
    # scheme, marker, division level, sequence digits, Chinese name, English name
    ("unit", "", "community", 3, "单元网格", "Unit grid"),
    ("responsibility", "ZR", "subdistrict", 2, "责任网格", "Responsibility grid"),
    ("social", "SH", "community", 3, "社会服务管理网格", "Social-service grid"),
    ("enforcement", "ZF", "district", 3, "执法网格", "Enforcement grid"),
    ("sanitation", "HW", "district", 3, "环卫网格", "Sanitation grid"),
    ("fire_big", "XF", "subdistrict", 0, "消防大网格", "Fire grid, big"),
    ("fire_medium", "XF", "community", 0, "消防中网格", "Fire grid, medium"),
    ("fire_small", "XF", "community", 2, "消防小网格", "Fire grid, small (zone)"),
]
SHIFTS = [
    ("day", "08:00", "20:00", "白班", "day shift"),
    ("night", "20:00", "08:00", "夜班", "night shift"),
]


def upgrade() -> None:
    now = datetime.now(UTC)
    schemes = op.create_table(
        "layer_scheme_setting",
        sa.Column("scheme", sa.String(32), primary_key=True),
        sa.Column("marker", sa.String(4), nullable=False),
        sa.Column("division_level", sa.String(16), nullable=False),
        sa.Column("sequence_digits", sa.Integer, nullable=False),
        sa.Column("name_zh", sa.String(50), nullable=False),
        sa.Column("name_en", sa.String(50), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.bulk_insert(
        schemes,
        [
            {
                "scheme": scheme,
                "marker": marker,
                "division_level": level,
                "sequence_digits": digits,
                "name_zh": zh,
                "name_en": en,
                "updated_at": now,
            }
            for scheme, marker, level, digits, zh, en in SCHEMES
        ],
    )
    shifts = op.create_table(
        "named_shift",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("starts_at", sa.String(5), nullable=False),
        sa.Column("ends_at", sa.String(5), nullable=False),
        sa.Column("name_zh", sa.String(50), nullable=False),
        sa.Column("name_en", sa.String(50), nullable=False),
        sa.Column("is_retired", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.bulk_insert(
        shifts,
        [
            {
                "name": name,
                "starts_at": start,
                "ends_at": end,
                "name_zh": zh,
                "name_en": en,
                "is_retired": False,
                "created_at": now,
                "updated_at": now,
            }
            for name, start, end, zh, en in SHIFTS
        ],
    )
    with op.batch_alter_table("responsibility_assignment") as batch:
        batch.add_column(
            sa.Column("weekdays", sa.String(7), nullable=False, server_default="1234567")
        )


def downgrade() -> None:
    """Refuse when rotas exist; write a city's own (or re-timed) shifts out as their hours."""
    conn = op.get_bind()
    rotas = conn.execute(
        sa.text("SELECT count(*) FROM responsibility_assignment WHERE weekdays <> '1234567'")
    ).scalar()
    if rotas:
        # Dropping the column would turn a Mon–Fri and a Sat–Sun rota into two every-day
        # assignments that overlap; there is no way to say "weekdays" before this revision.
        raise CommandError(
            f"Cannot downgrade below 0004: {rotas} assignments hold on some weekdays only "
            "(rotas), which revision 0003 cannot express; end or delete them first"
        )
    # Before this revision only day 08:00-20:00 and night 20:00-08:00 had names; an assignment
    # naming any other shift (or one whose hours a city changed) keeps its hours as HH:MM-HH:MM.
    seeded = {(name, start, end) for name, start, end, _zh, _en in SHIFTS}
    for name, start, end in conn.execute(
        sa.text("SELECT name, starts_at, ends_at FROM named_shift")
    ).all():
        if (name, start, end) not in seeded:
            conn.execute(
                sa.text("UPDATE responsibility_assignment SET shift = :hours WHERE shift = :name"),
                {"hours": f"{start}-{end}", "name": name},
            )
    with op.batch_alter_table("responsibility_assignment") as batch:
        batch.drop_column("weekdays")
    op.drop_table("named_shift")
    op.drop_table("layer_scheme_setting")
