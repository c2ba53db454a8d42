"""Issue 13: a stateful test of an order's money, through the real services.

Hypothesis drives a few orders (plain ones of a small tea shop, and bird's-nest orders of a
batch that can be recalled) through random, interleaved sequences of order actions (pay, ship,
deliver, confirm, cancel, refunds and returns requested, approved, rejected and withdrawn,
disputes opened and decided), complaints (filed, answered, decided for the buyer with refund
and compensation or for the merchant, appealed, the appeal upheld or varied with extra
compensation), recalls of the batch and their execution (possibly twice), the guarantee fund
and deposits topped up, recovery claims collected and written off, merchants paying out what
they hold or being struck off (the fund then pays first), and time passing: every due timer
runs (settlement release, automatic confirmation and cancellation, refund deadlines, the
merchant's complaint deadline and its default rule, the daily collection of claims) and the
journal is sealed.

Every step is one unit of work (`xinren.unit_of_work.run`); a step the services refuse (a
`XinrenError`) must leave every table as it was, and be a refusal by the rules, not a driver
error or a bug the unit of work translated. The oracle keeps, per order, what the buyer paid,
whether the goods ever left the shop, and the compensation each decision, appeal and recall
awarded by the published rules (read through `remedies.compensation`: refund one, compensate
three, 3x with a ¥500 minimum; unsafe food 10x with a ¥1,000 minimum; a recall of goods that
never left the shop owes the refund alone; a reviewer awards at most 10x the price or ¥1,000
in all). After every step:

1. per order, the buyer never has back more than it paid, nor more compensation than the
   decisions and recalls awarded (or the reviewer's cap allows); and what they awarded was
   paid, a refund "of what is owed" in full;
2. each escrow holds its order's paid - refunded - released, `reconciliation.problems` is
   empty, and the payment provider's account moved by exactly what the orders and remedies say;
3. `journal.verify` holds (run whenever the ledger changed since it last held);
4. no account is beyond its limit, no recovery claim is collected or written off beyond its
   amount, and no timer failed except for a guarantee fund too short (it is tried again).

The world (two shops, the batch with its chain of custody and lab reports, orders in several
states) is built once per test; each example runs in a savepoint of its own, rolled back at the
end. One weighted `step` rule chooses what happens (see `WEIGHTS`). When it fails, Hypothesis
prints the steps it shrank the failure to (shrinking replays them against the database and can
take minutes) and saves them under `.hypothesis/`, so the next run tries them first. Run it with
`--hypothesis-show-statistics` to see how often each request was done or refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, func, inspect, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from tests.integrity.world import settled_order
from xinren import reconciliation
from xinren import tables as _every_table  # noqa: F401  (the metadata knows every table)
from xinren.cases import service as cases
from xinren.cases.tables import cases as case_rows
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents.store import FileStore
from xinren.errors import InternalError, XinrenError
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.ledger.tables import accounts as account_rows
from xinren.ledger.tables import seals as seal_rows
from xinren.ledger.tables import transfers as transfer_rows
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.orders.tables import orders as order_rows
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.deposits import psp
from xinren.parties.model import Status as PartyStatus
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
from xinren.remedies.tables import remedies as remedy_rows
from xinren.remedies.tables import remedy_payments
from xinren.schema import metadata
from xinren.timers import service as timers
from xinren.timers.tables import timers as timer_rows
from xinren.unit_of_work import run

START = datetime(2026, 3, 1, tzinfo=UTC)
TEA = "merchant:tea-shop"
TEA_DEPOSIT = 100_000  # ¥1,000, the least it may hold: one award, and the fund pays first
REVIEWER, APPEALS = "reviewer:li", "reviewer:wang"
MAX_ORDERS = 11
PRICES = (9_900, 12_800, 25_800)
FINDINGS = ("counterfeit", "safety_hazard", "not_as_described", "scam", "quality_defect")
RECALL_FINDINGS = ("counterfeit", "safety_hazard", "not_as_described")
FORWARD = (Action.PAY, Action.SHIP, Action.DELIVER, Action.CONFIRM)
AFTER_SALES = [a for a in Action if a not in (*FORWARD, Action.EXTEND)]
#: tables whose rows change after they are written; the others only grow
MUTABLE = (
    "ledger_accounts",
    "ledger_holds",
    "orders",
    "cases",
    "listings",
    "parties",
    "recovery_claims",
    "remedy_tasks",
    "timers",
)


def statutory(finding: str, category: str, total: int) -> int:
    """The statutory compensation, read through the policy."""
    return remedies.compensation(finding, category, total).amount


@dataclass(repr=False)
class Tracked:
    """What the oracle knows of one order."""

    id: int
    buyer: str
    merchant: str
    total: int
    category: str
    traced: bool  # sold from the recallable batch
    paid: int = 0
    shipped: bool = False  # the goods left the shop
    awards: list[int] = field(default_factory=list)  # what decisions and recalls awarded
    case_award: int = 0  # what the complaint's decision awarded
    extras: int = 0  # extra compensation a varied appeal awarded on top
    whole_refund: bool = False  # a decision or recall refunded everything still owed

    def __repr__(self) -> str:  # what a failing example prints for a drawn order
        return f"order {self.id} ({self.merchant}, {self.total})"


@dataclass(repr=False)
class RecallInfo:
    id: int
    tasks: dict[int, int]  # order -> the compensation the recall owes its buyer
    executed: bool = False

    def __repr__(self) -> str:
        return f"recall {self.id}"


@dataclass(frozen=True)
class World:
    nest: stories.Case
    shop: str
    listing_id: int
    orders: tuple[tuple[int, str, str, int, str, bool, int, bool], ...]


_COUNTS: dict[str, Any] = {}


def snapshot(s: Session) -> dict[str, Any]:
    """What a refused step must leave unchanged: the row count of every table, and every row
    of the tables whose rows change."""
    dialect = s.get_bind().dialect.name
    if dialect not in _COUNTS:  # the tables the migrations made (the metadata may know more)
        present = set(inspect(s.connection()).get_table_names())
        _COUNTS[dialect] = union_all(
            *(
                select(literal(t.name).label("name"), func.count().label("n")).select_from(t)
                for t in metadata.sorted_tables
                if t.name in present
            )
        )
    out: dict[str, Any] = {"counts": sorted((n, c) for n, c in s.execute(_COUNTS[dialect]))}
    for name in MUTABLE:
        table = metadata.tables[name]
        out[name] = sorted(tuple(repr(v) for v in row) for row in s.execute(select(table)))
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    diff = {}
    for name in before:
        if before[name] != after[name]:
            gone = [r for r in before[name] if r not in after[name]]
            new = [r for r in after[name] if r not in before[name]]
            diff[name] = {"gone": gone[:3], "new": new[:3]}
    return diff


def build_world(factory: sessionmaker[Session], store: FileStore) -> World:
    """A small tea shop with a small deposit and three orders (one settled and released, one
    paid, one only created); a bird's-nest shop with the batch's chain of custody and both lab
    reports, and four orders of the batch (two shipped, one paid, one only created) and one
    cancelled."""
    clock = FakeClock(START)

    def build(s: Session) -> World:
        samples.verified(s, clock, TEA)
        deposits.pay_deposit(s, clock, "tea-deposit", TEA, TEA_DEPOSIT, "CNY")
        settled_order(s, clock, "tea-settled", 12_800, merchant=TEA)
        for key, total, pay in (("tea-paid", 25_800, True), ("tea-new", 9_900, False)):
            made = orders.create_order(
                s,
                clock,
                key,
                buyer=f"buyer:{key}",
                merchant=TEA,
                total=total,
                currency="CNY",
                category="tea",
            )
            if pay:
                orders.act(s, clock, made.id, Action.PAY, f"{key}-pay", actor="platform")
        nest = stories.birds_nest_case(s, clock, store, "m", buyers=2)
        listing_id = orders.get_order(s, nest.order_id).listing_id
        assert listing_id is not None
        for key, pay in (("nest-paid", True), ("nest-new", False)):  # not shipped yet
            made = orders.create_order(
                s,
                clock,
                key,
                buyer=f"buyer:{key}",
                merchant=nest.refs["shop"],
                listing_id=listing_id,
            )
            if pay:
                orders.act(s, clock, made.id, Action.PAY, f"{key}-pay", actor="platform")
        tracked = []
        for order_id in sorted(s.scalars(select(order_rows.c.id))):
            v = orders.get_order(s, order_id)
            tracked.append(
                (
                    v.id,
                    v.buyer,
                    v.merchant,
                    v.state.total,
                    v.category,
                    v.batch_id == nest.batch_id,
                    v.state.paid,
                    v.state.status.value in ("shipped", "completed"),
                )
            )
        return World(nest, nest.refs["shop"], listing_id, tuple(tracked))

    return run(factory, build)


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self, connection: Connection, factory: sessionmaker[Session], world: World):
        super().__init__()
        self.savepoint = connection.begin_nested()  # rolled back at the end of the example
        self.factory = factory
        self.world = world
        self.clock = FakeClock(START)
        self.orders = [Tracked(*o[:6], paid=o[6], shipped=o[7]) for o in world.orders]
        self.recalls: list[RecallInfo] = []
        self.case_of: dict[int, int] = {}  # order -> its complaint
        self.n = 0
        self.topped_up = 0  # what the test paid in from the payment provider (fund, deposits)
        self.psp_base: int | None = None
        self.verified_at: tuple[int, ...] | None = None

    def teardown(self) -> None:
        self.savepoint.rollback()

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """One request, chosen by weight (see `WEIGHTS`).

        A single rule on purpose, as in the ledger's stateful test: Hypothesis turns whole
        rules off per example, and with one rule per request most examples never took an
        order far enough for a complaint to be decided and appealed.
        """
        what = data.draw(st.sampled_from(STEPS), label="step")
        getattr(self, what)(data)

    # --- helpers ---------------------------------------------------------------------------

    def key(self, what: str) -> str:
        self.n += 1
        return f"{what}-{self.n}"

    def attempt(self, what: str, fn: Any) -> Any:
        """Run `fn` as one unit of work; a refusal must leave nothing behind and be a refusal
        on purpose (not a driver error or a bug that the unit of work translated)."""
        with self.factory() as s:
            before = snapshot(s)
        try:
            result = run(self.factory, fn)
        except XinrenError as err:
            event(f"{what}: refused ({type(err).__name__})")
            assert not isinstance(err, InternalError), f"{what}: a bug: {err.__cause__!r}"
            cause = err.__cause__
            assert cause is None or isinstance(cause, XinrenError), (
                f"{what}: refused by the database, not by the rules: {cause!r}"
            )
            with self.factory() as s:
                after = snapshot(s)
            assert after == before, f"{what} was refused ({err!r}) but left: " + repr(
                changed(before, after)
            )
            return err
        event(f"{what}: done")
        return result

    def read(self, fn: Any) -> Any:
        with self.factory() as s:
            return fn(s)

    def pick(self, data: st.DataObject, pool: list[Tracked], label: str = "order") -> Tracked:
        """One of `pool` (any order when it is empty)."""
        return data.draw(st.sampled_from(pool or self.orders), label=label)

    def allowed(self) -> dict[int, set[Action]]:
        """What each order allows now (one query)."""
        with self.factory() as s:
            rows = s.execute(select(order_rows))
            return {r.id: {Action(a) for a in orders._view(r).allowed} for r in rows}

    def cased(self, data: st.DataObject, *states: str) -> Tracked | None:
        """An order with a complaint, mostly one in one of `states`."""
        with self.factory() as s:
            rows = s.execute(select(case_rows.c.order_id, case_rows.c.state))
            state = {order_id: st for order_id, st in rows}
        pool = [o for o in self.orders if o.id in state]
        if not pool:
            return None
        wanted = [o for o in pool if state[o.id] in states]
        return self.pick(data, wanted if wanted and data.draw(st.integers(0, 9)) else pool)

    def back(self, s: Session, o: Tracked) -> int:
        """What the buyer has had back of its payment: refunds through escrow and by remedies."""
        state = orders.get_order(s, o.id).state
        return state.refunded + remedies.paid_on_order(s, o.id, "refund", outside_escrow=True)

    # --- orders ----------------------------------------------------------------------------

    def create(self, data: st.DataObject) -> None:
        """A new order: from the recallable batch's listing, or the tea shop's, unlisted."""
        if len(self.orders) >= MAX_ORDERS:
            return self.move_on(data)
        traced = data.draw(st.booleans(), label="traced")
        quantity = data.draw(st.integers(1, 2), label="quantity")
        price = data.draw(st.sampled_from(PRICES), label="price")
        key, buyer = self.key("order"), f"buyer:b{self.n}"

        def make(s: Session) -> orders.OrderView:
            if traced:
                return orders.create_order(
                    s,
                    self.clock,
                    key,
                    buyer=buyer,
                    merchant=self.world.shop,
                    listing_id=self.world.listing_id,
                    quantity=quantity,
                )
            return orders.create_order(
                s,
                self.clock,
                key,
                buyer=buyer,
                merchant=TEA,
                total=price * quantity,
                currency="CNY",
                category="tea",
            )

        view = self.attempt("create", make)
        if isinstance(view, orders.OrderView):
            self.orders.append(
                Tracked(view.id, buyer, view.merchant, view.state.total, view.category, traced)
            )

    def act(
        self,
        o: Tracked,
        action: Action,
        amount: int | None = None,
        kind: str = "refund_only",
        reason: str = "not_as_described",
    ) -> None:
        key = self.key(action.value)
        result = self.attempt(
            f"order.{action.value}",
            lambda s: orders.act(
                s,
                self.clock,
                o.id,
                action,
                key,
                actor="platform",
                amount=amount,
                kind=kind,  # type: ignore[arg-type]
                reason=reason,  # type: ignore[arg-type]
            ),
        )
        if isinstance(result, orders.OrderView):
            if action is Action.PAY:
                o.paid = o.total
            if action is Action.SHIP:
                o.shipped = True

    def move_on(self, data: st.DataObject) -> None:
        """An order's next step forward: pay, ship, deliver or confirm receipt."""
        allowed = self.allowed()
        pool = [o for o in self.orders if allowed[o.id] & set(FORWARD)]
        o = self.pick(data, pool)
        forward = [a for a in FORWARD if a in allowed[o.id]]
        if forward:
            self.act(o, data.draw(st.sampled_from(forward), label="action"))

    def after_sales(self, data: st.DataObject) -> None:
        """Cancel, or a refund, return or dispute step that the order allows now."""
        allowed = self.allowed()
        pool = [o for o in self.orders if allowed[o.id] & set(AFTER_SALES)]
        o = self.pick(data, pool)
        actions = sorted(allowed[o.id] & set(AFTER_SALES)) or AFTER_SALES
        action = data.draw(st.sampled_from(actions), label="action")
        amount = data.draw(st.none() | st.integers(0, 30_000), label="amount")
        kind = data.draw(st.sampled_from(["refund_only", "return_and_refund"]), label="kind")
        reason = data.draw(
            st.sampled_from(["not_as_described", "defective", "no_reason"]), label="reason"
        )
        self.act(o, action, amount, kind, reason)

    def anything(self, data: st.DataObject) -> None:
        """Any action on any order, allowed or not, with any amount."""
        o = self.pick(data, [])
        action = data.draw(st.sampled_from(list(Action)), label="action")
        self.act(o, action, data.draw(st.none() | st.integers(-1, 10**6), label="amount"))

    def time_passes(self, data: st.DataObject) -> None:
        """Move the clock, run every due timer (each its own unit of work), seal the journal."""
        hours = data.draw(st.sampled_from([1, 12, 25, 49, 24 * 6, 24 * 11, 24 * 16]), label="h")
        self.clock.advance(hours=hours)
        timers.run_due(self.factory, self.clock)
        run(self.factory, lambda s: journal.seal(s, self.clock))
        # a merchant that missed its complaint deadline: decided for the buyer by default
        with self.factory() as s:
            by_default = set(
                s.scalars(select(case_rows.c.order_id).where(case_rows.c.by_default.is_(True)))
            )
        for o in self.orders:
            if o.id in by_default and not o.whole_refund:
                o.whole_refund = True
                o.awards.append(0)

    def draw_out(self, data: st.DataObject) -> None:
        """A merchant pays out everything available (the fund then pays first for it)."""
        merchant = data.draw(st.sampled_from([TEA, self.world.shop]), label="merchant")
        key = self.key("payout")

        def payout(s: Session) -> None:
            ledger.create_account(s, self.clock, "bank:payouts", "CNY")
            ledger.create_account(
                s,
                self.clock,
                f"{merchant}:available",
                "CNY",
                debits_must_not_exceed_credits=True,
            )
            have = ledger.get_account(s, f"{merchant}:available").balance.available
            if have:
                ledger.move(s, self.clock, key, f"{merchant}:available", "bank:payouts", have)

        self.attempt("payout", payout)

    def vanish(self, data: st.DataObject) -> None:
        """A shop is struck off: its identity can no longer be produced, so the platform pays
        its buyers first (from the guarantee fund) and recovers from it."""
        merchant = data.draw(st.sampled_from([TEA, self.world.shop]), label="merchant")
        key = self.key("vanish")
        self.attempt(
            "vanish",
            lambda s: parties.decide(
                s,
                self.clock,
                key,
                merchant,
                PartyStatus.REJECTED,
                reason="the shop vanished; its address and phone are no longer valid",
                decided_by=REVIEWER,
            ),
        )

    # --- complaints ------------------------------------------------------------------------

    def file_complaint(self, data: st.DataObject) -> None:
        """The buyer complains (now and then someone else tries to); the merchant may answer
        at once, as a second unit of work."""
        o = self.pick(data, [o for o in self.orders if o.id not in self.case_of and o.paid > 0])
        kind = data.draw(st.sampled_from(FINDINGS), label="kind")
        impostor = data.draw(st.integers(0, 7), label="impostor") == 0
        buyer = "buyer:someone-else" if impostor else o.buyer
        key = self.key("case")
        case = self.attempt(
            "case.file",
            lambda s: cases.file_case(
                s,
                self.clock,
                key,
                order_id=o.id,
                buyer=buyer,
                kind=kind,
                statement="it is not what was sold",
                evidence=[(f"order:{o.id}", "my order")],
            ),
        )
        if isinstance(case, dict):
            assert o.id not in self.case_of, "a second complaint on one order"
            self.case_of[o.id] = case["id"]
            if data.draw(st.booleans(), label="answered"):
                self.respond(o)

    def merchant_responds(self, data: st.DataObject) -> None:
        o = self.cased(data, "awaiting_merchant")
        if o is not None:
            self.respond(o)

    def respond(self, o: Tracked) -> None:
        self.attempt(
            "case.respond",
            lambda s: cases.respond(
                s, self.clock, self.case_of[o.id], merchant=o.merchant, statement="it is genuine"
            ),
        )

    def decide(self, data: st.DataObject) -> None:
        """A reviewer decides: for the buyer (refund and compensation) or for the merchant."""
        o = self.cased(data, "in_mediation", "awaiting_merchant")
        if o is None:
            return self.file_complaint(data)
        outcome = data.draw(
            st.sampled_from(["for_buyer", "for_buyer", "partly_for_buyer", "for_merchant"]),
            label="outcome",
        )
        finding = data.draw(st.sampled_from(FINDINGS), label="finding")
        refund = data.draw(st.sampled_from(["owed", "owed", "half", "too_much"]), label="refund")
        compensation = data.draw(
            st.sampled_from(["law", "law", "more", "less", "over_cap"]), label="compensation"
        )
        with self.factory() as s:
            owed = remedies.still_owed(s, orders.get_order(s, o.id))
            back_before = self.back(s, o)
        law = statutory(finding, o.category, o.total)
        refund_asked = {"owed": None, "half": owed // 2, "too_much": owed + 1}[refund]
        comp_asked = {
            "law": None,
            "more": law + 10_000,
            "less": max(law - 1, 0),
            "over_cap": max(10 * o.total, 100_000) + 1,
        }[compensation]
        key = self.key("decision")
        done = self.attempt(
            "case.decide",
            lambda s: cases.decide(
                s,
                self.clock,
                key,
                self.case_of[o.id],
                decided_by=REVIEWER,
                outcome=outcome,
                finding=finding,
                reasons="the reviewer weighed both sides",
                relied_on=[f"order:{o.id}"],
                refund=refund_asked,
                compensation=comp_asked,
            ),
        )
        if not isinstance(done, dict):
            return
        back_after = self.read(lambda s: self.back(s, o))
        if outcome == "for_merchant":
            assert back_after == back_before, "a decision for the merchant refunded the buyer"
            return
        award = law if comp_asked is None else comp_asked
        o.awards.append(award)
        o.case_award = award
        want = owed if refund_asked is None else refund_asked
        assert back_after - back_before == want, (back_before, back_after, want)
        o.whole_refund = o.whole_refund or refund_asked is None

    def appeal(self, data: st.DataObject) -> None:
        """A side appeals; the appeal may be decided at once, as a second unit of work."""
        o = self.cased(data, "decided")
        if o is None:
            return self.decide(data)
        by = o.merchant if data.draw(st.booleans(), label="by_merchant") else o.buyer
        done = self.attempt(
            "case.appeal",
            lambda s: cases.appeal(
                s, self.clock, self.case_of[o.id], by=by, grounds="the decision is wrong"
            ),
        )
        then = data.draw(st.sampled_from(["wait", "upheld", "varied"]), label="then")
        if isinstance(done, dict) and then != "wait":
            self.decide_the_appeal(o, data, then == "varied", APPEALS)

    def decide_appeal(self, data: st.DataObject) -> None:
        o = self.cased(data, "appealed")
        if o is None:
            return self.appeal(data)
        varied = data.draw(st.booleans(), label="varied")
        same = data.draw(st.integers(0, 5), label="same_reviewer") == 0
        self.decide_the_appeal(o, data, varied, REVIEWER if same else APPEALS)

    def decide_the_appeal(
        self, o: Tracked, data: st.DataObject, varied: bool, reviewer: str
    ) -> None:
        # small awards, all the reviewer's cap leaves after the decision's own award, too much
        decided = self.read(lambda s: cases.get_case(s, self.case_of[o.id])["compensation"])
        rest = max(10 * o.total, 100_000) - (decided or 0)
        extra = data.draw(st.sampled_from([1, 10_000, 60_000, rest, 10**9]), label="extra")
        done = self.attempt(
            "case.decide_appeal",
            lambda s: cases.decide_appeal(
                s,
                self.clock,
                self.case_of[o.id],
                reviewer=reviewer,
                outcome="varied" if varied else "upheld",
                reasons="on appeal",
                extra_compensation=extra if varied else 0,
            ),
        )
        if isinstance(done, dict) and varied:
            o.extras += extra

    # --- recalls ---------------------------------------------------------------------------

    def recall(self, data: st.DataObject) -> None:
        """The batch is recalled: every buyer of it is owed a refund and, for goods that left
        the shop, the compensation the policy sets."""
        if len(self.recalls) >= 3:
            return self.execute_recall(data)
        finding = data.draw(st.sampled_from(RECALL_FINDINGS), label="finding")
        key = self.key("recall")
        with self.factory() as s:
            owed = {}
            for o in self.orders:
                status = orders.get_order(s, o.id).state.status.value
                if o.traced and o.paid > 0 and status != "cancelled":
                    owed[o.id] = statutory(finding, o.category, o.total) if o.shipped else 0
        made = self.attempt(
            "recall",
            lambda s: recalls.recall_batch(
                s,
                self.clock,
                key,
                batch_id=self.world.nest.batch_id,
                finding=finding,
                reason="the independent lab found no bird's nest",
                evidence=[self.world.nest.docs["independent_report"]],
                decided_by=REVIEWER,
            ),
        )
        assert isinstance(made, recalls.Recall), made
        got = {t.order_id: t.compensation for t in made.tasks}
        assert got == owed, f"the recall owes {got}; by the policy the buyers are owed {owed}"
        self.recalls.append(RecallInfo(made.id, owed))

    def execute_recall(self, data: st.DataObject) -> None:
        """Pay a recall's remedy tasks (a recall executed again pays nobody twice)."""
        if not self.recalls:
            return self.recall(data)
        r = data.draw(st.sampled_from(self.recalls), label="recall")
        paid = self.attempt(
            "recall.execute",
            lambda s: remedies.execute_recall(s, self.clock, r.id, decided_by=REVIEWER),
        )
        if not isinstance(paid, list):
            return
        want = set() if r.executed else set(r.tasks)
        assert {p.order_id for p in paid} == want, "a recall pays each task once"
        for o in self.orders:
            if o.id in want:
                o.awards.append(r.tasks[o.id])
                o.whole_refund = True
        r.executed = True

    # --- the guarantee fund, deposits and recovery claims ----------------------------------

    def top_up_fund(self, data: st.DataObject) -> None:
        amount = data.draw(st.sampled_from([50_000, 300_000, 2_000_000]), label="amount")
        key = self.key("fund")
        got = self.attempt(
            "fund.top_up", lambda s: remedies.top_up_fund(s, self.clock, key, amount, "CNY")
        )
        if isinstance(got, int):
            self.topped_up += amount

    def top_up_deposit(self, data: st.DataObject) -> None:
        merchant = data.draw(st.sampled_from([TEA, self.world.shop]), label="merchant")
        amount = data.draw(st.sampled_from([50_000, 500_000]), label="amount")
        key = self.key("deposit")
        got = self.attempt(
            "deposit.top_up",
            lambda s: deposits.pay_deposit(s, self.clock, key, merchant, amount, "CNY"),
        )
        if isinstance(got, int):
            self.topped_up += amount

    def claim(self, data: st.DataObject) -> dict[str, Any] | None:
        claims = self.read(remedies.list_claims)
        open_ = [c for c in claims if c["status"] == "open"] or claims
        return data.draw(st.sampled_from(open_), label="claim") if open_ else None

    def collect(self, data: st.DataObject) -> None:
        claim = self.claim(data)
        if claim is not None:
            self.attempt("claim.collect", lambda s: remedies.collect(s, self.clock, claim["id"]))

    def write_off(self, data: st.DataObject) -> None:
        claim = self.claim(data)
        reason = data.draw(st.sampled_from(["the debtor cannot be traced", " "]), label="why")
        if claim is not None:
            self.attempt(
                "claim.write_off",
                lambda s: remedies.write_off(
                    s, self.clock, claim["id"], reason=reason, decided_by=REVIEWER
                ),
            )

    # --- invariants ------------------------------------------------------------------------

    def psp_gap(self, s: Session) -> int:
        """The payment provider's account less what the owners' records say passed through it
        (payments in, refunds and remedies out, the test's top-ups in): a constant."""
        net = ledger.family_balance(s, psp("CNY")).net
        paid, refunded = s.execute(
            select(func.sum(order_rows.c.paid), func.sum(order_rows.c.refunded))
        ).one()
        out = s.execute(
            select(func.coalesce(func.sum(remedy_payments.c.amount), 0)).where(
                remedy_payments.c.source != "escrow"
            )
        ).scalar_one()
        return int(net) - (int(refunded) - int(paid) + int(out) - self.topped_up)

    @invariant()
    def money_is_right(self) -> None:
        with self.factory() as s:
            self.check_orders(s)
            assert reconciliation.problems(s) == []
            gap = self.psp_gap(s)
            if self.psp_base is None:
                self.psp_base = gap
            assert gap == self.psp_base, "the payment provider's account disagrees"
            self.check_limits(s)
            self.check_claims(s)
            self.check_timers(s)
            # the journal is verified whenever the ledger changed since it last verified
            ledger_now = tuple(
                s.execute(
                    select(
                        *(
                            select(func.count()).select_from(t).scalar_subquery()
                            for t in (transfer_rows, account_rows, seal_rows)
                        )
                    )
                ).one()
            )
            if ledger_now != self.verified_at:
                report = journal.verify(s)
                assert report.ok, report.problems
                self.verified_at = ledger_now

    def check_orders(self, s: Session) -> None:
        figures = {r.id: r for r in s.execute(select(order_rows))}
        escrows = {a.code: a.balance.net for a in ledger.owned_accounts(s, "orders")}
        paid_out: dict[tuple[int, str, bool], int] = {}
        for order_id, kind, source, amount in s.execute(
            select(
                remedy_rows.c.order_id,
                remedy_payments.c.kind,
                remedy_payments.c.source,
                func.sum(remedy_payments.c.amount),
            )
            .select_from(remedy_payments.join(remedy_rows))
            .group_by(remedy_rows.c.order_id, remedy_payments.c.kind, remedy_payments.c.source)
        ):
            k = (order_id, kind, source == "escrow")
            paid_out[k] = paid_out.get(k, 0) + int(amount)
        for o in self.orders:
            r = figures[o.id]
            held = r.paid - r.refunded - r.released
            assert r.paid == o.paid, (o.id, r.paid, o.paid)
            assert min(r.refunded, r.released, held) >= 0, (o.id, r.paid, r.refunded, r.released)
            assert escrows[orders.escrow(o.id)] == held, (o.id, escrows, held)
            back = r.refunded + paid_out.get((o.id, "refund", False), 0)
            compensation = sum(paid_out.get((o.id, "compensation", e), 0) for e in (True, False))
            awarded = max(o.awards, default=0)
            assert back <= o.paid, f"order {o.id}: {back} back of {o.paid} paid"
            assert compensation <= awarded + o.extras, (
                f"order {o.id}: compensation {compensation} paid, awarded {o.awards} + {o.extras}"
            )
            # a reviewer awards at most 10x the price or ¥1,000 in all; only a statute (a
            # recall's or a decision's own rule) may take the buyer beyond that
            most = max(10 * o.total, 100_000)
            assert compensation <= max(most, awarded), (
                f"order {o.id}: compensation {compensation} paid, more than {most}"
            )
            assert compensation >= max(awarded, o.case_award + o.extras), (
                f"order {o.id}: compensation {compensation} paid, awarded {o.awards} + {o.extras}"
            )
            if o.whole_refund:
                assert back == o.paid, f"order {o.id}: {back} back of {o.paid} after a remedy"
            assert paid_out.get((o.id, "refund", True), 0) <= r.refunded, o.id

    def check_limits(self, s: Session) -> None:
        for a in s.execute(select(account_rows)):
            if a.debits_must_not_exceed_credits:
                assert a.debits_posted + a.debits_pending <= a.credits_posted, a
            if a.credits_must_not_exceed_debits:
                assert a.credits_posted + a.credits_pending <= a.debits_posted, a

    def check_claims(self, s: Session) -> None:
        for c in remedies.list_claims(s):
            assert c["amount"] > 0 and c["recovered"] >= 0 and c["written_off"] >= 0, c
            assert c["outstanding"] >= 0, c
            assert (c["status"] == "open") == (c["outstanding"] > 0), c
        position = remedies.fund_position(s)
        assert position["balance"] >= 0 and position["receivable"] >= 0, position

    def check_timers(self, s: Session) -> None:
        """A timer may fail only because the guarantee fund is short (it is tried again)."""
        failed = s.execute(
            select(timer_rows.c.kind, timer_rows.c.last_error).where(timer_rows.c.attempts > 0)
        ).all()
        for kind, last_error in failed:
            error = last_error or ""
            short = "guarantee fund holds" in error or "'platform:guarantee_fund:" in error
            assert short, (kind, error)


#: what a step does, and how often (relative weights)
WEIGHTS = {
    "create": 2,
    "move_on": 5,
    "after_sales": 4,
    "anything": 1,
    "time_passes": 3,
    "draw_out": 1,
    "vanish": 1,
    "file_complaint": 2,
    "merchant_responds": 1,
    "decide": 3,
    "appeal": 2,
    "decide_appeal": 1,
    "recall": 1,
    "execute_recall": 2,
    "top_up_fund": 1,
    "top_up_deposit": 1,
    "collect": 1,
    "write_off": 1,
}
STEPS = [what for what, weight in WEIGHTS.items() for _ in range(weight)]


@pytest.mark.slow
def test_an_orders_money_stays_right(connection, factory, tmp_path: Path) -> None:
    """About 55 s on SQLite (40 examples) and 70 s on PostgreSQL (25), 30 steps each."""
    world = build_world(factory, FileStore(tmp_path / "documents"))
    postgres = connection.dialect.name == "postgresql"
    run_state_machine_as_test(
        lambda: MoneyMachine(connection, factory, world),
        settings=settings(
            max_examples=25 if postgres else 40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
