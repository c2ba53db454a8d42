"""`xinren parties`: register traders, show and list them, record a reviewer's decision, submit
their information."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from xinren.cli.accountability.helpers import (
    InputFile,
    Reviewer,
    arguments_for,
    key_of,
    located,
    one_transaction,
    read_data,
    table_of,
    when_text,
)
from xinren.cli.common import console, friendly_errors
from xinren.clock import Clock, SystemClock
from xinren.errors import Conflict, ValidationFailed
from xinren.parties.model import KINDS, Status, TraderInfo

parties_app = typer.Typer(help="Traders: register, verify, show.", no_args_is_help=True)


def trader_info(data: Any, where: str) -> TraderInfo:
    """Trader information from a file, checked here so every error names its place there."""
    info = TraderInfo(**arguments_for(TraderInfo, data, where))
    with located(where):
        info.check()
    return info


def decide_party(
    session: Session, clock: Clock, ref: str, to: Status, reason: str, by: str
) -> bool:
    """Record a reviewer's decision once; returns whether it changed anything.

    The key is ref + decision + reason: the same command again is a no-op, but the same reason
    cannot record a later, second decision of that kind (it would be silently skipped)."""
    from xinren.parties import service as parties

    before = parties.get(session, ref).status
    after = parties.decide(
        session, clock, key_of(ref, to, reason), ref, to, reason=reason, decided_by=by
    ).status
    if after is not to:
        raise Conflict(
            f"this decision ({to.value}, with this reason) was recorded for {ref} before, and "
            f"{ref} is {after.value} now; give the new decision its own --reason",
            field="reason",
        )
    return before is not to


@parties_app.command("register")
@friendly_errors
def parties_register(
    ref: Annotated[str, typer.Argument(help="<kind>:<id>, e.g. merchant:acme")],
    name: Annotated[str, typer.Option(help="the display name")],
    info: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="trader information, a JSON file"),
    ] = None,
    accreditation: Annotated[str | None, typer.Option(help="a lab's CNAS/CMA number")] = None,
    affiliated_with: Annotated[str | None, typer.Option(help="the party it belongs to")] = None,
) -> None:
    """Register a party; with --info (legal_name, address, registration_number,
    payment_account, contact_email or contact_phone, self_certified) it awaits review."""
    from xinren.parties import service as parties

    trader = trader_info(read_data(info), "info") if info else None
    with one_transaction() as session:
        party = parties.register(
            session,
            SystemClock(),
            ref,
            display_name=name,
            info=trader,
            accreditation=accreditation,
            affiliated_with=affiliated_with,
        )
    console.print(f"{escape(party.ref)} registered: {party.status.value}")


@parties_app.command("show")
@friendly_errors
def parties_show(ref: str) -> None:
    """Show a party's full identity and its verification history."""
    from xinren.parties import service as parties

    with one_transaction() as session:
        party, history = parties.get(session, ref), parties.history(session, ref)
    console.print(table_of(ref, ("field", "value"), list(party.full().items())))
    rows = [
        (when_text(h["at"]), f"{h['from']} → {h['to']}", h["reason"], h["decided_by"])
        for h in history
    ]
    console.print(table_of("verification history", ("at", "status", "reason", "by"), rows))


@parties_app.command("list")
@friendly_errors
def parties_list(
    kind: Annotated[str | None, typer.Option(help=", ".join(KINDS))] = None,
    status: Annotated[Status | None, typer.Option()] = None,
) -> None:
    """List parties, optionally of one kind or status."""
    from xinren.parties import service as parties

    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(KINDS)}", field="kind")
    with one_transaction() as session:
        found = parties.list_parties(
            session, kind=kind, status=status.value if status else None, limit=10_000
        )
    rows = [(p.ref, p.display_name, p.status.value, p.accreditation) for p in found]
    console.print(
        table_of(f"{len(rows)} part(y/ies)", ("ref", "name", "status", "accreditation"), rows)
    )


def _decision_command(verb: str, to: Status) -> None:
    @parties_app.command(verb, help=f"Record a reviewer's decision: the trader is {to.value}.")
    @friendly_errors
    def command(
        ref: str,
        reason: Annotated[str, typer.Option(help="why; kept in the party's history")],
        by: Reviewer,
    ) -> None:
        with one_transaction() as session:
            changed = decide_party(session, SystemClock(), ref, to, reason, by)
        console.print(f"{escape(ref)} is {to.value}" + ("" if changed else " (already recorded)"))


for _verb, _to in (
    ("verify", Status.VERIFIED),
    ("reject", Status.REJECTED),
    ("suspend", Status.SUSPENDED),
):
    _decision_command(_verb, _to)


@parties_app.command("submit-info")
@friendly_errors
def parties_submit_info(ref: str, file: InputFile) -> None:
    """Submit or correct a trader's information (a JSON file); it then awaits verification."""
    from xinren.parties import service as parties

    info = trader_info(read_data(file), "info")
    with one_transaction() as session:
        party = parties.submit_info(
            session, SystemClock(), key_of(ref, asdict(info)), ref, info, actor=ref
        )
    console.print(f"{escape(ref)} is {party.status.value}")
