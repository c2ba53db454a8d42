"""`xinren cases | remedies`: complaints and what they pay, from a terminal; one transaction per
command, so a refused decision has paid nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from xinren.cases import service as cases
from xinren.cli.common import console, friendly_errors, opened
from xinren.clock import SystemClock
from xinren.db import session_factory, unit_of_work
from xinren.ids import payload_hash
from xinren.remedies import service as remedies

app = typer.Typer()
cases_app = typer.Typer(help="Buyer complaints: file, answer, decide, appeal, metrics.")
remedies_app = typer.Typer(help="The guarantee fund, recovery claims, recall payments.")
app.add_typer(cases_app, name="cases", no_args_is_help=True)
app.add_typer(remedies_app, name="remedies", no_args_is_help=True)

By = Annotated[str, typer.Option("--by", help="who acts, e.g. buyer:7 or reviewer:li")]


@contextmanager
def _session() -> Iterator[Session]:
    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        yield session


def _show(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


@cases_app.command("file")
@friendly_errors
def cases_file(
    order_id: int,
    by: By,
    kind: Annotated[str, typer.Option("--kind")],
    statement: Annotated[str, typer.Option("--statement")],
    evidence: Annotated[list[str] | None, typer.Option("--evidence")] = None,
) -> None:
    """The buyer complains about its order."""
    key = f"cli:case:{payload_hash([order_id, by, kind, statement])[:32]}"
    with _session() as s:
        _show(
            cases.file_case(
                s,
                SystemClock(),
                key,
                order_id=order_id,
                buyer=by,
                kind=kind,
                statement=statement,
                evidence=[(ref, "") for ref in evidence or []],
            )
        )


@cases_app.command("respond")
@friendly_errors
def cases_respond(
    case_id: int, by: By, statement: Annotated[str, typer.Option("--statement")]
) -> None:
    with _session() as s:
        _show(cases.respond(s, SystemClock(), case_id, merchant=by, statement=statement))


@cases_app.command("decide")
@friendly_errors
def cases_decide(
    case_id: int,
    by: By,
    outcome: Annotated[
        str, typer.Option("--outcome", help="for_buyer | partly_for_buyer | for_merchant")
    ],
    finding: Annotated[str, typer.Option("--finding")],
    reasons: Annotated[str, typer.Option("--reasons")],
    relied_on: Annotated[list[str], typer.Option("--relied-on", help="e.g. order:12")],
    refund: Annotated[int | None, typer.Option("--refund")] = None,
    compensation: Annotated[int | None, typer.Option("--compensation")] = None,
) -> None:
    """Decide with reasons; the remedies are paid in the same transaction (once)."""
    with _session() as s:
        _show(
            cases.decide(
                s,
                SystemClock(),
                f"cli:case-decision:{case_id}",
                case_id,
                decided_by=by,
                outcome=outcome,
                finding=finding,
                reasons=reasons,
                relied_on=relied_on,
                refund=refund,
                compensation=compensation,
            )
        )


@cases_app.command("show")
@friendly_errors
def cases_show(case_id: int) -> None:
    with _session() as s:
        _show(cases.get_case(s, case_id))


@cases_app.command("metrics")
@friendly_errors
def cases_metrics() -> None:
    """By type and merchant; time to decision; share for the buyer; compensation; recovery."""
    with _session() as s:
        _show(cases.metrics(s))


@remedies_app.command("fund")
@friendly_errors
def remedies_fund() -> None:
    """The guarantee fund now: balance, paid first, recovered, written off, still owed."""
    with _session() as s:
        _show(remedies.fund_position(s))


@remedies_app.command("top-up")
@friendly_errors
def remedies_top_up(
    amount: int,
    key: Annotated[str, typer.Option("--key", help="a unique key, e.g. fund-2026-11")],
    currency: Annotated[str, typer.Option("--currency")] = "CNY",
) -> None:
    with _session() as s:
        remedies.top_up_fund(s, SystemClock(), key, amount, currency)
        _show(remedies.fund_position(s))


@remedies_app.command("claims")
@friendly_errors
def remedies_claims(debtor: Annotated[str | None, typer.Option("--debtor")] = None) -> None:
    with _session() as s:
        _show(remedies.list_claims(s, debtor=debtor))


@remedies_app.command("write-off")
@friendly_errors
def remedies_write_off(
    claim_id: int, by: By, reason: Annotated[str, typer.Option("--reason")]
) -> None:
    with _session() as s:
        _show(remedies.write_off(s, SystemClock(), claim_id, reason=reason, decided_by=by))


@remedies_app.command("execute-recall")
@friendly_errors
def remedies_execute_recall(recall_id: int, by: By) -> None:
    """Pay a recall's pending remedy tasks (a repeat pays nobody twice)."""
    with _session() as s:
        paid = remedies.execute_recall(s, SystemClock(), recall_id, decided_by=by)
        _show(
            [
                {
                    "order": r.order_id,
                    "buyer": r.buyer,
                    "refund": r.refund,
                    "compensation": r.compensation,
                    "payer": r.payer,
                    "fund_paid": r.fund_paid,
                }
                for r in paid
            ]
        )
