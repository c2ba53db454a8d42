"""The money-path migration (0017) on a database that already holds orders, deposits and the
fund: down and up again, on both databases, with every row kept and the owners' records
reconciling afterwards.

SQLite rebuilds a table to change its constraints; with other tables' rows pointing at it the
rebuild failed (`FOREIGN KEY constraint failed` on `DROP TABLE orders`) until migrations ran
with foreign keys off, checked before the commit (`db._migrate`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests.integrity.world import MERCHANT, market, settled_order
from xinren import reconciliation
from xinren.clock import FakeClock
from xinren.db import downgrade, make_engine, session_factory, upgrade
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.remedies import service as remedies
from xinren.unit_of_work import run

TABLES = ("orders", "order_actions", "ledger_accounts", "ledger_entries", "remedies", "outbox")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES
        }


def test_0017_goes_down_and_up_again_over_existing_money(fresh_url):
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    engine = make_engine(fresh_url)
    db = session_factory(engine)

    def history(s):
        market(s, clock)
        order = settled_order(s, clock, "m1", 12_800)
        remedies.top_up_fund(s, clock, "fund-m", 80_000, "CNY")
        remedies.pay_buyer(
            s,
            clock,
            "refund-m1",
            order_id=order.id,
            refund=2_000,
            compensation_due=0,
            payer=MERCHANT,
            basis="partly not as described",
            origin="case:m1",
        )
        return order.id

    order_id = run(db, history)
    before = _counts(engine)
    downgrade(engine, "0016")
    with engine.connect() as conn:
        assert "owner" not in {c["name"] for c in _columns(conn, "ledger_accounts")}
    upgrade(engine)
    assert _counts(engine) == before

    def check(s):
        assert ledger.get_account(s, orders.escrow(order_id)).owner == "orders"
        assert ledger.get_account(s, f"{MERCHANT}:deposit").owner == "parties"
        assert reconciliation.problems(s) == []
        assert journal.verify(s).ok

    run(db, check)
    engine.dispose()


def _columns(conn, table):
    from sqlalchemy import inspect

    return inspect(conn).get_columns(table)
