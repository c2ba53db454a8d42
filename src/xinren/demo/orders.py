"""The second half of `xinren demo`: five guaranteed transactions through the order service."""

from __future__ import annotations

import secrets

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


class _Shop:
    """merchant:42's orders in this run: open one, act on it, let time pass, say what happened."""

    def __init__(self, engine: Engine, console: Console, clock: FakeClock) -> None:
        self.factory = session_factory(engine)
        self.console, self.clock = console, clock
        self.run = secrets.token_hex(4)
        self.made: list[int] = []

    def order(
        self,
        name: str,
        total: int,
        category: str = "default",
        host: str | None = None,
        host_rate_bp: int = 0,
    ) -> int:
        with unit_of_work(self.factory) as s:
            view = orders.create_order(
                s,
                self.clock,
                f"demo-{self.run}-{name}",
                buyer="buyer:7",
                merchant="merchant:42",
                total=total,
                currency="CNY",
                category=category,
                host=host,
                host_rate_bp=host_rate_bp,
            )
        self.made.append(view.id)
        return view.id

    def do(
        self,
        order_id: int,
        action: Action,
        who: str,
        amount: int | None = None,
        kind: RefundKind | None = None,
    ) -> None:
        with unit_of_work(self.factory) as s:
            orders.act(
                s,
                self.clock,
                order_id,
                action,
                f"demo-{self.run}-{order_id}-{action.value}",
                actor=who,
                amount=amount,
                kind=kind,
            )

    def tick(self, days: float) -> int:
        self.clock.advance(days=days)
        return timers.run_due(self.factory, self.clock)

    def step(self, text: str) -> None:
        self.console.print(f"  {text}")


def run_orders(engine: Engine, console: Console, clock: FakeClock) -> list[int]:
    shop = _Shop(engine, console, clock)
    console.rule("[bold]Orders: guaranteed transactions (担保交易)")
    with unit_of_work(shop.factory) as s:
        samples.verified(s, clock, "merchant:42")
        samples.verified(s, clock, "host:9")
        deposits.pay_deposit(s, clock, f"demo-{shop.run}-deposit", "merchant:42", 500_000, "CNY")
    shop.step("merchant:42 pays its ¥5,000.00 deposit (保证金): food needs ¥5,000, others ¥1,000.")
    _settled(shop)
    _refunded(shop)
    _disputed(shop)
    _table(shop)
    return shop.made


def _settled(shop: _Shop) -> None:
    """A: confirmed by the buyer; B: confirmed by the timer when the buyer says nothing."""
    a = shop.order("normal", 29_900, host="host:9", host_rate_bp=1_000)
    for action, who in (
        (Action.PAY, "platform"),
        (Action.SHIP, "merchant:42"),
        (Action.CONFIRM, "buyer:7"),
    ):
        shop.do(a, action, who)
    shop.step(
        f"A. order {a}: paid ¥299.00, shipped, buyer confirmed receipt: settled to the "
        "merchant, the platform (5%) and the host (10%) in one transfer."
    )

    b = shop.order("auto", 9_900)
    shop.do(b, Action.PAY, "platform")
    shop.do(b, Action.SHIP, "merchant:42")
    ran = shop.tick(10)
    shop.step(
        f"B. order {b}: shipped by express, the buyer said nothing; 10 days later the timer "
        f"confirmed receipt automatically ({ran} timer(s) ran)."
    )


def _refunded(shop: _Shop) -> None:
    """C: a partial refund pauses the countdown; D: a return refunded in full."""
    c = shop.order("refund", 19_900, category="food")
    shop.do(c, Action.PAY, "platform")
    shop.do(c, Action.SHIP, "merchant:42")
    shop.clock.advance(days=3)
    shop.do(c, Action.REQUEST_REFUND, "buyer:7", amount=5_000)
    shop.step(
        f"C. order {c}: day 3, the buyer asked for ¥50.00 back (tea leaves crushed): the "
        "countdown paused."
    )
    shop.clock.advance(days=1)
    shop.do(c, Action.APPROVE_REFUND, "merchant:42")
    shop.tick(7)
    shop.step(
        "   the merchant agreed next day; ¥50.00 went back, the countdown resumed with its 7 "
        "days left and then confirmed receipt; ¥149.00 settled (3% food commission)."
    )

    d = shop.order("return", 59_900)
    for action, who in (
        (Action.PAY, "platform"),
        (Action.SHIP, "merchant:42"),
        (Action.DELIVER, "platform"),
    ):
        shop.do(d, action, who)
    shop.do(d, Action.REQUEST_REFUND, "buyer:7", kind="return_and_refund")
    shop.do(d, Action.APPROVE_REFUND, "merchant:42")
    shop.do(d, Action.SHIP_RETURN, "buyer:7")
    shop.do(d, Action.RECEIVE_RETURN, "merchant:42")
    shop.step(
        f"D. order {d}: the phone did not match its description; returned and refunded in full."
    )


def _disputed(shop: _Shop) -> None:
    """E: a dispute freezes escrow until a reviewer decides."""
    e = shop.order("dispute", 39_900)
    shop.do(e, Action.PAY, "platform")
    shop.do(e, Action.SHIP, "merchant:42")
    shop.do(e, Action.OPEN_DISPUTE, "buyer:7")
    frozen = shop.tick(30)
    shop.step(
        f"E. order {e}: the buyer disputed; escrow stays frozen ({frozen} timers ran in 30 "
        "days: none for this order) until a reviewer decides."
    )
    shop.do(e, Action.DECIDE_DISPUTE, "reviewer", amount=20_000)
    shop.tick(10)
    shop.step("   the reviewer awarded ¥200.00 to the buyer; the rest settled after the countdown.")


def _table(shop: _Shop) -> None:
    table = Table(title="orders", title_justify="left")
    for col in ("order", "status", "paid", "refunded", "released", "held in escrow"):
        table.add_column(col, justify="right" if col != "status" else "left")
    with unit_of_work(shop.factory) as s:
        for order_id in shop.made:
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
    shop.console.print(table)
