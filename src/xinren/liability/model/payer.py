"""Who pays the buyer first: the payer a resolved assignment names, or for an order liability
cannot be traced on, the policy's untraceable rule. The one place cases and recalls ask."""

from __future__ import annotations

from dataclasses import dataclass

from xinren.liability.model.policy import Finding, Policy
from xinren.liability.model.resolve import Assignment


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
