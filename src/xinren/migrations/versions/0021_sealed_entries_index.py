"""The sealed journal indexed by block: `ledger verify` reads the entries block by block, in
(seal_id, id) order, by index range instead of sorting or scanning the journal; partial (sealed
entries only), so writers, whose entries are unsealed, do not pay for it

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ledger_entries_sealed",
        "ledger_entries",
        ["seal_id", "id"],
        sqlite_where=sa.text("seal_id IS NOT NULL"),
        postgresql_where=sa.text("seal_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_sealed", table_name="ledger_entries")
