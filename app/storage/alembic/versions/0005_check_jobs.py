"""Checks run as stored jobs: ``POST /api/v1/checks`` answers 202 at once, and a check that
outlives its request, or the process that ran it, is neither lost nor run twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "check_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("input_url", sa.Text(), nullable=False),
        sa.Column("max_pages", sa.Integer(), nullable=True),
        sa.Column("explain", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error_code", sa.String(40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_check_jobs_state_created_at", "check_jobs", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_check_jobs_state_created_at", table_name="check_jobs")
    op.drop_table("check_jobs")
