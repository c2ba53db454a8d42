"""detection's own abuse record: complaints, unfounded notices and flags

Detection (the abuse score of a buyer or reporter, xinren/detect/buyers.py) read the cases' and
rules' tables and the outbox, though it sits below both contexts. It now keeps its own record,
written inside the transaction that appends the cases' and rules' events: one row per complaint
(`abuse_complaints`: who, which order, when, whether decided unfounded), per notice decided
unfounded (`abuse_unfounded_notices`), and per account flagged (`abuse_flags`: by the score, or
warned or suspended as a reporter). The upgrade fills them from the records as they stand, so
every account scores, weighs and reads exactly as before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

from xinren.schema import UtcDateTime


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Backfills, as the score read these facts at revision 0018.
COMPLAINTS = """
INSERT INTO abuse_complaints (case_id, account, order_id, opened_at, unfounded)
SELECT id, buyer, order_id, opened_at,
       CASE WHEN outcome = 'for_merchant' AND NOT by_default THEN TRUE ELSE FALSE END
FROM cases
"""
NOTICES = """
INSERT INTO abuse_unfounded_notices (notice_id, account, decided_at)
SELECT id, reporter, COALESCE(decided_at, created_at)
FROM notices WHERE status IN ('unfounded', 'manifestly_unfounded')
"""
# one row per account: the score's flag first (its event's time), else the reporter's warning
# or suspension (its last update)
FLAGS = """
INSERT INTO abuse_flags (account, cause, flagged_at)
SELECT subject, 'abuse.flagged', MIN(created_at) FROM outbox
WHERE topic = 'abuse.flagged' GROUP BY subject
"""
REPORTER_FLAGS = """
INSERT INTO abuse_flags (account, cause, flagged_at)
SELECT ref, CASE WHEN warned_at IS NOT NULL THEN 'reporter.warned' ELSE 'reporter.suspended' END,
       updated_at
FROM reporters
WHERE (warned_at IS NOT NULL OR suspended_until IS NOT NULL)
  AND ref NOT IN (SELECT account FROM abuse_flags)
"""


def upgrade() -> None:
    op.create_table(
        "abuse_complaints",
        sa.Column("case_id", ID, autoincrement=False, nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("opened_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("unfounded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_abuse_complaints_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_abuse_complaints")),
    )
    op.create_index(
        op.f("ix_abuse_complaints_account"), "abuse_complaints", ["account"], unique=False
    )
    op.create_table(
        "abuse_unfounded_notices",
        sa.Column("notice_id", ID, autoincrement=False, nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_abuse_unfounded_notices")),
    )
    op.create_index(
        op.f("ix_abuse_unfounded_notices_account"),
        "abuse_unfounded_notices",
        ["account"],
        unique=False,
    )
    op.create_table(
        "abuse_flags",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("flagged_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_abuse_flags")),
    )
    for backfill in (COMPLAINTS, NOTICES, FLAGS, REPORTER_FLAGS):
        op.execute(sa.text(backfill))


def downgrade() -> None:
    # the older code reads the cases', rules' and outbox's rows, which were never changed
    op.drop_table("abuse_flags")
    op.drop_index(op.f("ix_abuse_unfounded_notices_account"), table_name="abuse_unfounded_notices")
    op.drop_table("abuse_unfounded_notices")
    op.drop_index(op.f("ix_abuse_complaints_account"), table_name="abuse_complaints")
    op.drop_table("abuse_complaints")
