"""`xinren demo`: one guaranteed transaction (担保交易) told step by step through the ledger.

Each run uses a new order number, so the demo can run again on the same database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from xinren.clock import Clock, FakeClock, SystemClock
from xinren.db import session_factory, unit_of_work
from xinren.ledger import journal, model, service
from xinren.ledger.model import Meta
from xinren.money import Money

PRICE = 19_900
REFUND = 5_000
COMMISSION_BP = 500  # 5% platform commission, in basis points


def _balances(console: Console, engine: Engine, codes: list[str], title: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("account")
    table.add_column("posted (credits - debits)", justify="right")
    table.add_column("pending out", justify="right")
    table.add_column("pending in", justify="right")
    with unit_of_work(session_factory(engine)) as session:
        for code in codes:
            a = service.get_account(session, code)
            table.add_row(
                code,
                Money(a.balance.net, a.currency).format(),
                Money(a.balance.debits_pending, a.currency).format(),
                Money(a.balance.credits_pending, a.currency).format(),
            )
    console.print(table)


@dataclass(frozen=True, slots=True)
class _Demo:
    """The demo order and its accounts."""

    engine: Engine
    console: Console
    factory: sessionmaker[Session]
    clock: FakeClock
    order: int

    @property
    def psp(self) -> str:
        return "psp:alipay"

    @property
    def escrow(self) -> str:
        return f"escrow:demo:{self.order}"

    @property
    def settlement(self) -> str:
        return f"settlement:demo:{self.order}"

    merchant = "merchant:42:available"
    commission = "platform:commission"

    @property
    def codes(self) -> list[str]:
        return [self.psp, self.escrow, self.settlement, self.merchant, self.commission]

    def balances(self, title: str) -> None:
        _balances(self.console, self.engine, self.codes, title)


def run_demo(engine: Engine, console: Console) -> tuple[Clock, datetime]:
    """Run the demo day; return its clock and first moment, for the report the CLI writes after."""
    factory = session_factory(engine)
    clock = FakeClock(SystemClock().now())
    began = clock.now()
    with unit_of_work(factory) as session:
        order = 1001 + len(service.list_accounts(session, prefix="escrow:demo:", limit=1000))
    demo = _Demo(engine, console, factory, clock, order)
    console.rule(f"[bold]Xinren demo: guaranteed transaction for order {order}")
    _open_accounts(demo)
    hold_id = _pay_and_hold(demo)
    _partial_refund(demo, hold_id)
    _settle(demo)
    _the_other_stories(engine, console, clock)
    _seal_and_verify(demo)
    return clock, began


def _open_accounts(d: _Demo) -> None:
    with unit_of_work(d.factory) as session:
        service.create_account(session, d.clock, d.psp, "CNY")
        for code in (d.escrow, d.settlement, d.merchant, d.commission):
            service.create_account(
                session, d.clock, code, "CNY", debits_must_not_exceed_credits=True
            )
    d.console.print(
        "1. Accounts opened; escrow, settlement and merchant accounts may never go "
        "below zero (debits_must_not_exceed_credits)."
    )


def _pay_and_hold(d: _Demo) -> int:
    """The buyer pays into escrow; shipping holds the payment for settlement."""
    refs = {"order": str(d.order)}
    with unit_of_work(d.factory) as session:
        key = f"order-{d.order}-pay"
        service.move(session, d.clock, key, d.psp, d.escrow, PRICE, reason="payment", refs=refs)
    d.console.print(f"2. The buyer pays {Money(PRICE, 'CNY')} through Alipay into escrow.")

    with unit_of_work(d.factory) as session:
        held = service.hold(
            session,
            d.clock,
            f"order-{d.order}-hold",
            d.escrow,
            d.settlement,
            PRICE,
            expires_at=d.clock.now() + timedelta(days=10),
            expiry_action="post",
            reason="escrow",
            refs=refs,
        )
    assert held.hold_id is not None
    d.console.print(
        f"3. The merchant ships; hold {held.hold_id} reserves {Money(PRICE, 'CNY')} for "
        "settlement and posts itself in 10 days unless the buyer objects."
    )
    d.balances("balances while the payment is held")
    return held.hold_id


def _partial_refund(d: _Demo, hold_id: int) -> None:
    """The buyer objects (the hold pauses); the agreed refund and the release go in one batch."""
    order, clock = d.order, d.clock
    clock.advance(days=3)
    with unit_of_work(d.factory) as session:
        service.pause(session, clock, f"order-{order}-pause", hold_id)
    d.console.print(
        "4. Day 3: the buyer reports a scratched case and asks for a partial refund; "
        "the hold's countdown is paused while the request is open."
    )

    clock.advance(days=1)
    with unit_of_work(d.factory) as session:
        ops: list[model.Operation] = [
            model.PostOp(Meta(f"order-{order}-post", "release"), hold_id, PRICE - REFUND),
            model.TransferOp(
                Meta(f"order-{order}-refund", "partial_refund", {"order": str(order)}),
                (
                    model.Leg(d.escrow, model.Side.DEBIT, REFUND),
                    model.Leg(d.psp, model.Side.CREDIT, REFUND),
                ),
            ),
        ]
        outcomes = service.submit(session, clock, ops, atomic=True)
        for outcome in outcomes:
            if not isinstance(outcome, service.Result):
                raise outcome
    d.console.print(
        f"5. Day 4: the merchant agrees to refund {Money(REFUND, 'CNY')}. In one "
        f"all-or-nothing batch the hold is posted for {Money(PRICE - REFUND, 'CNY')} "
        f"(the other {Money(REFUND, 'CNY')} is released) and refunded to the buyer."
    )


def _settle(d: _Demo) -> None:
    released = PRICE - REFUND
    fee = released * COMMISSION_BP // 10_000
    with unit_of_work(d.factory) as session:
        service.transfer(
            session,
            d.clock,
            f"order-{d.order}-settle",
            [
                (d.settlement, "debit", released),
                (d.merchant, "credit", released - fee),
                (d.commission, "credit", fee),
            ],
            reason="settlement",
            refs={"order": str(d.order)},
        )
    d.console.print(
        f"6. Settlement in one transfer: {Money(released - fee, 'CNY')} to the "
        f"merchant, {Money(fee, 'CNY')} platform commission (5%)."
    )
    d.balances("balances after settlement")


def _the_other_stories(engine: Engine, console: Console, clock: FakeClock) -> None:
    """Orders, accountability, enforcement, remedies and detection, on the same clock."""
    from xinren.demo.accountability import run_accountability
    from xinren.demo.detect import run_detect
    from xinren.demo.enforcement import run_enforcement
    from xinren.demo.orders import run_orders
    from xinren.demo.remedies import run_remedies

    run_orders(engine, console, clock)
    run_accountability(engine, console, clock)
    run_enforcement(engine, console, clock)
    run_remedies(engine, console, clock)
    run_detect(engine, console, clock)


def _seal_and_verify(d: _Demo) -> None:
    from xinren import reconciliation

    with unit_of_work(d.factory) as session:
        sealed = journal.seal(session, d.clock)
    with unit_of_work(d.factory) as session:
        report = journal.verify(session)
        report.problems.extend(reconciliation.problems(session))
    d.console.print(
        f"7. {sealed} journal entries sealed into the hash chain; verification: "
        f"{report.accounts} accounts, {report.entries} entries, {report.blocks} blocks."
    )
    if not report.ok:
        raise RuntimeError(f"ledger verification failed: {report.problems[0]}")
    d.console.print(
        "[green]Ledger verified[/green]: every balance rebuilt from the journal, "
        "debits equal credits, chain intact, and every escrow, deposit and the guarantee fund "
        "agree with their owners' records."
    )
