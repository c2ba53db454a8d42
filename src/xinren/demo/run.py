"""`xinren demo`: one guaranteed transaction (担保交易) told step by step through the ledger.

Each run uses a new order number, so the demo can run again on the same database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

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


def run_demo(engine: Engine, console: Console) -> tuple[Clock, datetime]:
    """Run the demo day; return its clock and first moment, for the report the CLI writes after."""
    factory = session_factory(engine)
    clock = FakeClock(SystemClock().now())
    began = clock.now()
    with unit_of_work(factory) as session:
        order = 1001 + len(service.list_accounts(session, prefix="escrow:demo:", limit=1000))
    psp, escrow = "psp:alipay", f"escrow:demo:{order}"
    settlement, merchant, commission = (
        f"settlement:demo:{order}",
        "merchant:42:available",
        "platform:commission",
    )
    codes = [psp, escrow, settlement, merchant, commission]
    console.rule(f"[bold]Xinren demo: guaranteed transaction for order {order}")

    with unit_of_work(factory) as session:
        service.create_account(session, clock, psp, "CNY")
        for code in (escrow, settlement, merchant, commission):
            service.create_account(session, clock, code, "CNY", debits_must_not_exceed_credits=True)
    console.print(
        "1. Accounts opened; escrow, settlement and merchant accounts may never go "
        "below zero (debits_must_not_exceed_credits)."
    )

    with unit_of_work(factory) as session:
        service.move(
            session,
            clock,
            f"order-{order}-pay",
            psp,
            escrow,
            PRICE,
            reason="payment",
            refs={"order": str(order)},
        )
    console.print(f"2. The buyer pays {Money(PRICE, 'CNY')} through Alipay into escrow.")

    with unit_of_work(factory) as session:
        held = service.hold(
            session,
            clock,
            f"order-{order}-hold",
            escrow,
            settlement,
            PRICE,
            expires_at=clock.now() + timedelta(days=10),
            expiry_action="post",
            reason="escrow",
            refs={"order": str(order)},
        )
    assert held.hold_id is not None
    console.print(
        f"3. The merchant ships; hold {held.hold_id} reserves {Money(PRICE, 'CNY')} for "
        "settlement and posts itself in 10 days unless the buyer objects."
    )
    _balances(console, engine, codes, "balances while the payment is held")

    clock.advance(days=3)
    with unit_of_work(factory) as session:
        service.pause(session, clock, f"order-{order}-pause", held.hold_id)
    console.print(
        "4. Day 3: the buyer reports a scratched case and asks for a partial refund; "
        "the hold's countdown is paused while the request is open."
    )

    clock.advance(days=1)
    with unit_of_work(factory) as session:
        ops: list[model.Operation] = [
            model.PostOp(Meta(f"order-{order}-post", "release"), held.hold_id, PRICE - REFUND),
            model.TransferOp(
                Meta(f"order-{order}-refund", "partial_refund", {"order": str(order)}),
                (
                    model.Leg(escrow, model.Side.DEBIT, REFUND),
                    model.Leg(psp, model.Side.CREDIT, REFUND),
                ),
            ),
        ]
        outcomes = service.submit(session, clock, ops, atomic=True)
        for outcome in outcomes:
            if not isinstance(outcome, service.Result):
                raise outcome
    console.print(
        f"5. Day 4: the merchant agrees to refund {Money(REFUND, 'CNY')}. In one "
        f"all-or-nothing batch the hold is posted for {Money(PRICE - REFUND, 'CNY')} "
        f"(the other {Money(REFUND, 'CNY')} is released) and refunded to the buyer."
    )

    released = PRICE - REFUND
    fee = released * COMMISSION_BP // 10_000
    with unit_of_work(factory) as session:
        service.transfer(
            session,
            clock,
            f"order-{order}-settle",
            [
                (settlement, "debit", released),
                (merchant, "credit", released - fee),
                (commission, "credit", fee),
            ],
            reason="settlement",
            refs={"order": str(order)},
        )
    console.print(
        f"6. Settlement in one transfer: {Money(released - fee, 'CNY')} to the "
        f"merchant, {Money(fee, 'CNY')} platform commission (5%)."
    )
    _balances(console, engine, codes, "balances after settlement")

    from xinren.demo.orders import run_orders

    run_orders(engine, console, clock)

    from xinren.demo.accountability import run_accountability

    run_accountability(engine, console, clock)

    from xinren.demo.enforcement import run_enforcement

    run_enforcement(engine, console, clock)

    from xinren.demo.remedies import run_remedies

    run_remedies(engine, console, clock)

    from xinren import reconciliation
    from xinren.demo.detect import run_detect

    run_detect(engine, console, clock)

    with unit_of_work(factory) as session:
        sealed = journal.seal(session, clock)
    with unit_of_work(factory) as session:
        report = journal.verify(session)
        report.problems.extend(reconciliation.problems(session))
    console.print(
        f"7. {sealed} journal entries sealed into the hash chain; verification: "
        f"{report.accounts} accounts, {report.entries} entries, {report.blocks} blocks."
    )
    if not report.ok:
        raise RuntimeError(f"ledger verification failed: {report.problems[0]}")
    console.print(
        "[green]Ledger verified[/green]: every balance rebuilt from the journal, "
        "debits equal credits, chain intact, and every escrow, deposit and the guarantee fund "
        "agree with their owners' records."
    )

    return clock, began
