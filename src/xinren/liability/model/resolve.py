"""Resolve liability: the facts a rule is matched against, the first matching rule, and every
party named with the facts and documents that tie it to the finding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xinren.catalog.model import Contradiction
from xinren.errors import ValidationFailed
from xinren.liability.model.evidence import Weighed
from xinren.liability.model.policy import Finding, Policy


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
