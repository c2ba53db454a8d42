"""stored honest ratings: detection writes them, a GET only reads them

`honest_ratings` keeps each merchant's (listing_id NULL) and listing's rating as the last
rescore found it (xinren/detect/service.py). Until now a GET of a rating ran detection and
excluded reviews; from here on reading changes nothing, and the rescore timer
(`detect.rescore`) does the work. Every merchant that already has reviews gets one such timer,
due at once, so the first `xinren tick` after the upgrade scores them all; until it has, their
ratings read as "not scored yet" with their raw mean.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
import xinren.schema


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

RESCORE = "detect.rescore"  # xinren.catalog.reviews.RESCORE, as it stood at this revision


def upgrade() -> None:
    op.create_table(
        "honest_ratings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("merchant", sa.String(length=100), nullable=False),
        sa.Column(
            "listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("raw", sa.Float(), nullable=False),
        sa.Column("reviews", sa.BigInteger(), nullable=False),
        sa.Column("honest", sa.Float(), nullable=False),
        sa.Column("effective", sa.Float(), nullable=False),
        sa.Column("excluded_in_blocks", sa.BigInteger(), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column(
            "last_review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("detector", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("computed_at", xinren.schema.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("reviews > 0", name=op.f("ck_honest_ratings_reviews")),
        sa.CheckConstraint(
            "excluded_in_blocks BETWEEN 0 AND reviews",
            name=op.f("ck_honest_ratings_excluded_in_blocks"),
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_honest_ratings_listing_id_listings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_honest_ratings")),
        sa.UniqueConstraint("listing_id", name=op.f("uq_honest_ratings_listing_id")),
    )
    with op.batch_alter_table("honest_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_honest_ratings_merchant_listing", ["merchant", "listing_id"], unique=False
        )
        batch_op.create_index(
            "uq_honest_ratings_merchant",
            ["merchant"],
            unique=True,
            postgresql_where=sa.text("listing_id IS NULL"),
            sqlite_where=sa.text("listing_id IS NULL"),
        )

    # every merchant with reviews is rescored by the first tick after the upgrade
    now = datetime.now(UTC)
    merchants = op.get_bind().execute(sa.text("SELECT DISTINCT merchant FROM reviews")).scalars()
    timers = sa.table(
        "timers",
        sa.column("kind", sa.String()),
        sa.column("subject", sa.String()),
        sa.column("due_at", xinren.schema.UtcDateTime()),
        sa.column("status", sa.String()),
        sa.column("created_at", xinren.schema.UtcDateTime()),
    )
    rows = [
        dict(kind=RESCORE, subject=m, due_at=now, status="pending", created_at=now)
        for m in merchants
    ]
    if rows:
        op.bulk_insert(timers, rows)


def downgrade() -> None:
    # the older code has no handler for these timers: a runner would fail on each
    op.execute(
        sa.text("DELETE FROM timers WHERE kind = :kind AND status = 'pending'").bindparams(
            kind=RESCORE
        )
    )
    with op.batch_alter_table("honest_ratings", schema=None) as batch_op:
        batch_op.drop_index("uq_honest_ratings_merchant")
        batch_op.drop_index("ix_honest_ratings_merchant_listing")
    op.drop_table("honest_ratings")
