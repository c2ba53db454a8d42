"""A stateful test of the ledger against an independent in-memory model.

Hypothesis drives random sequences of transfers, holds, posts (full and partial), voids,
extensions, pauses, resumes, clock advances with timer runs, and retries of earlier keys (with the
same and with a different payload, and of refused operations). The oracle below is written from
the rules as documented, with plain dicts and no code from `xinren.ledger.model`: every operation
must be accepted or refused exactly when the oracle says so, and after every step the database
must agree with the oracle (balances, holds, timers) and hold the ledger's invariants (balances sum
to zero, no limit broken, no hold resolved twice, refusals and replays leave nothing behind).

Each example runs in its own outer transaction on the session's database and is rolled back at
the end, so examples never see each other's data; every call and timer run commits a savepoint.

When it fails, Hypothesis prints the shortest sequence of steps it found (shrinking can take a
few minutes: every attempt replays its steps against the database) and saves it under
`.hypothesis/`, so the next run tries it first.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

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
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from xinren.clock import FakeClock
from xinren.errors import (
    Conflict,
    HoldNotPending,
    IdempotencyKeyReused,
    LimitExceeded,
    NotFound,
    Unbalanced,
    ValidationFailed,
    XinrenError,
)
from xinren.ledger import journal, service
from xinren.ledger.tables import holds as holds_table
from xinren.ledger.tables import transfers as transfers_table
from xinren.timers import service as timers
from xinren.timers.tables import timers as timers_table

CURRENCY = "CNY"
# code -> (debits_must_not_exceed_credits, credits_must_not_exceed_debits)
ACCOUNTS: dict[str, tuple[bool, bool]] = {
    "world": (False, False),  # the unlimited source (and sink) of money
    "alice": (True, False),
    "bob": (True, False),
    "carol": (True, False),
    "bank": (False, True),  # an asset-like account: it cannot be credited beyond its debits
}
VERIFY_EVERY = 4  # steps between full journal verifications
# What a step does, and how often (relative weights).
WEIGHTS = {"transfer": 2, "hold": 2, "post": 1, "void": 1, "extend": 1, "pause": 2, "resume": 2}
WEIGHTS |= {"advance": 3, "retry": 2, "malformed": 1}
STEPS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
HOLD_CHANGES = {"post", "void", "extend", "pause", "resume"}
TOTALS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")

codes = st.sampled_from(sorted(ACCOUNTS))
amounts = st.integers(min_value=1, max_value=120)
# Times move in quarters of an hour, so that expiries often fall exactly on "now".
quarters = st.integers(min_value=1, max_value=12).map(lambda k: 15 * k)
two_codes = st.permutations(sorted(ACCOUNTS)).map(lambda p: (p[0], p[1]))

# An operation is a plain tuple; equal tuples are equal payloads:
#   ("transfer", ((code, side, amount), ...))
#   ("hold", debit, credit, amount, expires_at | None, "post" | "void" | None)
#   ("post", hold_id, amount | None)   ("void", hold_id)   ("extend", hold_id, expires_at)
#   ("pause", hold_id)   ("resume", hold_id)
Op = tuple[Any, ...]


@st.composite
def balanced_legs(draw: st.DrawFn) -> tuple[tuple[str, str, int], ...]:
    shape = draw(st.sampled_from(["1-1", "1-2", "2-1"]))
    if shape == "1-1":
        amount = draw(amounts)
        return ((draw(codes), "debit", amount), (draw(codes), "credit", amount))
    parts = draw(st.lists(amounts, min_size=2, max_size=2))
    one, many = ("debit", "credit") if shape == "1-2" else ("credit", "debit")
    legs = [(draw(codes), one, sum(parts))] + [(draw(codes), many, p) for p in parts]
    return tuple(draw(st.permutations(legs)))


@st.composite
def unbalanced_legs(draw: st.DrawFn) -> tuple[tuple[str, str, int], ...]:
    debit = draw(amounts)
    credit = draw(amounts.filter(lambda a: a != debit))
    return ((draw(codes), "debit", debit), (draw(codes), "credit", credit))


def call(session: Session, clock: FakeClock, key: str, op: Op) -> service.Result:
    """Run `op` through the public Python API."""
    kind = op[0]
    if kind == "transfer":
        return service.transfer(session, clock, key, list(op[1]))
    if kind == "hold":
        _, debit, credit, amount, expires_at, action = op
        return service.hold(
            session, clock, key, debit, credit, amount, expires_at=expires_at, expiry_action=action
        )
    if kind == "post":
        return service.post(session, clock, key, op[1], amount=op[2])
    if kind == "void":
        return service.void(session, clock, key, op[1])
    if kind == "extend":
        return service.extend(session, clock, key, op[1], op[2])
    if kind == "pause":
        return service.pause(session, clock, key, op[1])
    if kind == "resume":
        return service.resume(session, clock, key, op[1])
    raise AssertionError(f"unknown operation {op!r}")


def broken_limits(balances: dict[str, dict[str, int]]) -> list[str]:
    broken = []
    for code, b in balances.items():
        debit_limited, credit_limited = ACCOUNTS[code]
        if debit_limited and b["debits_posted"] + b["debits_pending"] > b["credits_posted"]:
            broken.append(code)
        if credit_limited and b["credits_posted"] + b["credits_pending"] > b["debits_posted"]:
            broken.append(code)
    return broken


Expected = tuple[frozenset[type[XinrenError]], Callable[[service.Result], None] | None]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.conn = engine.connect()
        self.outer = self.conn.begin()
        self.factory: sessionmaker[Session] = sessionmaker(
            bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        self.clock = FakeClock()
        with self.factory.begin() as s:
            for code, (debit_limited, credit_limited) in ACCOUNTS.items():
                service.create_account(
                    s,
                    self.clock,
                    code,
                    CURRENCY,
                    debits_must_not_exceed_credits=debit_limited,
                    credits_must_not_exceed_debits=credit_limited,
                )
        # --- the oracle ---
        self.balances: dict[str, dict[str, int]] = {
            code: dict.fromkeys(TOTALS, 0) for code in ACCOUNTS
        }
        self.holds: dict[int, dict[str, Any]] = {}
        self.accepted: dict[str, tuple[Op, service.Result]] = {}  # key -> first accepted call
        self.refused: dict[str, Op] = {}  # keys whose last use was refused: free again
        self.transfer_rows = 0  # accepted operations, including those run by expiry timers
        self.counter = 0
        self.checks = 0
        # Start with some money where the limits allow it, so that not every hold is refused.
        seed = [("bank", "debit", 300)] + [(c, "credit", 100) for c in ("alice", "bob", "carol")]
        self.submit(("transfer", tuple(seed)))

    def teardown(self) -> None:
        self.outer.rollback()
        self.conn.close()

    # --- the oracle's rules -------------------------------------------------------------------

    def new_key(self) -> str:
        self.counter += 1
        return f"op-{self.counter}"

    def _resolve(self, bal: dict[str, dict[str, int]], h: dict[str, Any], posted: int) -> None:
        """Release a hold's pending amounts and post `posted` of it (0 for a void)."""
        a = h["amount"]
        bal[h["debit"]]["debits_pending"] -= a
        bal[h["credit"]]["credits_pending"] -= a
        bal[h["debit"]]["debits_posted"] += posted
        bal[h["credit"]]["credits_posted"] += posted

    def expect(self, op: Op) -> Expected:
        """The errors that may refuse `op` now (empty: it must be accepted) and its effect."""
        bal = copy.deepcopy(self.balances)
        kind = op[0]
        if kind == "transfer":
            legs = op[1]
            debits = sum(a for _, side, a in legs if side == "debit")
            credits = sum(a for _, side, a in legs if side == "credit")
            if debits != credits:
                return frozenset({Unbalanced}), None
            for code, side, a in legs:
                bal[code][f"{side}s_posted"] += a
            if broken_limits(bal):
                return frozenset({LimitExceeded}), None

            def apply_transfer(result: service.Result) -> None:
                assert result.hold_id is None, result
                self.balances = bal

            return frozenset(), apply_transfer

        if kind == "hold":
            _, debit, credit, amount, expires_at, action = op
            if debit == credit:
                return frozenset({ValidationFailed}), None
            refusals: set[type[XinrenError]] = set()
            if expires_at is not None and expires_at <= self.clock.now():
                refusals.add(ValidationFailed)  # e.g. a refused hold retried after its expiry
            bal[debit]["debits_pending"] += amount
            bal[credit]["credits_pending"] += amount
            if broken_limits(bal):
                refusals.add(LimitExceeded)
            if refusals:
                return frozenset(refusals), None

            def apply_hold(result: service.Result) -> None:
                assert result.hold_id is not None, result
                assert result.hold_id not in self.holds, f"hold id {result.hold_id} reused"
                self.balances = bal
                self.holds[result.hold_id] = dict(
                    debit=debit,
                    credit=credit,
                    amount=amount,
                    status="pending",
                    expires_at=expires_at,
                    action=action,
                    paused_remaining=None,
                    posted_amount=None,
                )

            return frozenset(), apply_hold

        hold_id = op[1]
        h = self.holds.get(hold_id)
        if h is None:
            return frozenset({NotFound}), None
        if h["status"] != "pending":
            return frozenset({HoldNotPending}), None
        now = self.clock.now()
        changes: dict[str, Any] = {}
        if kind == "post":
            posted = h["amount"] if op[2] is None else op[2]
            if posted > h["amount"]:
                return frozenset({Conflict}), None
            self._resolve(bal, h, posted)
            changes = dict(status="posted", posted_amount=posted)
        elif kind == "void":
            self._resolve(bal, h, 0)
            changes = dict(status="voided", posted_amount=0)
        elif kind == "extend":
            errors: set[type[XinrenError]] = set()
            if h["expires_at"] is None:
                errors.add(Conflict)
            elif op[2] <= h["expires_at"]:
                errors.add(ValidationFailed)
            if h["paused_remaining"] is not None:
                errors.add(Conflict)
            if errors:
                return frozenset(errors), None
            changes = dict(expires_at=op[2])
        elif kind == "pause":
            if h["expires_at"] is None or h["paused_remaining"] is not None:
                return frozenset({Conflict}), None
            changes = dict(paused_remaining=max(h["expires_at"] - now, timedelta(0)))
        elif kind == "resume":
            if h["paused_remaining"] is None:
                return frozenset({Conflict}), None
            changes = dict(expires_at=now + h["paused_remaining"], paused_remaining=None)
        else:
            raise AssertionError(f"unknown operation {op!r}")
        if broken_limits(bal):
            return frozenset({LimitExceeded}), None

        def apply_change(result: service.Result) -> None:
            assert result.hold_id == hold_id, (result, hold_id)
            self.balances = bal
            h.update(changes)

        return frozenset(), apply_change

    # --- submitting and checking one call -----------------------------------------------------

    def run(self, key: str, op: Op) -> service.Result | XinrenError:
        """One call in its own transaction. A refused call is committed too, as a caller that
        carries on after an error would: a refusal must leave nothing behind, not even its key."""
        with self.factory.begin() as s:
            try:
                return call(s, self.clock, key, op)
            except XinrenError as err:
                return err

    def submit(self, op: Op, key: str | None = None) -> None:
        key = key or self.new_key()
        outcome = self.run(key, op)
        if key in self.accepted:
            first_op, first = self.accepted[key]
            if op == first_op:
                assert isinstance(outcome, service.Result), (
                    f"repeat of {key} with the same payload {op!r} gave {outcome!r}"
                )
                assert outcome.replayed, outcome
                assert (outcome.id, outcome.kind, outcome.hold_id, outcome.created_at) == (
                    first.id,
                    first.kind,
                    first.hold_id,
                    first.created_at,
                ), (outcome, first)
            else:
                assert type(outcome) is IdempotencyKeyReused, (
                    f"{key} first used for {first_op!r}, reused for {op!r}: got {outcome!r}"
                )
            return
        errors, apply = self.expect(op)
        if errors:
            assert isinstance(outcome, XinrenError) and type(outcome) in errors, (
                f"{op!r} must be refused with one of {sorted(e.__name__ for e in errors)}, "
                f"got {outcome!r}"
            )
            self.refused[key] = op
            return
        assert isinstance(outcome, service.Result), f"{op!r} must be accepted, got {outcome!r}"
        assert not outcome.replayed, outcome
        assert outcome.kind.value == op[0], (outcome, op)
        assert apply is not None
        apply(outcome)
        self.accepted[key] = (op, outcome)
        self.refused.pop(key, None)
        self.transfer_rows += 1

    # --- steps --------------------------------------------------------------------------------

    def holds_where(self, **want: Any) -> list[int]:
        """Pending holds; `expiring`/`paused` narrow them to those with an expiry / paused."""
        found = []
        for i, h in sorted(self.holds.items()):
            if h["status"] != "pending":
                continue
            if "expiring" in want and (h["expires_at"] is not None) != want["expiring"]:
                continue
            if "paused" in want and (h["paused_remaining"] is not None) != want["paused"]:
                continue
            found.append(i)
        return found

    def some_hold(self, preferred: list[int]) -> st.SearchStrategy[int]:
        """Mostly a hold the request applies to, sometimes any hold (to see it refused)."""
        any_hold = st.sampled_from(sorted(self.holds))
        return st.sampled_from(preferred) | any_hold if preferred else any_hold

    def requests(self, what: str) -> st.SearchStrategy[Op]:
        """Requests of one kind, drawn against the current state."""
        now = self.clock.now()
        if what == "transfer":
            return balanced_legs().map(lambda legs: ("transfer", legs))
        if what == "hold":
            return st.builds(
                lambda pair, amount, action, after: (
                    "hold",
                    *pair,
                    amount,
                    None if action is None else now + timedelta(minutes=after),
                    action,
                ),
                two_codes,
                amounts,
                st.sampled_from([None, "post", "void"]),
                quarters,
            )
        if what == "post":  # all, part, or more than all
            return self.some_hold(self.holds_where()).flatmap(
                lambda i: st.tuples(
                    st.just("post"),
                    st.just(i),
                    st.none()
                    | st.just(self.holds[i]["amount"])
                    | st.integers(1, self.holds[i]["amount"])
                    | st.integers(self.holds[i]["amount"] + 1, self.holds[i]["amount"] + 50),
                )
            )
        if what == "void":
            return st.tuples(st.just("void"), self.some_hold(self.holds_where()))
        if what == "extend":
            return st.builds(
                lambda i, delta: (
                    "extend",
                    i,
                    (self.holds[i]["expires_at"] or now) + timedelta(minutes=delta),
                ),
                self.some_hold(self.holds_where(expiring=True, paused=False)),
                st.sampled_from([15, 0, -15, 60, 240]),
            )
        if what in ("pause", "resume"):
            preferred = self.holds_where(expiring=True, paused=what == "resume")
            return st.tuples(st.just(what), self.some_hold(preferred))
        assert what == "malformed", what
        missing = max(self.holds, default=0) + 1_000_000
        return st.one_of(
            unbalanced_legs().map(lambda legs: ("transfer", legs)),
            st.builds(lambda c, a: ("hold", c, c, a, None, None), codes, amounts),
            st.sampled_from(
                [
                    ("post", missing, None),
                    ("void", missing),
                    ("extend", missing, now + timedelta(hours=1)),
                    ("pause", missing),
                    ("resume", missing),
                ]
            ),
        )

    @initialize(
        holds=st.lists(
            st.tuples(two_codes, amounts, st.sampled_from(["post", "void"]), quarters), max_size=4
        )
    )
    def expiring_holds(self, holds: list[tuple[tuple[str, str], int, str, int]]) -> None:
        """Start with a few holds that expire."""
        for pair, amount, action, after in holds:
            expires_at = self.clock.now() + timedelta(minutes=after)
            self.submit(("hold", *pair, amount, expires_at, action))

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """One random request, retry or clock move.

        A single rule on purpose: Hypothesis turns whole rules off per example ("swarm
        testing"); with one rule per kind of request most examples repeated one kind only, and
        hardly any had a hold that then expired, or was paused, left paused a while and resumed.
        """
        what = data.draw(st.sampled_from(STEPS), label="step")
        if what in HOLD_CHANGES and not self.holds:
            what = "hold"
        if what == "advance":
            minutes = data.draw(quarters | st.just(0), label="minutes")
            self.advance(minutes, run=data.draw(st.sampled_from([True, False]), label="run"))
        elif what == "retry":
            self.retry(data)
        else:
            self.submit(data.draw(self.requests(what), label="request"))

    def retry(self, data: st.DataObject) -> None:
        """Reuse an earlier key: an accepted one with the same or a different payload (a replay,
        or IdempotencyKeyReused; no effect either way), or a refused one (free again: it runs)."""
        how = data.draw(st.sampled_from(["same", "different", "refused"]), label="retry")
        legs = data.draw(balanced_legs(), label="legs")
        if how == "refused" and self.refused:
            key = data.draw(st.sampled_from(sorted(self.refused)), label="key")
            op = data.draw(st.sampled_from([self.refused[key], ("transfer", legs)]), label="op")
            self.submit(op, key)
            return
        # Pick the kind of request first: transfers would otherwise crowd out the rest.
        kinds = sorted({op[0] for op, _ in self.accepted.values()})
        kind = data.draw(st.sampled_from(kinds), label="kind")
        keys = sorted(k for k, (op, _) in self.accepted.items() if op[0] == kind)
        key = data.draw(st.sampled_from(keys), label="key")
        first = self.accepted[key][0]
        if how == "different":
            other = data.draw(st.sampled_from([variant(first), ("transfer", legs)]), label="op")
            self.submit(other if other != first else variant(first), key)
        else:
            self.submit(first, key)

    def advance(self, step: int, run: bool) -> None:
        """Move the clock and run the due timers, or let them lag (holds past their expiry then
        stay pending, and can still be posted, voided, extended, paused, until the timer runs)."""
        now = self.clock.advance(minutes=step)
        if not run:
            return
        ran = timers.run_due(self.factory, self.clock)
        due = [
            i
            for i, h in sorted(self.holds.items())
            if h["status"] == "pending"
            and h["paused_remaining"] is None
            and h["expires_at"] is not None
            and h["expires_at"] <= now
        ]
        for i in due:
            h = self.holds[i]
            posted = h["amount"] if h["action"] == "post" else 0
            self._resolve(self.balances, h, posted)
            h.update(status="posted" if h["action"] == "post" else "voided", posted_amount=posted)
            self.transfer_rows += 1
        assert ran == len(due), f"{ran} timers ran at {now}, but holds {due} were due"
        again = timers.run_due(self.factory, self.clock)
        assert again == 0, f"{again} more timers ran at {now} on a second run"

    # --- invariants: checked after every step, in one read-only session ----------------------

    @invariant()
    def database_agrees_with_the_oracle(self) -> None:
        self.checks += 1
        with self.factory() as s:
            self.check_balances(s)
            self.check_holds(s)
            self.check_journal(s)
            self.check_timers(s)
            # The journal check rebuilds every balance from the entries: a difference would stay
            # until the end, so every few steps is enough.
            report = journal.verify(s) if self.checks % VERIFY_EVERY == 0 else None
        assert report is None or report.ok, report.problems

    def check_balances(self, s: Session) -> None:
        """Balances equal the oracle's, sum to zero per currency, and break no limit."""
        listed = {a.code: a for a in service.list_accounts(s)}
        assert set(listed) == set(ACCOUNTS), sorted(listed)
        sums: dict[str, list[int]] = {}
        for code, a in listed.items():
            b = a.balance
            got = {t: getattr(b, t) for t in TOTALS}
            assert got == self.balances[code], (code, got, self.balances[code])
            assert min(got.values()) >= 0, (code, got)
            if a.debits_must_not_exceed_credits:
                assert b.debits_posted + b.debits_pending <= b.credits_posted, (code, b)
            if a.credits_must_not_exceed_debits:
                assert b.credits_posted + b.credits_pending <= b.debits_posted, (code, b)
            total = sums.setdefault(a.currency, [0, 0])
            total[0] += b.credits_posted - b.debits_posted
            total[1] += b.credits_pending - b.debits_pending
        assert all(total == [0, 0] for total in sums.values()), f"sums are not 0: {sums}"

    def check_holds(self, s: Session) -> None:
        """Every hold is in the database exactly as in the oracle (so none resolves twice)."""
        rows = {r.id: r for r in s.execute(select(holds_table))}
        assert set(rows) == set(self.holds), (sorted(rows), sorted(self.holds))
        for hold_id, want in self.holds.items():
            row = rows[hold_id]
            got = dict(
                status=row.status,
                amount=row.amount,
                posted_amount=row.posted_amount,
                action=row.expiry_action,
                expires_at=row.expires_at,
                paused_remaining=(
                    None
                    if row.paused_remaining_ms is None
                    else timedelta(milliseconds=row.paused_remaining_ms)
                ),
            )
            expected = {k: want[k] for k in got}
            if want["status"] != "pending":  # a resolved hold's pause no longer matters
                got.pop("paused_remaining")
                expected.pop("paused_remaining")
            assert got == expected, (hold_id, got, expected)
            assert (row.resolved_by is None) == (want["status"] == "pending"), (hold_id, row)
        resolved_by = [r.resolved_by for r in rows.values() if r.resolved_by is not None]
        assert len(resolved_by) == len(set(resolved_by)), resolved_by

    def check_journal(self, s: Session) -> None:
        """One transfer row per accepted operation (refusals and replays add none), and one
        post or void per resolved hold: none resolves twice."""
        t = transfers_table
        rows = s.execute(select(t.c.kind, t.c.hold_id)).all()
        assert len(rows) == self.transfer_rows, (len(rows), self.transfer_rows)
        resolutions = Counter(hold_id for kind, hold_id in rows if kind in ("post", "void"))
        twice = {i: n for i, n in resolutions.items() if n > 1}
        assert not twice, f"holds resolved more than once: {twice}"
        resolved = {i for i, h in self.holds.items() if h["status"] != "pending"}
        assert set(resolutions) == resolved, (sorted(resolutions), sorted(resolved))

    def check_timers(self, s: Session) -> None:
        """Exactly one pending expiry timer per pending, unpaused hold with an expiry; none fail."""
        t = timers_table
        rows = s.execute(select(t.c.kind, t.c.subject, t.c.due_at, t.c.status, t.c.attempts)).all()
        assert all(r.kind == service.HOLD_EXPIRY for r in rows), rows
        failed = [r for r in rows if r.attempts or r.status == "failed"]
        assert not failed, f"timers failed: {failed}"
        got = sorted((int(r.subject), r.due_at) for r in rows if r.status == "pending")
        want = sorted(
            (i, h["expires_at"])
            for i, h in self.holds.items()
            if h["status"] == "pending"
            and h["paused_remaining"] is None
            and h["expires_at"] is not None
        )
        assert got == want, (got, want)


def variant(op: Op) -> Op:
    """The same kind of request with one field changed: a different payload under the same key."""
    kind = op[0]
    if kind == "transfer":
        return ("transfer", tuple((c, side, a + 1) for c, side, a in op[1]))
    if kind == "hold":
        return (*op[:3], op[3] + 1, *op[4:])
    if kind == "post":
        return ("post", op[1], 1 if op[2] is None else None)
    if kind == "extend":
        return ("extend", op[1], op[2] + timedelta(minutes=1))
    return (kind, op[1] + 1)  # void, pause, resume: about another hold


@pytest.mark.slow
def test_ledger_agrees_with_an_in_memory_model(engine: Engine) -> None:
    """About 20 s on SQLite and 30 s on PostgreSQL (2,500 and 1,500 steps, each one checked)."""
    run_state_machine_as_test(
        lambda: LedgerMachine(engine),
        settings=settings(
            max_examples=60 if engine.dialect.name == "postgresql" else 100,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
