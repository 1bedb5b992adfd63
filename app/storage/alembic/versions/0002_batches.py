"""Batch screening: batches and their items, the work queue of ``app.jobs``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Migrations spell out their column types instead of importing the models, which will change.
UTC_TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("options", JSON_DOC, nullable=False),
        sa.Column("owner_key_id", sa.String(32), nullable=True),
        sa.Column("input_sha256", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    op.create_index(op.f("ix_batches_owner_key_id"), "batches", ["owner_key_id"])
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("normalized_url", sa.Text(), nullable=True),
        sa.Column("columns", JSON_DOC, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_at", UTC_TIME, nullable=True),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.Column("report_id", sa.String(32), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("result", JSON_DOC, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_batch_items_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint("batch_id", "position", name=op.f("uq_batch_items_batch_id")),
    )
    op.create_index("ix_batch_items_batch_id_state", "batch_items", ["batch_id", "state"])
    op.create_index("ix_batch_items_state_lease_until", "batch_items", ["state", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_batch_items_state_lease_until", table_name="batch_items")
    op.drop_index("ix_batch_items_batch_id_state", table_name="batch_items")
    op.drop_table("batch_items")
    op.drop_index(op.f("ix_batches_owner_key_id"), table_name="batches")
    op.drop_table("batches")
