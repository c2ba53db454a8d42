"""Notices keep the idempotency key of their decision, so a retried decision replays from the
notice itself instead of reading the outbox as state; filled from the notices' last
`notice.decided` event

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_key", sa.String(255), nullable=True))
    outbox = sa.table(
        "outbox",
        sa.column("id"),
        sa.column("topic"),
        sa.column("subject"),
        sa.column("payload", sa.JSON),
    )
    notices = sa.table("notices", sa.column("id"), sa.column("decision_key"))
    bind = op.get_bind()
    last: dict[int, str] = {}
    for subject, payload in bind.execute(
        sa.select(outbox.c.subject, outbox.c.payload)
        .where(outbox.c.topic == "notice.decided")
        .order_by(outbox.c.id)
    ).all():
        if isinstance(payload, dict) and isinstance(payload.get("key"), str):
            last[int(subject.split(":", 1)[1])] = payload["key"]
    for notice_id, key in last.items():
        bind.execute(notices.update().where(notices.c.id == notice_id).values(decision_key=key))


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("decision_key")
