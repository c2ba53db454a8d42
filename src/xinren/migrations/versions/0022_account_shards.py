"""Clearing shards: an account may be one of several shards of a busier account (``sweep_into``
names it), so concurrent orders credit and debit disjoint rows and the sweep moves the shards'
balances into the shared account in one transfer per account; partial index, so only shards
are in it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.add_column(
            sa.Column(
                "sweep_into",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.ForeignKey("ledger_accounts.id", name="fk_ledger_accounts_sweep_into"),
                nullable=True,
            )
        )
    op.create_index(
        "ix_ledger_accounts_sweep_into",
        "ledger_accounts",
        ["sweep_into", "id"],
        sqlite_where=sa.text("sweep_into IS NOT NULL"),
        postgresql_where=sa.text("sweep_into IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_accounts_sweep_into", table_name="ledger_accounts")
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.drop_constraint("fk_ledger_accounts_sweep_into", type_="foreignkey")
        batch.drop_column("sweep_into")
