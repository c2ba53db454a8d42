"""Staff accounts for the operators' console: a username, an argon2id password hash, a role
(auditor, reviewer, senior reviewer, admin) and, for those who decide, the person they decide as

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

from xinren.schema import UtcDateTime


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("person", sa.String(100), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('auditor', 'reviewer', 'senior_reviewer', 'admin')",
            name="ck_staff_users_staff_role",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
    )


def downgrade() -> None:
    op.drop_table("staff_users")
