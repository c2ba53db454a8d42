"""The fourth part of `xinren demo`: enforcement with due process. A merchant climbs the points
ladder to clearance for repeated counterfeiting; the honest shop's unjust fine is refused and
the buyer who harassed it is recognised; the abusive reporter is suspended."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from xinren.clock import FakeClock
from xinren.db import session_factory, unit_of_work
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.errors import Conflict
from xinren.money import Money
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.rules import notices
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind
from xinren.timers import service as timers


@dataclass(frozen=True, slots=True)
class _Run:
    factory: sessionmaker[Session]
    console: Console
    clock: FakeClock
    store: FileStore
    tag: str


def run_enforcement(engine: Engine, console: Console, clock: FakeClock) -> None:
    run = _Run(session_factory(engine), console, clock, FileStore(), secrets.token_hex(3))
    console.rule("[bold]Enforcement with due process (依规处罚)")
    _repeated_counterfeiting(run)
    shop = _unjust_fine_refused(run)
    _malicious_buyer(run, shop)
    _abusive_reporter(run, shop)


def _repeated_counterfeiting(run: _Run) -> None:
    """Four CF-1 violations climb the serious-points ladder to clearance (清退)."""
    factory, console, clock, tag = run.factory, run.console, run.clock, run.tag
    with unit_of_work(factory) as s:
        fake = stories.birds_nest_case(s, clock, run.store, f"{tag}f", buyers=1)
    shop, report = fake.refs["shop"], f"document:{fake.docs['independent_report']}"
    console.print(
        f"[bold]Repeated counterfeiting[/bold]: {shop}, rule CF-1 (12 serious points each), "
        "evidence: the independent lab's report."
    )
    for n in range(4):
        with unit_of_work(factory) as s:
            v = rules.decide(
                s,
                clock,
                f"demo-{tag}-cf-{n}",
                subject=shop,
                rule_id="CF-1",
                conduct_at=clock.now() - timedelta(hours=1),
                facts=f"counterfeit bird's nest found again (sampling {n + 1})",
                evidence=[report],
                source="inspection",
                decided_by="reviewer:wang",
                requested=[Requested(SanctionKind.PENALTY_PAYMENT)] if n == 0 else [],
            )
            total = rules.points(s, shop, clock.now())["serious"]
        steps = [s_ for s_ in v.sanctions if s_.cause == "ladder"]
        what = ", ".join(
            f"{x.kind.value} ({(x.ends_at - x.starts_at).days} days)" if x.ends_at else x.kind.value
            for x in steps
        )
        extra = " + penalty ¥5,000.00 from the deposit" if n == 0 else ""
        console.print(f"  violation {v.id}: {total} serious points -> {what}{extra}")
        clock.advance(days=30)
        timers.run_due(factory, clock)  # the restrictions end on their own
    with unit_of_work(factory) as s:
        party = parties.get(s, shop)
    console.print(
        f"  {shop} restrictions now: {', '.join(sorted(party.restrictions))}; its listings are "
        "removed and it can no longer list or take orders (清退)."
    )


def _unjust_fine_refused(run: _Run) -> str:
    """A fine the rule does not permit is refused and the deposit stays whole; returns the shop."""
    factory, console, clock, tag = run.factory, run.console, run.clock, run.tag
    with unit_of_work(factory) as s:
        honest = stories.phone_case(s, clock, run.store, f"{tag}h")
    shop = honest.refs["shop"]
    console.print(
        f"\n[bold]The honest shop[/bold] {shop}: malicious orders, then reports; a reviewer "
        "wants to fine it ¥3,000 for 'refusing after-sales' (AS-1)."
    )
    with unit_of_work(factory) as s:
        before = deposits.deposit_balance(s, shop)
    try:
        with unit_of_work(factory) as s:
            rules.decide(
                s,
                clock,
                f"demo-{tag}-fine",
                subject=shop,
                rule_id="AS-1",
                conduct_at=clock.now() - timedelta(hours=2),
                facts="the buyer says the shop refused a refund",
                evidence=[f"order:{honest.order_id}"],
                source="complaint",
                decided_by="reviewer:li",
                points_given=2,
                requested=[Requested(SanctionKind.PENALTY_PAYMENT, amount=300_000)],
            )
    except Conflict as err:
        console.print(f"  [green]refused[/green]: {err.detail}")
    with unit_of_work(factory) as s:
        after = deposits.deposit_balance(s, shop)
    console.print(f"  its deposit is untouched: {Money(before, 'CNY')} -> {Money(after, 'CNY')}.")
    return shop


def _malicious_buyer(run: _Run, shop: str) -> None:
    """The shop's complaint about a buyer's malicious orders is founded and counts against it."""
    clock, tag = run.clock, run.tag
    buyer = "buyer:malicious-" + tag
    with unit_of_work(run.factory) as s:
        complaint = notices.file_notice(
            s,
            clock,
            f"demo-{tag}-mo",
            reporter=shop,
            target=buyer,
            category="malicious_orders",
            text="12 orders in one hour, each refunded after delivery with a copied complaint",
        )
        notices.decide(
            s,
            clock,
            f"demo-{tag}-mo-d",
            complaint.id,
            outcome="founded",
            reason="order pattern and identical texts confirmed",
            decided_by="reviewer:li",
        )
        founded_against = len(notices.record(s, clock, buyer).founded_against)
    run.console.print(
        f"  the shop's complaint about {buyer}'s malicious orders is founded; "
        f"{founded_against} founded complaint(s) now count against that buyer."
    )


def _abusive_reporter(run: _Run, shop: str) -> None:
    """Six manifestly unfounded reports: the reporter is warned, then suspended."""
    console, clock, tag = run.console, run.clock, run.tag
    troll = "buyer:troll-" + tag
    console.print(
        f"\n[bold]The abusive reporter[/bold] {troll} reports the honest shop again and again."
    )
    for n in range(6):
        with unit_of_work(run.factory) as s:
            filed = notices.file_notice(
                s,
                clock,
                f"demo-{tag}-n{n}",
                reporter=troll,
                target=shop,
                category="counterfeit",
                text=f"fake goods!!! (report {n + 1})",
            )
            if filed.status == "open":
                notices.decide(
                    s,
                    clock,
                    f"demo-{tag}-n{n}-d",
                    filed.id,
                    outcome="manifestly_unfounded",
                    reason="no order, no evidence; the listing's batch passed inspection",
                    decided_by="reviewer:zhao",
                )
            record = notices.record(s, clock, troll)
        note = {"warned": " -> warned", "suspended": " -> suspended"}.get(record.standing.value, "")
        state = (
            "not processed (reporter suspended)"
            if filed.status == "not_processed"
            else ("manifestly unfounded")
        )
        console.print(f"  report {n + 1}: {state}{note}")
    until = record.suspended_until.date() if record.suspended_until else None
    console.print(
        f"  {troll}: {record.manifestly_unfounded_in_window} manifestly unfounded notices; "
        f"suspended until {until}. No sanction reached the honest shop."
    )
