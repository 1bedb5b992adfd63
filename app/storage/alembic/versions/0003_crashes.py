"""Batch items remember crashes apart from attempts: a crash of the batch process is not the
site's failure. ``crashes`` counts the times a dead worker left the item unfinished; ``solo``
marks a claim made with nothing else running, which is how a site that itself brings the
worker down is told from the sites that happened to run beside it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_items") as table:
        table.add_column(sa.Column("crashes", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("solo", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("batch_items") as table:
        table.drop_column("solo")
        table.drop_column("crashes")
