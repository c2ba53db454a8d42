"""The liability policy (`policies/liability.yaml`), checked: the findings, roles and
conditions it may name, its rules in order, and who pays first where no chain can be traced."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class Finding(enum.StrEnum):
    COUNTERFEIT = "counterfeit"
    NOT_AS_DESCRIBED = "not_as_described"
    QUALITY_DEFECT = "quality_defect"
    SAFETY_HAZARD = "safety_hazard"


ROLES = frozenset({"seller", "host", "manufacturer", "chain_break", "supplier", "platform"})
CONDITIONS = frozenset(
    {
        "seller_identified",
        "chain_break",
        "host_contradicts_facts",
        "listing_contradicts_facts",
        "failing_inspection",
        "chain_intact",
    }
)
CRITERIA = frozenset({"accredited", "independent", "later"})


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    findings: frozenset[Finding]
    when: Mapping[str, bool]
    primary: tuple[str, ...]
    joint: tuple[str, ...]
    pays_first: str
    recover_from: tuple[str, ...]
    basis: str


@dataclass(frozen=True, slots=True)
class UntraceableRule:
    """Who pays first when there is no chain to resolve liability on (see `untraceable`)."""

    id: str
    when: Mapping[str, bool]  # only seller_identified
    pays_first: str  # seller | platform
    recover_from: tuple[str, ...]
    explain: str
    basis: str


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    precedence: tuple[tuple[str, str], ...]  # (criterion, reason)
    rules: tuple[Rule, ...]
    accredited_only: bool = True  # unaccredited lab reports are not admissible at all
    untraceable: tuple[UntraceableRule, ...] = ()


def parse_policy(version: str, body: Mapping[str, Any]) -> Policy:
    """Check a liability policy: every role, condition and criterion must be known."""

    def roles(value: Any, where: str) -> tuple[str, ...]:
        items = tuple(value or ())
        unknown = set(items) - ROLES
        if unknown:
            raise ValueError(f"{where}: unknown role(s) {sorted(unknown)}; known: {sorted(ROLES)}")
        return items

    precedence = []
    for item in body["evidence"]["inspection_precedence"]:
        if item["criterion"] not in CRITERIA:
            raise ValueError(f"unknown inspection criterion {item['criterion']!r}")
        precedence.append((str(item["criterion"]), " ".join(str(item["reason"]).split())))
    rules = []
    for raw in body["rules"]:
        where = f"rule {raw.get('id')!r}"
        when = dict(raw.get("when") or {})
        if set(when) - CONDITIONS:
            raise ValueError(f"{where}: unknown condition(s) {sorted(set(when) - CONDITIONS)}")
        if not all(isinstance(v, bool) for v in when.values()):
            raise ValueError(f"{where}: conditions are true or false")
        pays = roles([raw["pays_first"]], where)[0]
        rules.append(
            Rule(
                str(raw["id"]),
                frozenset(Finding(f) for f in raw["findings"]),
                when,
                roles(raw["primary"], where),
                roles(raw.get("joint"), where),
                pays,
                roles(raw.get("recover_from"), where),
                " ".join(str(raw["basis"]).split()),
            )
        )
    if not rules or rules[-1].when:
        raise ValueError("the last rule must have no conditions, so every case gets an answer")
    admissible = body["evidence"].get("admissible", "accredited_only")
    if admissible not in ("accredited_only", "any"):
        raise ValueError("evidence.admissible is accredited_only or any")
    return Policy(
        version,
        tuple(precedence),
        tuple(rules),
        admissible == "accredited_only",
        _untraceable(body.get("untraceable") or (), roles),
    )


def _untraceable(
    items: Iterable[Mapping[str, Any]], roles: Callable[[Any, str], tuple[str, ...]]
) -> tuple[UntraceableRule, ...]:
    out = []
    for raw in items:
        where = f"untraceable rule {raw.get('id')!r}"
        when = dict(raw.get("when") or {})
        if set(when) - {"seller_identified"} or not all(isinstance(v, bool) for v in when.values()):
            raise ValueError(f"{where}: the only condition is seller_identified, true or false")
        pays = roles([raw["pays_first"]], where)[0]
        recover = roles(raw.get("recover_from"), where)
        if set((pays, *recover)) - {"seller", "platform"}:
            raise ValueError(f"{where}: without a chain only the seller or the platform is known")
        if not raw.get("basis") or not raw.get("explain"):
            raise ValueError(f"{where}: name the legal basis and the explanation")
        out.append(
            UntraceableRule(
                str(raw["id"]),
                when,
                pays,
                recover,
                " ".join(str(raw["explain"]).split()),
                " ".join(str(raw["basis"]).split()),
            )
        )
    if not out or out[-1].when:
        raise ValueError("the last untraceable rule must have no conditions")
    return tuple(out)
