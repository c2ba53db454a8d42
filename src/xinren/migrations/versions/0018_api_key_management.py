"""API key management: keys record when their secret was last rotated; subjects the command
line doubled (`--role merchant --party merchant:acme` stored 'merchant:merchant:acme') are
repaired to the party's ref

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

from xinren.schema import UtcDateTime


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rotated_at", UtcDateTime(timezone=True), nullable=True))
    keys = sa.table("api_keys", sa.column("id"), sa.column("role"), sa.column("subject"))
    bind = op.get_bind()
    for key_id, role, subject in bind.execute(
        sa.select(keys.c.id, keys.c.role, keys.c.subject).where(keys.c.subject.is_not(None))
    ).all():
        repaired = subject
        while repaired.startswith(f"{role}:{role}:"):
            repaired = repaired[len(role) + 1 :]
        if repaired != subject:
            bind.execute(keys.update().where(keys.c.id == key_id).values(subject=repaired))


def downgrade() -> None:
    # The repaired subjects stay repaired: the doubled form matched no party.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("rotated_at")
