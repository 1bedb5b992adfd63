"""A report's score may be empty: a site that was not judged (not about cell treatment, or not
read) has no warning-sign score rather than a misleading 0. Earlier rows of such sites get an
empty score column; their stored JSON report is left as it was.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

NOT_JUDGED = ("not_applicable", "unreadable")


def upgrade() -> None:
    with op.batch_alter_table("reports") as table:
        table.alter_column("score", existing_type=sa.Integer(), nullable=True)
    reports = sa.table("reports", sa.column("score"), sa.column("verdict"))
    op.execute(reports.update().where(reports.c.verdict.in_(NOT_JUDGED)).values(score=None))


def downgrade() -> None:
    reports = sa.table("reports", sa.column("score"))
    op.execute(reports.update().where(reports.c.score.is_(None)).values(score=0))
    with op.batch_alter_table("reports") as table:
        table.alter_column("score", existing_type=sa.Integer(), nullable=False)
