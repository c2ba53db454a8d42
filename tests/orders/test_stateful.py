"""Random sequences of order actions, timers and retries through the real services; after every
step the money identity holds for every order and the ledger verifies."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.errors import XinrenError
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action, IllegalTransition
from xinren.parties import deposits
from xinren.timers import service as timers

ORDERS = 3


class OrdersMachine(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.conn = engine.connect()
        self.outer = self.conn.begin()
        self.factory = sessionmaker(
            bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        self.session = self.factory()
        self.clock = FakeClock()
        self.ids: list[int] = []
        self.n = 0
        self.done: dict[str, tuple[int, Action]] = {}

    def teardown(self) -> None:
        self.session.close()
        self.outer.rollback()
        self.conn.close()

    @initialize()
    def create(self) -> None:
        samples.verified(self.session, self.clock, "merchant:1")
        samples.verified(self.session, self.clock, "host:1")
        deposits.pay_deposit(self.session, self.clock, "dep", "merchant:1", 500_000, "CNY")
        for i in range(ORDERS):
            view = orders.create_order(
                self.session,
                self.clock,
                f"order-{i}",
                buyer="buyer:1",
                merchant="merchant:1",
                total=10_000 + i,
                currency="CNY",
                category="food" if i else "default",
                host="host:1" if i == 2 else None,
                host_rate_bp=700 if i == 2 else 0,
            )
            self.ids.append(view.id)
        self.session.commit()

    @rule(
        which=st.integers(0, ORDERS - 1),
        action=st.sampled_from(list(Action)),
        amount=st.none() | st.integers(-1, 11_000),
        kind=st.none() | st.sampled_from(["refund_only", "return_and_refund"]),
    )
    def act(self, which: int, action: Action, amount: int | None, kind: str | None) -> None:
        order_id = self.ids[which]
        before = orders.get_order(self.session, order_id)
        self.n += 1
        key = f"k{self.n}"
        try:
            orders.act(
                self.session,
                self.clock,
                order_id,
                action,
                key,
                actor="test",
                amount=amount,
                kind=kind,
            )  # type: ignore[arg-type]
        except IllegalTransition:
            assert action.value not in before.allowed
            self.session.rollback()
            assert orders.get_order(self.session, order_id).state == before.state
            return
        except XinrenError:
            self.session.rollback()
            assert orders.get_order(self.session, order_id).state == before.state
            return
        self.session.commit()
        self.done[key] = (order_id, action)

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        if not self.done:
            return
        key = data.draw(st.sampled_from(sorted(self.done)))
        order_id, action = self.done[key]
        before = orders.get_order(self.session, order_id)
        try:
            again = orders.act(self.session, self.clock, order_id, action, key, actor="test")
        except XinrenError:  # a different payload (amount/kind) than the first time
            self.session.rollback()
        else:
            assert again.replayed
            self.session.commit()
        assert orders.get_order(self.session, order_id).state == before.state

    @rule(hours=st.integers(1, 24 * 12))
    def time_passes(self, hours: int) -> None:
        self.session.commit()  # end this session's savepoint before the runner's own sessions
        self.clock.advance(hours=hours)
        timers.run_due(self.factory, self.clock)

    @invariant()
    def money_identity(self) -> None:
        for order_id in self.ids:
            view = orders.get_order(self.session, order_id)
            s = view.state
            assert s.paid == s.released + s.refunded + s.held
            escrow = ledger.get_account(self.session, orders.escrow(order_id)).balance
            assert escrow.net == s.held
            assert s.paid in (0, s.total)
        self.session.commit()

    @invariant()
    def ledger_verifies(self) -> None:
        if self.n % 5 == 0:
            report = journal.verify(self.session)
            assert report.ok, report.problems
        self.session.commit()


@pytest.mark.slow
def test_orders_keep_the_money_identity(engine: Engine) -> None:
    run_state_machine_as_test(
        lambda: OrdersMachine(engine),
        settings=settings(
            max_examples=15 if engine.dialect.name == "postgresql" else 25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
