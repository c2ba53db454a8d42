"""The third part of `xinren demo`: who answers for quality. The article's phone and
bird's-nest cases, through the services: the chain, the liability assignment with its reasons,
and the recall's reach."""

from __future__ import annotations

import secrets

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from xinren.clock import FakeClock
from xinren.db import session_factory, unit_of_work
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.liability import service as liability
from xinren.liability.model import Assignment, Finding
from xinren.money import Money
from xinren.provenance.model import Chain
from xinren.recalls import service as recalls


def print_chain(console: Console, chain: Chain) -> None:
    table = Table(title="chain of custody", show_lines=False)
    for column in ("step", "when", "from", "to", "documents"):
        table.add_column(column)
    for s in chain.steps:
        table.add_row(
            s.kind,
            s.at.date().isoformat() if s.at else "",
            s.from_party or "",
            s.to_party or "",
            ", ".join(d[:10] + "…" for d in s.documents),
        )
    console.print(table)
    if chain.gaps:
        for gap in chain.gaps:
            console.print(f"  [red]gap[/red] {gap.kind.value}: {gap.detail}")
    else:
        console.print(
            "  [green]no gaps[/green]: every hand-over evidenced, every trader authorized"
        )


def print_assignment(console: Console, result: Assignment) -> None:
    console.print(
        f"  finding [bold]{result.finding.value}[/bold] -> rule [bold]{result.rule}[/bold] "
        f"(liability policy {result.policy_version})"
    )
    for label, people in (
        ("primarily liable", result.primary),
        ("jointly liable", result.joint),
        ("pays the buyer first", (result.pays_first,)),
        ("may recover from", result.recover_from),
    ):
        if not people:
            continue
        console.print(f"  [bold]{label}[/bold]: {', '.join(p.party for p in people)}")
    for p in (*result.primary, *result.joint):
        for fact in p.facts:
            console.print(f"    - {p.party}: {fact}")
    for p in result.cleared:
        console.print(f"  [green]cleared[/green] {p.party}: {'; '.join(p.facts)}")
    console.print(f"  [dim]basis: {result.basis}[/dim]")


def run_accountability(engine: Engine, console: Console, clock: FakeClock) -> None:
    factory = session_factory(engine)
    store = FileStore()
    tag = secrets.token_hex(3)
    console.rule("[bold]Accountability: who answers for quality (谁为质量负责)")

    with unit_of_work(factory) as s:
        phone = stories.phone_case(s, clock, store, tag)
    console.print(
        f"[bold]The phone[/bold] (order {phone.order_id}): the host said '5G, 256 GB' on stream; "
        "the product is a 4G, 128 GB model. The supplier says the phones came from the "
        "manufacturer as they were."
    )
    with unit_of_work(factory) as s:
        result, chain = liability.assess(
            s, clock, phone.order_id, Finding.NOT_AS_DESCRIBED, assessed_by="reviewer:demo"
        )
    print_chain(console, chain)
    print_assignment(console, result)

    with unit_of_work(factory) as s:
        nest = stories.birds_nest_case(s, clock, store, tag, buyers=8)
    console.print(
        f"\n[bold]The bird's nest[/bold] (order {nest.order_id}): the seller's own lab says it "
        "is bird's nest; an independent accredited lab, sampling later, says sugar water."
    )
    with unit_of_work(factory) as s:
        found, _ = liability.facts(s, nest.order_id, Finding.COUNTERFEIT)
        result, chain = liability.assess(
            s, clock, nest.order_id, Finding.COUNTERFEIT, assessed_by="reviewer:demo"
        )
    print_chain(console, chain)
    if found.prevailing is not None:
        report = found.prevailing.report
        console.print(
            f"  prevailing evidence: the report of {report.lab} sampled {report.sampled_on}: "
            f"{report.finding}"
        )
        for why in found.prevailing_why:
            console.print(f"    it {why}")
    print_assignment(console, result)
    with unit_of_work(factory) as s:
        recall = recalls.recall_batch(
            s,
            clock,
            f"demo-{tag}-recall",
            batch_id=nest.batch_id,
            finding=Finding.COUNTERFEIT,
            reason="independent sampling found no bird's nest in the batch",
            evidence=[nest.docs["independent_report"]],
            decided_by="reviewer:demo",
        )
    totals = recall.totals().get("CNY", {"refund": 0, "compensation": 0})
    console.print(
        f"  [bold]recall {recall.id}[/bold] of batch {recall.batch_id}: reached "
        f"{len(recall.buyers)} buyers on {len(recall.tasks)} orders (one cancelled before "
        f"shipment is not reached); each notified on the event feed; remedy tasks pending: "
        f"refunds {Money(totals['refund'], 'CNY')} + compensation "
        f"{Money(totals['compensation'], 'CNY')} (3x the price, at least ¥500, CRPL Art. 55)."
    )
