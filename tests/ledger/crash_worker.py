"""A worker for the crash test: ``python tests/ledger/crash_worker.py URL WORKER_ID N``.

It applies its deterministic plan (`plan`) in order, one transaction per move, always from the
start: after a SIGKILL the test restarts it, and the moves it had already committed come back as
replays. It prints ``started`` once connected, ``fresh from KEY`` at its first move that was not
committed before (the test prefers to kill such workers) and a summary line; it exits 0 when the
whole plan is applied.

The plan never needs a refusal: a worker only debits its own two accounts, which nobody else
touches, so their balances follow the plan whatever the other workers do; the shared pool
accounts are only credited (by every worker, so workers contend on them).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

CURRENCY = "CNY"
SOURCE = "crash:source"
POOLS = 4
MAX_CONFLICT_RETRIES = 200


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    debit: str
    credit: str
    amount: int


def wallet(worker: int) -> str:
    return f"crash:w{worker}:a"


def savings(worker: int) -> str:
    return f"crash:w{worker}:b"


def pool(k: int) -> str:
    return f"crash:pool:{k}"


def account_codes(workers: int) -> list[str]:
    """Every limited account the plans use (the source, unlimited, funds the wallets)."""
    own = [code for w in range(workers) for code in (wallet(w), savings(w))]
    return own + [pool(k) for k in range(POOLS)]


def plan(worker: int, n: int) -> list[Step]:
    """The moves of one worker: wallet -> pool, wallet -> savings, savings -> wallet."""
    steps = []
    saved = 0  # the savings account's balance, which only this worker changes
    for i in range(n):
        amount = 1 + (i * 7919 + worker * 104_729) % 97
        key = f"w{worker}-{i}"
        if i % 4 == 2:
            steps.append(Step(key, wallet(worker), savings(worker), amount))
            saved += amount
        elif i % 4 == 3:
            back = min(amount, saved)  # > 0: step i - 1 saved at least 1
            steps.append(Step(key, savings(worker), wallet(worker), back))
            saved -= back
        else:
            steps.append(Step(key, wallet(worker), pool((i + worker) % POOLS), amount))
    return steps


def funding(worker: int, n: int) -> int:
    """The least the wallet must start with so that no step of the plan is refused."""
    balance = need = 0
    for step in plan(worker, n):
        if step.debit == wallet(worker):
            balance -= step.amount
        elif step.credit == wallet(worker):
            balance += step.amount
        need = max(need, -balance)
    return need


def main(argv: list[str]) -> int:
    from xinren.clock import SystemClock
    from xinren.db import make_engine, session_factory, unit_of_work
    from xinren.errors import ConcurrentRequest
    from xinren.ledger import service

    url, worker, n = argv[1], int(argv[2]), int(argv[3])
    engine = make_engine(url, pool_size=1, max_overflow=0)
    factory = session_factory(engine)
    clock = SystemClock()
    with engine.connect():
        pass
    print(f"worker {worker} started", flush=True)  # the test kills only started workers
    fresh = replayed = conflicts = 0
    for step in plan(worker, n):
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                with unit_of_work(factory) as session:
                    result = service.move(
                        session, clock, step.key, step.debit, step.credit, step.amount
                    )
                break
            except ConcurrentRequest:
                conflicts += 1  # the key is held by a transaction that has not finished yet
                time.sleep(0.01)
        else:
            print(f"worker {worker}: {step.key} stayed in conflict", file=sys.stderr)
            return 3
        if result.replayed:
            replayed += 1
        else:
            if not fresh:  # the test prefers to kill workers doing new work
                print(f"worker {worker} fresh from {step.key}", flush=True)
            fresh += 1
    engine.dispose()
    print(f"worker {worker} done: {fresh} fresh, {replayed} replayed, {conflicts} conflicts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
