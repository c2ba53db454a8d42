"""The second half of `xinren demo`: five guaranteed transactions through the order service."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from xinren.clock import FakeClock
from xinren.db import session_factory, unit_of_work
from xinren.demo import samples
from xinren.money import Money
from xinren.orders import service as orders
from xinren.orders.model import Action, RefundKind
from xinren.parties import deposits
from xinren.timers import service as timers


def fmt(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def run_orders(engine: Engine, console: Console, clock: FakeClock) -> list[int]:
    factory = session_factory(engine)
    run = secrets.token_hex(4)
    made: list[int] = []

    def order(
        name: str,
        total: int,
        category: str = "default",
        host: str | None = None,
        host_rate_bp: int = 0,
    ) -> int:
        with unit_of_work(factory) as s:
            view = orders.create_order(
                s,
                clock,
                f"demo-{run}-{name}",
                buyer="buyer:7",
                merchant="merchant:42",
                total=total,
                currency="CNY",
                category=category,
                host=host,
                host_rate_bp=host_rate_bp,
            )
        made.append(view.id)
        return view.id

    def do(
        order_id: int,
        action: Action,
        who: str,
        amount: int | None = None,
        kind: RefundKind | None = None,
    ) -> None:
        with unit_of_work(factory) as s:
            orders.act(
                s,
                clock,
                order_id,
                action,
                f"demo-{run}-{order_id}-{action.value}",
                actor=who,
                amount=amount,
                kind=kind,
            )

    def tick(days: float) -> int:
        clock.advance(days=days)
        return timers.run_due(factory, clock)

    step: Callable[[str], None] = lambda text: console.print(f"  {text}")  # noqa: E731
    console.rule("[bold]Orders: guaranteed transactions (担保交易)")
    with unit_of_work(factory) as s:
        samples.verified(s, clock, "merchant:42")
        samples.verified(s, clock, "host:9")
        deposits.pay_deposit(s, clock, f"demo-{run}-deposit", "merchant:42", 500_000, "CNY")
    step("merchant:42 pays its ¥5,000.00 deposit (保证金): food needs ¥5,000, others ¥1,000.")

    a = order("normal", 29_900, host="host:9", host_rate_bp=1_000)
    for action, who in (
        (Action.PAY, "platform"),
        (Action.SHIP, "merchant:42"),
        (Action.CONFIRM, "buyer:7"),
    ):
        do(a, action, who)
    step(
        f"A. order {a}: paid ¥299.00, shipped, buyer confirmed receipt: settled to the "
        "merchant, the platform (5%) and the host (10%) in one transfer."
    )

    b = order("auto", 9_900)
    do(b, Action.PAY, "platform")
    do(b, Action.SHIP, "merchant:42")
    ran = tick(10)
    step(
        f"B. order {b}: shipped by express, the buyer said nothing; 10 days later the timer "
        f"confirmed receipt automatically ({ran} timer(s) ran)."
    )

    c = order("refund", 19_900, category="food")
    do(c, Action.PAY, "platform")
    do(c, Action.SHIP, "merchant:42")
    clock.advance(days=3)
    do(c, Action.REQUEST_REFUND, "buyer:7", amount=5_000)
    step(
        f"C. order {c}: day 3, the buyer asked for ¥50.00 back (tea leaves crushed): the "
        "countdown paused."
    )
    clock.advance(days=1)
    do(c, Action.APPROVE_REFUND, "merchant:42")
    tick(7)
    step(
        "   the merchant agreed next day; ¥50.00 went back, the countdown resumed with its 7 "
        "days left and then confirmed receipt; ¥149.00 settled (3% food commission)."
    )

    d = order("return", 59_900)
    for action, who in (
        (Action.PAY, "platform"),
        (Action.SHIP, "merchant:42"),
        (Action.DELIVER, "platform"),
    ):
        do(d, action, who)
    do(d, Action.REQUEST_REFUND, "buyer:7", kind="return_and_refund")
    do(d, Action.APPROVE_REFUND, "merchant:42")
    do(d, Action.SHIP_RETURN, "buyer:7")
    do(d, Action.RECEIVE_RETURN, "merchant:42")
    step(f"D. order {d}: the phone did not match its description; returned and refunded in full.")

    e = order("dispute", 39_900)
    do(e, Action.PAY, "platform")
    do(e, Action.SHIP, "merchant:42")
    do(e, Action.OPEN_DISPUTE, "buyer:7")
    frozen = tick(30)
    step(
        f"E. order {e}: the buyer disputed; escrow stays frozen ({frozen} timers ran in 30 "
        "days: none for this order) until a reviewer decides."
    )
    do(e, Action.DECIDE_DISPUTE, "reviewer", amount=20_000)
    tick(10)
    step("   the reviewer awarded ¥200.00 to the buyer; the rest settled after the countdown.")

    table = Table(title="orders", title_justify="left")
    for col in ("order", "status", "paid", "refunded", "released", "held in escrow"):
        table.add_column(col, justify="right" if col != "status" else "left")
    with unit_of_work(factory) as s:
        for order_id in made:
            v = orders.get_order(s, order_id)
            st = v.state

            table.add_row(
                str(order_id),
                st.status.value,
                fmt(st.paid, v.currency),
                fmt(st.refunded, v.currency),
                fmt(st.released, v.currency),
                fmt(st.held, v.currency),
            )
    console.print(table)
    return made
