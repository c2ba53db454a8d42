"""The fifth part of `xinren demo`: the buyer's side. The fake tea, the vanished host's paid
course and the bird's-nest recall: who was paid, by whom, and what is still owed to the fund."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.db import session_factory, unit_of_work
from xinren.demo import samples, stories
from xinren.documents.store import FileStore
from xinren.ledger import service as ledger
from xinren.money import Money
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
from xinren.timers import service as timers


def _fmt(amount: int) -> str:
    return Money(amount, "CNY").format()


@dataclass(frozen=True, slots=True)
class _Run:
    factory: sessionmaker[Session]
    console: Console
    clock: FakeClock
    tag: str
    paid: Table  # who was paid, by whom: one row per buyer, printed at the end


def run_remedies(engine: Engine, console: Console, clock: FakeClock) -> None:
    console.rule("[bold]Complaints and remedies: pay first, recover later (先行赔付, 追偿)")
    paid = Table(title="who was paid, by whom")
    for column in ("story", "buyer", "refund", "compensation", "paid by", "basis"):
        paid.add_column(column)
    run = _Run(session_factory(engine), console, clock, secrets.token_hex(3), paid)
    ids = _two_settled_orders(run)
    _fake_tea(run, ids["tea"])
    _vanished_course(run, ids["course"])
    _birds_nest_recall(run)
    console.print(paid)
    with unit_of_work(run.factory) as s:
        fund = remedies.fund_position(s)
        m = cases.metrics(s)
    console.print(
        f"Guarantee fund: balance {_fmt(fund['balance'])}; paid first {_fmt(fund['paid_first'])}, "
        f"recovered {_fmt(fund['recovered'])}, [bold]still owed to the fund "
        f"{_fmt(fund['receivable'])}[/bold]. Complaints decided: {m['decided']}, "
        f"all for the buyer: {m['share_for_buyer'] == 1}."
    )


def _two_settled_orders(run: _Run) -> dict[str, int]:
    """The fund topped up, two verified merchants with deposits, and one settled order each."""
    clock, tag = run.clock, run.tag
    with unit_of_work(run.factory) as s:
        remedies.top_up_fund(s, clock, f"demo-{tag}-fund", 5_000_000, "CNY")
        for merchant in (f"merchant:tea-{tag}", f"merchant:course-{tag}"):
            samples.verified(s, clock, merchant)
            deposits.pay_deposit(s, clock, f"demo-{tag}-{merchant}", merchant, 100_000, "CNY")
        ids = {}
        for name, merchant, total, category in (
            ("tea", f"merchant:tea-{tag}", 12_800, "tea"),
            ("course", f"merchant:course-{tag}", 29_900, "digital"),
        ):
            o = orders.create_order(
                s,
                clock,
                f"demo-{tag}-{name}",
                buyer=f"buyer:{name}-{tag}",
                merchant=merchant,
                total=total,
                currency="CNY",
                category=category,
            )
            for action, actor in (
                (Action.PAY, "platform"),
                (Action.SHIP, merchant),
                (Action.CONFIRM, o.buyer),
            ):
                orders.act(s, clock, o.id, action, f"demo-{tag}-{name}-{action}", actor=actor)
            ids[name] = o.id
    clock.advance(days=2)
    timers.run_due(run.factory, clock)  # settlements reach the merchants' available balances
    return ids


def _fake_tea(run: _Run, order_id: int) -> None:
    """A complaint decided for the buyer: refund plus the statutory minimum compensation."""
    clock, tag = run.clock, run.tag
    with unit_of_work(run.factory) as s:
        tea = orders.get_order(s, order_id)
        case = cases.file_case(
            s,
            clock,
            f"demo-{tag}-tea-case",
            order_id=tea.id,
            buyer=tea.buyer,
            kind="counterfeit",
            statement="rated 4.95, yet the tea stays hard after an hour",
        )
        cases.respond(s, clock, case["id"], merchant=tea.merchant, statement="it is genuine")
        tea_case = cases.decide(
            s,
            clock,
            f"demo-{tag}-tea-decision",
            case["id"],
            decided_by="reviewer:li",
            outcome="for_buyer",
            finding="counterfeit",
            reasons="a lab comparison shows a cheaper cultivar sold as Longjing",
            relied_on=[f"order:{tea.id}"],
        )
    run.console.print(
        f"[bold]The fake tea[/bold]: counterfeit found; refund {_fmt(tea_case['refund'])} + "
        f"compensation {_fmt(tea_case['compensation'])} (3x ¥128 is ¥384, below the ¥500 "
        f"minimum of CRPL Art. 55); violation {tea_case['proposed_rule']} proposed to enforcement."
    )
    run.paid.add_row(
        "fake tea",
        tea.buyer,
        _fmt(tea_case["refund"]),
        _fmt(tea_case["compensation"]),
        tea_case["payer"],
        "CRPL Art. 55",
    )


def _vanished_course(run: _Run, order_id: int) -> None:
    """The seller took its money out and vanished: the fund pays first and claims it back."""
    clock, tag = run.clock, run.tag
    with unit_of_work(run.factory) as s:
        course = orders.get_order(s, order_id)
        earned = ledger.get_account(s, f"{course.merchant}:available").balance.available
        ledger.create_account(s, clock, "bank:payouts", "CNY")
        ledger.move(
            s,
            clock,
            f"demo-{tag}-payout",
            f"{course.merchant}:available",
            "bank:payouts",
            earned,
            reason="payout",
        )
        parties.decide(
            s,
            clock,
            f"demo-{tag}-vanish",
            course.merchant,
            Status.REJECTED,
            reason="the host vanished; address and phone no longer valid",
            decided_by="reviewer:li",
        )
        case = cases.file_case(
            s,
            clock,
            f"demo-{tag}-course-case",
            order_id=course.id,
            buyer=course.buyer,
            kind="scam",
            statement="12 live lessons paid; the host vanished after the first",
        )
    clock.advance(hours=49)  # the seller never answers; the reviewer decides on the evidence
    with unit_of_work(run.factory) as s:
        course_case = cases.decide(
            s,
            clock,
            f"demo-{tag}-course-decision",
            case["id"],
            decided_by="reviewer:li",
            outcome="for_buyer",
            finding="scam",
            reasons="the course was never delivered",
            relied_on=[f"order:{course.id}"],
        )
        [claim] = remedies.list_claims(s, debtor=course.merchant)
    timers.run_due(run.factory, clock)  # the deadline timer finds the case decided: nothing to do
    run.console.print(
        f"[bold]The vanished host's course[/bold]: the seller cannot be reached, so the "
        f"guarantee fund paid {_fmt(course_case['refund'] + course_case['compensation'])} at "
        f"once; recovery claim {claim['id']} took {_fmt(claim['recovered'])} from the seller's "
        f"deposit and {_fmt(claim['outstanding'])} is still owed."
    )
    run.paid.add_row(
        "vanished course",
        course.buyer,
        _fmt(course_case["refund"]),
        _fmt(course_case["compensation"]),
        "platform (guarantee fund)",
        "CRPL Art. 55",
    )


def _birds_nest_recall(run: _Run) -> None:
    """A batch recalled: every buyer refunded plus 3x, the seller owed by the manufacturer."""
    clock, tag = run.clock, run.tag
    with unit_of_work(run.factory) as s:
        nest = stories.birds_nest_case(s, clock, FileStore(), f"{tag}r", buyers=4)
        recall = recalls.recall_batch(
            s,
            clock,
            f"demo-{tag}-recall",
            batch_id=nest.batch_id,
            finding="counterfeit",
            reason="no bird's nest in the batch",
            evidence=[nest.docs["independent_report"]],
            decided_by="reviewer:li",
        )
        done = remedies.execute_recall(s, clock, recall.id, decided_by="reviewer:li")
        owed_by_maker = sum(
            c["outstanding"] for c in remedies.list_claims(s, debtor=nest.refs["maker"])
        )
    for r in done:
        run.paid.add_row(
            "bird's-nest recall",
            r.buyer,
            _fmt(r.refund),
            _fmt(r.compensation),
            r.payer,
            "recall: refund + 3x",
        )
    run.console.print(
        f"[bold]The bird's-nest recall[/bold]: {len(done)} buyers refunded in full plus 3x; "
        f"the seller paid first and is owed {_fmt(owed_by_maker)} by the manufacturer."
    )
