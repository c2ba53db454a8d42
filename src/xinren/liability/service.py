"""Assess liability for a finding on an order: gather the facts (chain of custody, claims,
lab reports, identities), apply the versioned policy, and keep the explained result."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren import policies
from xinren.catalog import model as catalog_model
from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.errors import ValidationFailed
from xinren.events import service as events
from xinren.liability import model
from xinren.liability.model import Assignment, Facts, Finding, Payer
from xinren.liability.tables import liability_assessments
from xinren.orders.service import OrderView
from xinren.parties import service as parties
from xinren.provenance import chain as chains
from xinren.provenance.model import Chain


@cache
def policy() -> model.Policy:
    p = policies.load("liability")
    return model.parse_policy(p.version, p.body)


def facts(session: Session, order_id: int, finding: Finding) -> tuple[Facts, Chain]:
    line, chain = chains.chain_of(session, order_id)
    order = line.order
    seller_identified = (
        parties.identities(session, {"seller": order.merchant})["seller"] is not None
    )
    host_claims: list[catalog_model.Contradiction] = []
    host_docs: tuple[str, ...] = ()
    if line.live is not None:
        for claim in catalog.claims_of(session, line.live.id):
            if (
                claim.listing_id not in (None, line.listing.id)
                or claim.spoken_at > order.created_at
            ):
                continue  # about another listing, or said after this buyer had bought
            host_claims += catalog_model.contradictions(
                line.product.facts, claim.attributes, f"live_claim:{claim.id}", claim.text
            )
        host_docs = (line.live.recording,) if line.live.recording else ()
    listing_claims = catalog_model.contradictions(
        line.product.facts,
        line.listing.claims,
        f"listing:{line.listing.id}",
        line.listing.claim_text,
    )
    interested = frozenset(
        {*chain.custodians, order.merchant, *([order.host] if order.host else [])}
    )
    best, why = model.prevailing(chains.lab_reports(session, line.batch.id), interested, policy())
    gap = chain.first_unauthorized()
    custodians = chain.custodians
    supplier = custodians[-2] if len(custodians) >= 2 else None
    gaps: dict[str, tuple[str, ...]] = {}
    for g in chain.gaps:
        if g.party is not None:
            gaps[g.party] = (*gaps.get(g.party, ()), g.detail)
    docs: dict[str, tuple[str, ...]] = {"host": host_docs}
    for step in chain.steps:
        for party in (step.from_party, step.to_party):
            if party is not None and step.documents:
                docs[party] = (*docs.get(party, ()), *step.documents)
    return (
        Facts(
            order_id=order.id,
            finding=finding,
            seller=order.merchant,
            seller_identified=seller_identified,
            host=order.host,
            manufacturer=line.product.manufacturer,
            supplier=supplier if supplier != line.product.manufacturer else None,
            chain_break=gap.party if gap is not None else None,
            chain_break_detail=gap.detail if gap is not None else None,
            host_contradictions=tuple(host_claims),
            listing_contradictions=tuple(listing_claims),
            prevailing=best,
            prevailing_why=why,
            custodians=custodians,
            documents=docs,
            chain_intact=chain.custody_evidenced and gap is None,
            gaps=gaps,
        ),
        chain,
    )


def assess(
    session: Session,
    clock: Clock,
    order_id: int,
    finding: Finding | str,
    *,
    assessed_by: str,
) -> tuple[Assignment, Chain]:
    """Resolve and record who is liable; the record keeps the policy version it applied."""
    try:
        finding = Finding(finding)
    except ValueError:
        raise ValidationFailed(
            f"finding must be one of {', '.join(f.value for f in Finding)}", field="finding"
        ) from None
    found, chain = facts(session, order_id, finding)
    result = model.resolve(policy(), found)
    session.execute(
        liability_assessments.insert(),
        dict(
            order_id=order_id,
            finding=finding.value,
            rule=result.rule,
            policy_version=result.policy_version,
            result=result.as_dict() | {"chain_gaps": [g.kind.value for g in chain.gaps]},
            assessed_by=assessed_by,
            created_at=clock.now(),
        ),
    )
    events.append(
        session,
        clock,
        "liability.assessed",
        f"order:{order_id}",
        {
            "order": order_id,
            "finding": finding.value,
            "rule": result.rule,
            "pays_first": result.pays_first.party,
            "primary": [x.party for x in result.primary],
        },
    )
    return result, chain


def who_pays_first(
    session: Session, clock: Clock, order: OrderView, finding: str, *, assessed_by: str
) -> Payer:
    """Who pays the buyer of `order` first and whom it recovers from: the recorded liability
    resolution where the order can be traced, else the policy's untraceable rule."""
    if model.traceable(order.listing_id is not None, finding):
        result, _ = assess(session, clock, order.id, finding, assessed_by=assessed_by)
        return model.payer_of(result)
    identified = parties.identities(session, {"seller": order.merchant})["seller"] is not None
    return model.untraceable_payer(policy(), order.merchant, identified)


def history(session: Session, order_id: int) -> list[dict[str, object]]:
    rows = session.execute(
        select(liability_assessments)
        .where(liability_assessments.c.order_id == order_id)
        .order_by(liability_assessments.c.id)
    )
    return [dict(r.result) | {"assessed_by": r.assessed_by} for r in rows]
