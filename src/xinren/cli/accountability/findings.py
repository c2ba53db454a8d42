"""`xinren chain | liability | recall`: trace an order's goods, assess who answers for a finding
and why, recall a batch. The package registers these on the top-level app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.markup import escape

from xinren.cli.accountability.helpers import (
    AsJson,
    Reviewer,
    key_of,
    one_transaction,
    print_json,
    short_sha,
    table_of,
    when_text,
)
from xinren.cli.common import console, friendly_errors
from xinren.clock import SystemClock
from xinren.liability.model import Finding


@friendly_errors
def chain(order_id: int, as_json: AsJson = False) -> None:
    """Trace an order's goods back to their maker: custodians, steps and gaps (in red)."""
    from xinren.provenance import chain as chains

    with one_transaction() as session:
        body = chains.as_dict(*chains.chain_of(session, order_id))
    if as_json:
        print_json(body)
        return
    batch, product, brand = body["batch"], body["product"], body["brand"]
    console.print(
        f"[bold]order {order_id}[/bold]: listing {body['listing']}, batch {batch['id']} "
        f"(lot {escape(batch['lot'])}), {escape(product['name'])}, brand "
        f"{escape(brand['name'])} of {escape(brand['owner'])}"
    )
    console.print("custodians: " + " → ".join(escape(c) for c in body["custodians"]))
    rows = [
        (
            s["kind"],
            when_text(s["at"]),
            s["from"],
            s["to"],
            s["note"],
            ", ".join(map(short_sha, s["documents"])),
        )
        for s in body["steps"]
    ]
    console.print(table_of("steps", ("step", "at", "from", "to", "what", "documents"), rows))
    for gap in body["gaps"]:
        console.print(f"[red]gap: {gap['kind']}: {escape(gap['detail'])}[/red]")
    for event_id in body["ignored_events"]:
        console.print(f"[dim]ignored, declared erroneous: {escape(event_id)}[/dim]")
    if body["complete"]:
        console.print("[green]no gaps[/green]")


def _show_liable(title: str, liable: Sequence[Mapping[str, Any]]) -> None:
    if not liable:
        return
    console.print(f"[bold]{title}[/bold]")
    for x in liable:
        console.print(f"  {escape(x['party'])} ({x['role']})")
        for fact in x["facts"]:
            console.print(f"    • {escape(fact)}")
        if x["documents"]:
            console.print("    documents: " + ", ".join(map(short_sha, x["documents"])))


@friendly_errors
def liability(
    order_id: int,
    finding: Annotated[Finding, typer.Option(help="what is wrong with the goods")],
    by: Reviewer,
    as_json: AsJson = False,
) -> None:
    """Assess who answers for a finding on an order, record the assessment, and say why."""
    from xinren.liability import service

    with one_transaction() as session:
        result, _ = service.assess(session, SystemClock(), order_id, finding, assessed_by=by)
    body = result.as_dict()
    if as_json:
        print_json(body)
        return
    console.print(
        f"[bold]order {order_id}: {finding.value}[/bold] → rule {escape(result.rule)} "
        f"(policy {escape(result.policy_version)})"
    )
    _show_liable("primary", body["primary"])
    _show_liable("joint", body["joint"])
    _show_liable("pays first", [body["pays_first"]])
    _show_liable("recover from", body["recover_from"])
    _show_liable("cleared", body["cleared"])
    console.print(f"[bold]basis[/bold]: {escape(result.basis)}")


@friendly_errors
def recall(
    batch_id: int,
    finding: Annotated[Finding, typer.Option(help="what is wrong with the batch")],
    reason: Annotated[str, typer.Option(help="what the buyers are told")],
    evidence: Annotated[list[str], typer.Option(help="a document's sha256; repeat for more")],
    by: Reviewer,
    key: Annotated[
        str | None, typer.Option(help="idempotency key; default: from batch, finding, evidence")
    ] = None,
) -> None:
    """Recall a batch: notify every buyer of it and record the refund and compensation owed."""
    from xinren.money import Money
    from xinren.recalls import service as recalls

    with one_transaction() as session:
        done = recalls.recall_batch(
            session,
            SystemClock(),
            key or key_of("recall", batch_id, finding, evidence),
            batch_id=batch_id,
            finding=finding,
            reason=reason,
            evidence=evidence,
            decided_by=by,
        )
    title = f"recall {done.id} of batch {batch_id}: {len(done.buyers)} buyer(s) reached"
    if done.replayed:
        title += " (opened before; nothing changed)"
    rows = [
        (
            t.order_id,
            t.buyer,
            Money(t.refund, t.currency).format(),
            Money(t.compensation, t.currency).format(),
            t.basis,
        )
        for t in done.tasks
    ]
    console.print(table_of(title, ("order", "buyer", "refund", "compensation", "basis"), rows))
    for currency, sums in sorted(done.totals().items()):
        console.print(
            f"total: refunds {Money(sums['refund'], currency).format()}, compensation "
            f"{Money(sums['compensation'], currency).format()}"
        )
