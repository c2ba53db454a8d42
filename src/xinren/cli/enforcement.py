"""`xinren rules | violations | appeals`: the published rulebook and due-process decisions from
a terminal, through the same services as the API; each command is one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from xinren.api.routes.rules import book_json, violation_json
from xinren.cli.common import console, friendly_errors, opened
from xinren.clock import SystemClock
from xinren.db import session_factory, unit_of_work
from xinren.errors import ValidationFailed
from xinren.ids import payload_hash
from xinren.rules import letter, notices, rulebooks, statement
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind

app = typer.Typer()
rules_app = typer.Typer(help="The published rulebook: list, show, validate, backtest.")
violations_app = typer.Typer(help="Violation decisions and their statements of reasons.")
appeals_app = typer.Typer(help="Appeals against violation decisions.")
app.add_typer(rules_app, name="rules", no_args_is_help=True)
app.add_typer(violations_app, name="violations", no_args_is_help=True)
app.add_typer(appeals_app, name="appeals", no_args_is_help=True)

Reviewer = Annotated[str, typer.Option("--by", help="who decides, e.g. reviewer:wang")]


@contextmanager
def _session() -> Iterator[Session]:
    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        yield session


@rules_app.command("list")
@friendly_errors
def rules_list() -> None:
    """Every published version and its rules."""
    for book in reversed(rulebooks.published()):
        table = Table(
            title=f"rulebook {book.version}: {book.effective_from} to {book.effective_to or '…'}"
        )
        for column in ("rule", "title", "severity", "points", "sanctions permitted"):
            table.add_column(column)
        for r in book.rules.values():
            p = r.points
            pts = str(p.fixed) if p.fixed is not None else f"{p.low}-{p.high}"
            table.add_row(
                r.id,
                f"{r.title_en} / {r.title_zh}",
                r.severity.value,
                pts,
                ", ".join(sorted(s.value for s in r.sanctions)),
            )
        console.print(table)


@rules_app.command("show")
@friendly_errors
def rules_show(version: str, rule_id: Annotated[str | None, typer.Argument()] = None) -> None:
    """One version (or one rule of it) as JSON."""
    data = book_json(rulebooks.version(version))
    if rule_id is not None:
        found = [r for r in data["rules"] if r["id"] == rule_id]
        if not found:
            raise ValidationFailed(f"rulebook {version} has no rule {rule_id}", field="rule_id")
        data = found[0]
    console.print_json(json.dumps(data, ensure_ascii=False))


@rules_app.command("validate")
@friendly_errors
def rules_validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a rulebook file (e.g. a draft) without installing it."""
    book = rulebooks.parse_file(file)
    console.print(
        f"[green]valid[/green]: rulebook {book.version} ({book.status}), "
        f"{len(book.rules)} rules, effective from {book.effective_from}"
    )


@rules_app.command("backtest")
@friendly_errors
def rules_backtest(
    draft: Annotated[str, typer.Argument(help="a draft version (e.g. 2026.2) or a YAML file")],
) -> None:
    """Run a draft over every past violation and show which sanctions would appear or
    disappear, for which merchants; nothing is written (shadow mode)."""
    path = Path(draft)
    book = rulebooks.parse_file(path) if path.exists() else rulebooks.version(draft)
    with _session() as session:  # backtest only reads: the unit of work commits nothing
        changes = rules.backtest(session, book)
    if not changes:
        console.print(f"draft {book.version} changes nothing for past violations")
        return
    table = Table(title=f"draft {book.version} against the rules in force")
    for column in ("subject", "change", "sanction"):
        table.add_column(column)
    for c in changes:
        colour = "red" if c.change == "appears" else "green"
        table.add_row(c.subject, f"[{colour}]{c.change}[/{colour}]", c.sanction)
    console.print(table)


@violations_app.command("decide")
@friendly_errors
def violations_decide(
    subject: str,
    rule_id: Annotated[str, typer.Option("--rule")],
    conduct_at: Annotated[datetime, typer.Option("--conduct-at", help="ISO time with offset")],
    facts: Annotated[str, typer.Option("--facts")],
    evidence: Annotated[list[str], typer.Option("--evidence", help="e.g. document:<sha256>")],
    source: Annotated[str, typer.Option("--source")],
    by: Reviewer,
    sanction: Annotated[
        list[str] | None, typer.Option("--sanction", help="kind[:days][@target]")
    ] = None,
    points: Annotated[int | None, typer.Option("--points")] = None,
    key: Annotated[str | None, typer.Option("--key")] = None,
) -> None:
    """Record a violation under the rule in force at the conduct."""
    if conduct_at.tzinfo is None:
        raise ValidationFailed("--conduct-at needs a UTC offset, e.g. +08:00", field="conduct_at")
    requested = []
    for item in sanction or []:
        head, _, target = item.partition("@")
        kind, _, days = head.partition(":")
        try:
            requested.append(
                Requested(SanctionKind(kind), int(days) if days else None, None, target or None)
            )
        except ValueError:
            raise ValidationFailed(
                f"--sanction {item!r}: kind[:days][@target] with kind one of "
                f"{', '.join(k.value for k in SanctionKind)}",
                field="sanction",
            ) from None
    with _session() as s:
        v = rules.decide(
            s,
            SystemClock(),
            key or f"cli:{subject}:{rule_id}:{conduct_at.isoformat()}",
            subject=subject,
            rule_id=rule_id,
            conduct_at=conduct_at,
            facts=facts,
            evidence=evidence,
            source=source,
            decided_by=by,
            requested=requested,
            points_given=points,
        )
    console.print_json(json.dumps(violation_json(v), ensure_ascii=False))


@violations_app.command("show")
@friendly_errors
def violations_show(violation_id: int) -> None:
    with _session() as s:
        v = rules.get_violation(s, violation_id)
    console.print_json(json.dumps(violation_json(v), ensure_ascii=False))


@violations_app.command("statement")
@friendly_errors
def violations_statement(
    violation_id: int,
    lang: Annotated[str, typer.Option("--lang")] = "en",
    dsa: Annotated[bool, typer.Option("--dsa", help="print the DSA JSON instead")] = False,
) -> None:
    """The statement of reasons: the letter to the merchant, or the DSA database JSON."""
    with _session() as s:
        v = rules.get_violation(s, violation_id)
        book = rulebooks.version(v.rule_version)
        totals = rules.points(s, v.subject, v.decided_at)
    rule = book.rule(v.rule_id)
    if dsa:
        console.print_json(json.dumps(statement.statement(v, rule, book), ensure_ascii=False))
    else:
        console.print(letter.plain_text(v, rule, book, lang, totals=totals))


@appeals_app.command("file")
@friendly_errors
def appeals_file(
    violation_id: int,
    appellant: Annotated[str, typer.Option("--by", help="the sanctioned party")],
    grounds: Annotated[str, typer.Option("--grounds")],
    key: Annotated[str | None, typer.Option("--key")] = None,
) -> None:
    with _session() as s:
        appeal = rules.file_appeal(
            s,
            SystemClock(),
            key or f"cli:appeal:{violation_id}:{appellant}",
            violation_id,
            appellant=appellant,
            grounds=grounds,
        )
    console.print_json(json.dumps(appeal, ensure_ascii=False))


@appeals_app.command("decide")
@friendly_errors
def appeals_decide(
    appeal_id: int,
    outcome: Annotated[str, typer.Option("--outcome", help="upheld | reduced | overturned")],
    reasons: Annotated[str, typer.Option("--reasons")],
    by: Reviewer,
    new_points: Annotated[int | None, typer.Option("--points")] = None,
    lift: Annotated[list[int] | None, typer.Option("--lift", help="sanction id to lift")] = None,
) -> None:
    """Decide an appeal (by a reviewer who took no part in the decision)."""
    with _session() as s:
        decided = rules.decide_appeal(
            s,
            SystemClock(),
            appeal_id,
            outcome=outcome,
            reasons=reasons,
            reviewer=by,
            new_points=new_points,
            lift=lift or [],
        )
    console.print_json(json.dumps(decided, ensure_ascii=False))


notices_app = typer.Typer(help="Notices (reports) and reporters' records.")
app.add_typer(notices_app, name="notices", no_args_is_help=True)


@notices_app.command("file")
@friendly_errors
def notices_file(
    target: str,
    reporter: Annotated[str, typer.Option("--by", help="who reports, e.g. buyer:7")],
    category: Annotated[str, typer.Option("--category")],
    text: Annotated[str, typer.Option("--text")],
    key: Annotated[str | None, typer.Option("--key")] = None,
) -> None:
    """Report a listing or merchant (or, as a merchant, a buyer's malicious orders)."""
    with _session() as s:
        notice = notices.file_notice(
            s,
            SystemClock(),
            key or f"cli:notice:{payload_hash([reporter, target, category, text])[:32]}",
            reporter=reporter,
            target=target,
            category=category,
            text=text,
        )
    console.print_json(json.dumps(notice.as_dict(), ensure_ascii=False, default=str))


@notices_app.command("queue")
@friendly_errors
def notices_queue(limit: Annotated[int, typer.Option("--limit")] = 50) -> None:
    """Open notices, trusted flaggers first."""
    with _session() as s:
        found = notices.queue(s, limit=limit)
    table = Table(title=f"{len(found)} open notice(s)")
    for column in ("id", "trusted", "reporter", "target", "category", "filed"):
        table.add_column(column)
    for n in found:
        table.add_row(
            str(n.id),
            "yes" if n.trusted else "",
            n.reporter,
            n.target,
            n.category,
            n.created_at.isoformat(timespec="minutes"),
        )
    console.print(table)


@notices_app.command("decide")
@friendly_errors
def notices_decide(
    notice_id: int,
    outcome: Annotated[
        str, typer.Option("--outcome", help="founded | unfounded | manifestly_unfounded")
    ],
    reason: Annotated[str, typer.Option("--reason")],
    by: Reviewer,
    violation_id: Annotated[int | None, typer.Option("--violation")] = None,
) -> None:
    with _session() as s:
        notice = notices.decide(
            s,
            SystemClock(),
            f"cli:notice-decision:{notice_id}",
            notice_id,
            outcome=outcome,
            reason=reason,
            decided_by=by,
            violation_id=violation_id,
        )
    console.print_json(json.dumps(notice.as_dict(), ensure_ascii=False, default=str))


@notices_app.command("record")
@friendly_errors
def notices_record(ref: str) -> None:
    """A party's record as a reporter, and the founded notices against it."""
    with _session() as s:
        record = notices.record(s, SystemClock(), ref)
    console.print_json(json.dumps(record.as_dict(), ensure_ascii=False, default=str))
