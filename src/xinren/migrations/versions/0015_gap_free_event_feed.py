"""a gap-free event feed: each outbox row records its transaction (PostgreSQL)

The feed (`GET /v1/events`) is ordered by (txid, id) and shows only rows of transactions older
than the reader's snapshot xmin, so an id that commits late is never skipped
(xinren/events/service.py says why).

PostgreSQL: ``txid`` is added NOT NULL with the constant default 0 (a catalogue change only, no
table rewrite): every existing row reads 0, so old events come first, in id order, and a
consumer's old cursor keeps its place. The default then becomes ``pg_current_xact_id()`` for new
rows. NOT NULL because a NULL txid would hide a row from the feed for ever. Building the
(txid, id) index holds writes to the outbox for as long as it takes (one pass over the table).

SQLite: ``txid`` stays NULL (writers are serialised, id order is commit order); the index is
kept so both schemas match.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TXID_DEFAULT = "pg_current_xact_id()::text::bigint"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "outbox",
            sa.Column("txid", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        )
        op.alter_column("outbox", "txid", server_default=sa.text(TXID_DEFAULT))
    else:
        with op.batch_alter_table("outbox", schema=None) as batch_op:
            batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_txid", ["txid", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_txid")
        batch_op.drop_column("txid")
