"""Liability resolution, pure: facts in, an explained assignment out.

The rules are data (`policies/liability.yaml`): this module only evaluates them, so changing
who answers for what is a new policy version, reviewed like any rule, not a code change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xinren.catalog.model import Contradiction
from xinren.errors import ValidationFailed
from xinren.provenance.model import LabReport


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


# --- which lab report prevails ---


@dataclass(frozen=True, slots=True)
class Weighed:
    report: LabReport
    accredited: bool
    independent: bool


def weigh(report: LabReport, interested: frozenset[str]) -> Weighed:
    independent = (
        report.commissioned_by not in interested
        and report.lab_affiliated_with not in interested
        and report.lab not in interested
    )
    return Weighed(report, report.accredited, independent)


def _score(w: Weighed, criterion: str) -> tuple[int, date]:
    if criterion == "accredited":
        return (int(w.accredited), date.min)
    if criterion == "independent":
        return (int(w.independent), date.min)
    return (0, w.report.sampled_on)


def prevailing(
    reports: Iterable[LabReport], interested: frozenset[str], policy: Policy
) -> tuple[Weighed | None, tuple[str, ...]]:
    """The report that prevails under the policy's precedence, and why it beats each other.

    Reports the policy does not admit (unaccredited, by default) never prevail, not even alone.
    """
    weighed = [weigh(r, interested) for r in reports]
    refused = tuple(
        f"{_describe(w)} is not admissible: the lab's accreditation is not on record"
        for w in weighed
        if policy.accredited_only and not w.accredited
    )
    if policy.accredited_only:
        weighed = [w for w in weighed if w.accredited]
    if not weighed:
        return None, refused
    criteria = [c for c, _ in policy.precedence]
    reasons = dict(policy.precedence)
    ranked = sorted(weighed, key=lambda w: [_score(w, c) for c in criteria], reverse=True)
    best = ranked[0]
    why = []
    for other in ranked[1:]:
        decisive = next((c for c in criteria if _score(best, c) != _score(other, c)), None)
        verdict = "pass" if other.report.passed else "fail"
        if decisive is None:
            why.append(
                f"{_describe(other)} ({verdict}) is as credible; the policy cannot separate them"
            )
        else:
            why.append(f"prevails over {_describe(other)} ({verdict}): {reasons[decisive]}")
    return best, (*why, *refused)


def _describe(w: Weighed) -> str:
    r = w.report
    traits = [
        "accredited" if w.accredited else "unaccredited",
        "independent" if w.independent else f"commissioned by {r.commissioned_by}",
    ]
    return f"the report of {r.lab} sampled {r.sampled_on} ({', '.join(traits)})"


# --- the facts a rule is matched against ---


@dataclass(frozen=True, slots=True)
class Facts:
    order_id: int
    finding: Finding
    seller: str
    seller_identified: bool
    host: str | None
    manufacturer: str
    supplier: str | None
    chain_break: str | None
    chain_break_detail: str | None
    host_contradictions: tuple[Contradiction, ...]
    listing_contradictions: tuple[Contradiction, ...]
    prevailing: Weighed | None
    prevailing_why: tuple[str, ...]
    custodians: tuple[str, ...]
    documents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # party -> docs
    chain_intact: bool = True  # every hand-over evidenced and authorized
    gaps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # party -> gap details

    def condition(self, name: str) -> bool:
        return {
            "seller_identified": self.seller_identified,
            "chain_break": self.chain_break is not None,
            "host_contradicts_facts": bool(self.host_contradictions),
            "listing_contradicts_facts": bool(self.listing_contradictions),
            "failing_inspection": self.prevailing is not None and not self.prevailing.report.passed,
            "chain_intact": self.chain_intact,
        }[name]


@dataclass(frozen=True, slots=True)
class Liable:
    party: str
    role: str
    facts: tuple[str, ...]
    documents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    order_id: int
    finding: Finding
    rule: str
    policy_version: str
    basis: str
    primary: tuple[Liable, ...]
    joint: tuple[Liable, ...]
    pays_first: Liable
    recover_from: tuple[Liable, ...]
    cleared: tuple[Liable, ...]  # parties considered and not held liable, with why

    def as_dict(self) -> dict[str, Any]:
        def one(x: Liable) -> dict[str, Any]:
            return {
                "party": x.party,
                "role": x.role,
                "facts": list(x.facts),
                "documents": list(x.documents),
            }

        return {
            "order": self.order_id,
            "finding": self.finding.value,
            "rule": self.rule,
            "policy_version": self.policy_version,
            "basis": self.basis,
            "primary": [one(x) for x in self.primary],
            "joint": [one(x) for x in self.joint],
            "pays_first": one(self.pays_first),
            "recover_from": [one(x) for x in self.recover_from],
            "cleared": [one(x) for x in self.cleared],
        }


def _role_party(facts: Facts, role: str) -> str | None:
    return {
        "seller": facts.seller,
        "host": facts.host,
        "manufacturer": facts.manufacturer,
        "chain_break": facts.chain_break,
        "supplier": facts.supplier,
        "platform": "platform",
    }[role]


def _evidence(facts: Facts, role: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The facts and documents that tie a role to this finding."""
    p = facts.prevailing
    report_fact: tuple[str, ...] = ()
    report_docs: tuple[str, ...] = ()
    if p is not None:
        verdict = "passed" if p.report.passed else "failed"
        report_fact = (
            f"the prevailing lab report ({p.report.lab}, sampled {p.report.sampled_on}) "
            f"{verdict}: {p.report.finding}",
            *facts.prevailing_why,
        )
        report_docs = (p.report.document,)
    if role == "seller":
        lines = [f"{facts.seller} sold order {facts.order_id}"]
        if not facts.seller_identified:
            lines.append(f"the platform cannot produce {facts.seller}'s real identity")
        lines += [c.explain() for c in facts.listing_contradictions]
        if facts.chain_break:
            lines.append(f"it sold goods that came through {facts.chain_break} unchecked")
        if facts.host_contradictions:
            lines.append("the host's claims were made to sell its goods")
        return tuple(lines), facts.documents.get(facts.seller, ())
    if role == "host":
        return tuple(c.explain() for c in facts.host_contradictions), facts.documents.get(
            "host", ()
        )
    if role == "manufacturer":
        return (f"{facts.manufacturer} made the batch", *report_fact), report_docs
    if role == "chain_break":
        return (facts.chain_break_detail or "",), facts.documents.get(facts.chain_break or "", ())
    if role == "platform":
        return (f"the platform cannot produce the real identity of {facts.seller}",), ()
    return (f"{facts.supplier} supplied the seller",), ()


def resolve(policy: Policy, facts: Facts) -> Assignment:
    """Apply the first rule whose findings and conditions match; explain every party named."""
    rule = next(
        r
        for r in policy.rules
        if facts.finding in r.findings and all(facts.condition(k) == v for k, v in r.when.items())
    )

    def liable(roles: tuple[str, ...]) -> tuple[Liable, ...]:
        out: list[Liable] = []
        for role in roles:
            party = _role_party(facts, role)
            if party is not None and party not in [x.party for x in out]:
                lines, docs = _evidence(facts, role)
                out.append(Liable(party, role, lines, docs))
        return tuple(out)

    primary, joint = liable(rule.primary), liable(rule.joint)
    payer = liable((rule.pays_first,))
    if not payer:
        raise ValidationFailed(
            f"rule {rule.id} names {rule.pays_first} to pay first, but the order has none",
            field="finding",
        )
    named = {x.party for x in (*primary, *joint)}
    cleared = []
    for party in facts.custodians:
        if party in named or party == facts.seller:
            continue
        cleared.append(Liable(party, "custodian", _cleared_why(facts, party), ()))
    if facts.host is not None and facts.host not in named:
        cleared.append(
            Liable(facts.host, "host", ("no claim of the host contradicts the facts",), ())
        )
    return Assignment(
        facts.order_id,
        facts.finding,
        rule.id,
        policy.version,
        rule.basis,
        primary,
        joint,
        payer[0],
        liable(rule.recover_from),
        tuple(cleared),
    )


def _cleared_why(facts: Facts, party: str) -> tuple[str, ...]:
    lines = []
    if party == facts.manufacturer and facts.prevailing is not None:
        r = facts.prevailing.report
        if r.passed:
            lines.append(
                f"the prevailing lab report ({r.lab}, sampled {r.sampled_on}) found the batch "
                f"conforms: {r.finding}"
            )
    gaps = facts.gaps.get(party, ())
    if gaps:
        lines += [f"not held liable by this rule, though the chain shows: {g}" for g in gaps]
    else:
        lines.append(f"{party}'s part in the chain is authorized and evidenced by events")
    return tuple(lines)


# --- who pays the buyer first ---


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays the buyer first, whom it recovers from, and why (written on the remedy)."""

    party: str  # a party, or "platform" (the guarantee fund)
    recover_from: tuple[str, ...]
    why: str


def traceable(has_listing: bool, finding: str) -> bool:
    """Liability is resolved on the chain of custody only for an order of a listing (whose
    batch and chain are on record) and a finding the liability rules cover."""
    return has_listing and finding in {f.value for f in Finding}


def payer_of(assignment: Assignment) -> Payer:
    """The payer a resolved assignment names."""
    return Payer(
        assignment.pays_first.party,
        tuple(x.party for x in assignment.recover_from),
        f"liability rule {assignment.rule}",
    )


def untraceable_payer(policy: Policy, seller: str, seller_identified: bool) -> Payer:
    """Who pays first for an order liability cannot be traced on: the first untraceable rule
    of the policy whose condition holds."""
    facts = {"seller_identified": seller_identified}
    rule = next(r for r in policy.untraceable if all(facts[k] == v for k, v in r.when.items()))
    party = {"seller": seller, "platform": "platform"}
    return Payer(party[rule.pays_first], tuple(party[r] for r in rule.recover_from), rule.explain)
