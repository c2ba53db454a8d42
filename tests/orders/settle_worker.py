"""Run by test_settlement_crash: take orders N..M through pay, ship and confirm with fixed keys,
from the start every time it is (re)started; a repeat of a done step is a harmless replay."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from xinren.clock import SystemClock
    from xinren.db import make_engine, session_factory, unit_of_work
    from xinren.orders import service as orders
    from xinren.orders.model import Action

    url, first, count = argv[1], int(argv[2]), int(argv[3])
    engine = make_engine(url, pool_size=1, max_overflow=0)
    factory = session_factory(engine)
    clock = SystemClock()
    print("started", flush=True)
    for i in range(first, first + count):
        with unit_of_work(factory) as s:
            view = orders.create_order(
                s,
                clock,
                f"crash-{i}",
                buyer="buyer:1",
                merchant="merchant:1",
                total=1_000 + i,
                currency="CNY",
                category="default",
                host="host:1",
                host_rate_bp=1_000,
            )
        for action in (Action.PAY, Action.SHIP, Action.CONFIRM):
            with unit_of_work(factory) as s:
                orders.act(s, clock, view.id, action, f"crash-{i}-{action.value}", actor="w")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
