"""the journal's hash chain covers every field: a line format version per sealed block

Blocks sealed so far used line format 1 and keep it (the server default), so they keep
verifying; `ledger.journal.seal` writes version 2 from now on, with the columns that let it seal
transfers that have no journal entries (extend, pause, resume).

Downgrading drops the columns: code from before this revision would then read version 2
blocks as version 1 and report them broken.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_seals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.add_column(sa.Column("transfer_horizon", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("transfer_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("late_transfer_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_seals", schema=None) as batch_op:
        batch_op.drop_column("late_transfer_ids")
        batch_op.drop_column("transfer_ids")
        batch_op.drop_column("transfer_horizon")
        batch_op.drop_column("version")
