"""money-path integrity: ledger accounts know their owning context; idempotency keys are
stored scoped to their caller (up to 250 characters); deposits and the guarantee fund keep a
record of every movement (opened with the balance they hold now); a listing may track its
stock, and an order records its listing's unit price, any discount with its reason, and the
fingerprint of its create request

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import re
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from xinren.schema import UtcDateTime


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The account codes each context owned when this migration was written (later reservations
# are declared in code, by `ledger.service.reserve`, and apply to accounts opened after them).
OWNED = (
    ("orders", r"escrow:order:\d+"),
    ("orders", r".+:pending_settlement"),
    ("parties", r".+:deposit"),
    ("remedies", r"platform:guarantee_fund:[a-z]{3}"),
    ("rules", r".+:frozen"),
)

KEYED = (
    "reviews",
    "review_appeals",
    "cases",
    "remedies",
    "recovery_claims",
    "party_status_changes",
    "orders",
    "order_actions",
    "idempotent_requests",
    "ledger_transfers",
    "violations",
    "appeals",
    "notices",
    "recalls",
)


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    accounts = sa.table("ledger_accounts", sa.column("id"), sa.column("code"), sa.column("owner"))
    for account_id, code in bind.execute(sa.select(accounts.c.id, accounts.c.code)).all():
        owner = next((o for o, pattern in OWNED if re.fullmatch(pattern, code)), None)
        if owner is not None:
            bind.execute(accounts.update().where(accounts.c.id == account_id).values(owner=owner))
    _movement_tables()
    _opening_movements(bind)
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stock", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_listings_stock_not_negative"), "stock IS NULL OR stock >= 0"
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_price", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("discount", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("discount_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.create_check_constraint(op.f("ck_orders_discount_not_negative"), "discount >= 0")
    if bind.dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        for table in KEYED:
            op.alter_column(
                table, "idempotency_key", type_=sa.String(length=255), existing_nullable=False
            )


def _movement_tables() -> None:
    for table, who in (("deposit_movements", "merchant"), ("fund_movements", None)):
        columns = [
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                autoincrement=True,
                nullable=False,
            )
        ]
        if who:
            columns.append(sa.Column(who, sa.String(length=100), nullable=False))
        columns += [
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("ref", sa.String(length=100), nullable=False),
            sa.Column("ledger_key", sa.String(length=255), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ]
        op.create_table(
            table,
            *columns,
            sa.CheckConstraint("amount <> 0", name=op.f(f"ck_{table}_amount_not_zero")),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("ledger_key", name=op.f(f"uq_{table}_ledger_key")),
        )
    op.create_index("ix_deposit_movements_merchant", "deposit_movements", ["merchant", "id"])
    op.create_index("ix_fund_movements_currency", "fund_movements", ["currency", "id"])


def _opening_movements(bind: sa.Connection) -> None:
    """What deposits and the fund hold now opens their records, so they reconcile at once."""
    accounts = sa.table(
        "ledger_accounts",
        sa.column("code"),
        sa.column("currency"),
        sa.column("owner"),
        sa.column("debits_posted"),
        sa.column("credits_posted"),
    )
    now = datetime.now(UTC)
    rows = bind.execute(
        sa.select(accounts).where(accounts.c.owner.in_(["parties", "remedies"]))
    ).all()
    for r in rows:
        net = int(r.credits_posted) - int(r.debits_posted)
        if net == 0:
            continue
        values = dict(
            currency=r.currency,
            amount=net,
            kind="opening",
            ref="migration 0017",
            ledger_key=f"opening:{r.code}",
            created_at=now,
        )
        names = [c for c in values if c != "created_at"]
        if r.owner == "parties":
            names.append("merchant")
            values["merchant"] = r.code.removesuffix(":deposit")
        table = sa.table(
            "deposit_movements" if r.owner == "parties" else "fund_movements",
            *(sa.column(c) for c in names),
            sa.column("created_at", UtcDateTime()),
        )
        bind.execute(table.insert().values(**values))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in KEYED:
            length = 160 if table in ("remedies", "recovery_claims") else 128
            op.alter_column(
                table, "idempotency_key", type_=sa.String(length=length), existing_nullable=False
            )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_discount_not_negative"), type_="check")
        for column in ("request_hash", "discount_reason", "discount", "unit_price"):
            batch_op.drop_column(column)
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_listings_stock_not_negative"), type_="check")
        batch_op.drop_column("stock")
    op.drop_index("ix_fund_movements_currency", table_name="fund_movements")
    op.drop_index("ix_deposit_movements_merchant", table_name="deposit_movements")
    op.drop_table("fund_movements")
    op.drop_table("deposit_movements")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_column("owner")
