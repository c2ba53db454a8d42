"""DSA statements of reasons, pure.

Every restrictive decision goes to the Commission's DSA Transparency Database as a statement of
reasons (DSA Art. 17 and 24(5)); the merchant gets the same decision as a plain letter
(`rules.letter`). Both are built from a violation record, its rule and its rulebook, without the
database or a clock.
The schemas restate the database's submission rules (packaged in `dsa_schema/`), read once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from xinren.errors import Conflict, XinrenError
from xinren.money import MINOR_UNITS
from xinren.parties.model import KINDS as party_kinds
from xinren.rules.model import (
    Automation,
    Rule,
    Rulebook,
    SanctionKind,
    SanctionRecord,
    Source,
    ViolationRecord,
)

STATEMENT_SCHEMA = "statement-of-reasons.schema.json"
BATCH_SCHEMA = "statements-batch.schema.json"
STATEMENT_ID = "xinren:dsa-statement-of-reasons"  # the batch schema's $ref to one statement
BATCH_SIZE = 100

K = SanctionKind
# Which sanctions set which decision field, lightest first: a single-valued field takes the
# heaviest present. A penalty outweighs a freeze: money lost, not merely held.
_VISIBILITY = {
    K.LISTING_REMOVAL: "DECISION_VISIBILITY_CONTENT_REMOVED",
    K.TRAFFIC_RESTRICTION: "DECISION_VISIBILITY_CONTENT_DEMOTED",
}
_SINGLE: tuple[tuple[str, str, dict[SanctionKind, str]], ...] = (
    (
        "decision_monetary",
        "end_date_monetary_restriction",
        {
            K.SETTLEMENT_FREEZE: "DECISION_MONETARY_SUSPENSION",
            K.PENALTY_PAYMENT: "DECISION_MONETARY_OTHER",
        },
    ),
    (
        "decision_provision",
        "end_date_service_restriction",
        {
            K.NEW_LISTING_BAN: "DECISION_PROVISION_PARTIAL_SUSPENSION",
            K.SUSPENSION: "DECISION_PROVISION_TOTAL_SUSPENSION",
        },
    ),
    (
        "decision_account",
        "end_date_account_restriction",
        {K.SUSPENSION: "DECISION_ACCOUNT_SUSPENDED", K.CLEARANCE: "DECISION_ACCOUNT_TERMINATED"},
    ),
)
_SOURCE = {
    Source.NOTICE: "SOURCE_ARTICLE_16",
    Source.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    Source.COMPLAINT: "SOURCE_TYPE_OTHER_NOTIFICATION",
}
_AUTOMATED = {
    Automation.FULLY: "AUTOMATED_DECISION_FULLY",
    Automation.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    Automation.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


# --- schemas and validation ---


@cache
def schema(name: str = STATEMENT_SCHEMA) -> dict[str, Any]:
    """One of the packaged DSA schemas, parsed."""
    text = resources.files("xinren.rules").joinpath(f"dsa_schema/{name}").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _format_checker() -> FormatChecker:
    """Check the formats the schemas name ourselves, independent of optional format packages."""
    checker = FormatChecker(formats=())

    @checker.checks("date", raises=ValueError)
    def _is_date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(_DATE.match(value)) and date.fromisoformat(value) is not None

    @checker.checks("uri")
    def _is_uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI.match(value))

    return checker


@cache
def _validator(name: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        STATEMENT_ID, Resource.from_contents(schema(STATEMENT_SCHEMA))
    )
    return Draft202012Validator(schema(name), registry=registry, format_checker=_format_checker())


def _check(name: str, instance: Mapping[str, Any], what: str) -> None:
    """We build statements ourselves, so one the database would refuse is our bug: a 500."""
    error = best_match(_validator(name).iter_errors(instance))
    if error is not None:
        path = error.json_path.removeprefix("$.")
        raise XinrenError(
            f"{what} breaks the DSA Transparency Database schema at {path}: "
            f"{_clip(error.message, 300)}",
            field=path,
        )


def validate(statement: Mapping[str, Any]) -> None:
    """Raise `XinrenError` naming the first field the database would refuse."""
    _check(STATEMENT_SCHEMA, statement, f"statement {statement.get('puid', '?')}")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit(text: str, field: str) -> str:
    """`text` cut to the schema's maxLength for `field`."""
    return _clip(text, int(schema()["properties"][field]["maxLength"]))


# --- the statement of reasons ---


def _applied(v: ViolationRecord) -> list[SanctionRecord]:
    """The sanctions in force or served; a reversed one was never a restriction to report."""
    return [s for s in v.sanctions if s.status in ("active", "ended")]


def _day(at: datetime | None) -> str | None:
    return at.date().isoformat() if at is not None else None


def _end(sanctions: Sequence[SanctionRecord]) -> str | None:
    """The last end date, or None (permanent) if any of them has none."""
    ends = [s.ends_at for s in sanctions if s.ends_at is not None]
    return _day(max(ends)) if ends and len(ends) == len(sanctions) else None


def _money(amount: int, currency: str) -> str:
    digits = MINOR_UNITS.get(currency, 2)
    return f"{currency} {Decimal(amount).scaleb(-digits):,.{digits}f}"


def _monetary_other(applied: Sequence[SanctionRecord], currency: str) -> str:
    """What the penalty took, and any freeze alongside it (the field holds only one code)."""
    amount = sum(s.amount or 0 for s in applied if s.kind is K.PENALTY_PAYMENT)
    text = (
        f"penalty of {_money(amount, currency)} deducted from the deposit"
        if amount
        else "penalty payment ordered; the deposit held nothing to deduct"
    )
    frozen = [s for s in applied if s.kind is K.SETTLEMENT_FREEZE]
    if frozen:
        end = _end(frozen)
        text += f"; settlements also frozen {f'until {end}' if end else 'with no end date'}"
    return _fit(text, "decision_monetary_other")


def _decisions(applied: Sequence[SanctionRecord], currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    shown = [s for s in applied if s.kind in _VISIBILITY]
    if shown:
        kinds = {s.kind for s in shown}
        out["decision_visibility"] = [v for k, v in _VISIBILITY.items() if k in kinds]
        out["end_date_visibility_restriction"] = _end(shown)
    for field, end_field, table in _SINGLE:
        mine = [s for s in applied if s.kind in table]
        if mine:
            kinds = {s.kind for s in mine}
            out[field] = table[next(k for k in reversed(table) if k in kinds)]
            out[end_field] = _end(mine)  # the restriction lasts as long as its longest part
    if out.get("decision_monetary") == "DECISION_MONETARY_OTHER":
        out["decision_monetary_other"] = _monetary_other(applied, currency)
    warnings = [s for s in applied if s.kind is K.WARNING]
    if not out and warnings:  # a warning alone restricts nothing the other codes name
        out["decision_visibility"] = ["DECISION_VISIBILITY_OTHER"]
        out["decision_visibility_other"] = "warning"
        out["end_date_visibility_restriction"] = _end(warnings)
    return out


def _ground(rule: Rule, book: Rulebook) -> dict[str, Any]:
    explanation = _fit(f"{rule.title_en}: {rule.description}", "illegal_content_explanation")
    if rule.dsa["ground"] == "illegal":
        legal = rule.dsa.get("legal_ground")
        if not legal:
            raise XinrenError(f"rule {rule.id} of {book.version} names no dsa.legal_ground")
        return {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": _fit(str(legal), "illegal_content_legal_ground"),
            "illegal_content_explanation": explanation,
        }
    ground = rule.dsa.get("incompatible_ground") or f"Xinren rulebook {book.version}, {rule.id}"
    return {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": _fit(str(ground), "incompatible_content_ground"),
        "incompatible_content_explanation": explanation,
    }


def _measure(s: SanctionRecord) -> str:
    text = s.kind.value
    if s.target.startswith("listing:"):
        text += f" of {s.target}"
    return text + (f" (threshold {s.ladder})" if s.ladder else "")


def _facts(v: ViolationRecord, rule: Rule, applied: Sequence[SanctionRecord]) -> str:
    """Parties by ref only (the database is public); the free text last, so a cut takes it."""
    text = (
        f"Merchant {v.subject}; rule {rule.id} ({rule.title_en}), rulebook {v.rule_version}; "
        f"{v.points} {v.severity.value} points. "
        f"Measures: {'; '.join(_measure(s) for s in applied)}. "
        f"Evidence: {', '.join(v.evidence) or 'none'}. "
        f"Facts: {v.facts.strip()}"
    )
    return _fit(text, "decision_facts")


#: Notifier kinds that are never natural persons, so may be named in a statement: every trader
#: kind but the host (a person streaming), plus brands, the platform and public authorities.
ORGANISATION_KINDS = (frozenset(party_kinds) - {"host"}) | {"brand", "platform", "authority"}


def statement(
    v: ViolationRecord, rule: Rule, book: Rulebook, *, puid_prefix: str = "xinren"
) -> dict[str, Any]:
    """The statement of reasons for `v` in the database's submission form, checked against its
    schema. Reversed sanctions are left out; a violation with none left has nothing to report."""
    if v.rule_id != rule.id or v.rule_version != book.version:
        raise XinrenError(
            f"violation {v.id} was decided under {v.rule_id} of {v.rule_version}, "
            f"not {rule.id} of {book.version}"
        )
    applied = _applied(v)
    if not applied:
        raise Conflict(
            f"violation {v.id} has no sanction in force or served, so there is no restriction "
            "to report in a statement of reasons",
            field="violation_id",
        )
    out = _decisions(applied, book.currency)
    out |= _ground(rule, book)
    if rule.dsa.get("reference_url"):
        out["decision_ground_reference_url"] = str(rule.dsa["reference_url"])
    out["category"] = rule.dsa.get("category")
    keywords = list(rule.dsa.get("keywords") or ())
    if keywords:
        out["category_specification"] = keywords
    if "KEYWORD_OTHER" in keywords:
        out["category_specification_other"] = _fit(rule.title_en, "category_specification_other")
    out["content_type"] = ["CONTENT_TYPE_PRODUCT"]
    out["content_date"] = _day(v.conduct_at)
    out["application_date"] = _day(v.decided_at)
    out["decision_facts"] = _facts(v, rule, applied)
    out["source_type"] = _SOURCE.get(v.source, "SOURCE_VOLUNTARY")
    # the notifier is named only when it is a trusted flagger or an organisation; a buyer or a
    # host may be a natural person, and statements carry no personal data (Art. 24(5))
    if out["source_type"] != "SOURCE_VOLUNTARY" and v.source_identity:
        kind = v.source_identity.partition(":")[0]
        if v.source == "trusted_flagger" or kind in ORGANISATION_KINDS:
            out["source_identity"] = _fit(v.source_identity, "source_identity")
    out["automated_detection"] = "Yes" if v.automated_detection else "No"
    out["automated_decision"] = _AUTOMATED[v.automated_decision]
    if book.territorial_scope:
        out["territorial_scope"] = list(book.territorial_scope)
    out["account_type"] = "ACCOUNT_TYPE_BUSINESS"
    out["puid"] = f"{puid_prefix}-violation-{v.id}"
    validate(out)
    return out


def batches(statements: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`{"statements": [...]}` batches of at most 100, each checked: the database takes a
    batch whole or not at all, so one bad statement would sink the other 99."""
    out = [
        {"statements": list(statements[i : i + BATCH_SIZE])}
        for i in range(0, len(statements), BATCH_SIZE)
    ]
    for n, batch in enumerate(out):
        _check(BATCH_SCHEMA, batch, f"batch {n}")
    return out
