"""Custody reasoning, pure: EPCIS events as custody sees them, and the chain of custody of a
batch from its maker to the seller, with every gap."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from xinren.documents.model import Grant

# --- provenance events (the EPCIS 2.0 shape, reduced to what custody reasoning needs) ---

PARTY_URI_PREFIX = "urn:xinren:party:"


def party_uri(ref: str) -> str:
    """The URI a Xinren party has in EPCIS source/destination lists, e.g. urn:xinren:party:lab:3."""
    return PARTY_URI_PREFIX + ref


@dataclass(frozen=True, slots=True)
class PartyLink:
    """One sourceList/destinationList entry: `type` is owning_party, possessing_party or
    location (short CBV names); `party` is the URI as the document gave it."""

    type: str
    party: str


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    """An EPCIS event as custody reasoning sees it.

    `epcs` pairs a role (object, input, output, parent, child) with an EPC or EPC class URI
    (from epcList, quantityList, input/output lists, parentID, childEPCs, childQuantityList).
    `documents` are the sha256 digests of Xinren documents the event links to (bizTransaction
    or certificationInfo URIs of the form urn:xinren:document:<sha256>).
    `erroneous` is true once an error declaration names this event.
    """

    event_id: str
    event_type: str
    action: str | None
    biz_step: str | None
    event_time: datetime
    epcs: tuple[tuple[str, str], ...]
    sources: tuple[PartyLink, ...]
    destinations: tuple[PartyLink, ...]
    documents: tuple[str, ...] = ()
    erroneous: bool = False


# --- chain of custody: listing -> batch -> every hand-over back to the manufacturer ---

HANDOVER_STEPS = frozenset({"shipping", "receiving", "departing", "arriving", "accepting"})
INSPECTION_STEPS = frozenset({"inspecting", "sampling"})


class GapKind(enum.StrEnum):
    NO_COMMISSIONING = "no_commissioning_event"
    HANDOVER_WITHOUT_EVENT = "handover_without_event"
    MISSING_AUTHORIZATION = "missing_authorization"
    MISSING_INSPECTION = "missing_inspection"
    UNKNOWN_PARTY = "unknown_party"


@dataclass(frozen=True, slots=True)
class LabReport:
    """An inspection or sampling report on the batch, with what is known of its lab."""

    document: str
    lab: str
    commissioned_by: str
    sampled_on: date
    passed: bool
    finding: str
    accredited: bool  # the lab's accreditation is on record and named on the report
    lab_affiliated_with: str | None


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # commissioned | handover | inspected | documents | packed | transformed | sold
    at: datetime | None
    from_party: str | None
    to_party: str | None
    event_id: str | None
    documents: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Gap:
    kind: GapKind
    party: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class ChainFacts:
    """What the chain is computed from: all plain data, gathered by the service."""

    sale_day: date
    sale_at: datetime | None
    seller: str
    manufacturer: str
    brand_owner: str
    brand_protected: bool
    batch_class: str
    events: tuple[CustodyEvent, ...]
    grants: tuple[Grant, ...]
    reports: tuple[LabReport, ...]
    party_refs: dict[str, str]  # EPCIS party URI -> party ref


@dataclass(frozen=True, slots=True)
class Chain:
    custodians: tuple[str, ...]  # manufacturer first, seller last
    steps: tuple[Step, ...]
    gaps: tuple[Gap, ...]
    ignored_events: tuple[str, ...]  # declared erroneous, so not relied on

    @property
    def complete(self) -> bool:
        return not self.gaps

    def first_unauthorized(self) -> Gap | None:
        return next((g for g in self.gaps if g.kind is GapKind.MISSING_AUTHORIZATION), None)

    @property
    def custody_evidenced(self) -> bool:
        """Every hand-over from the maker to the seller is recorded and every party known
        (a missing inspection is a gap in the evidence of quality, not of custody)."""
        return all(g.kind is GapKind.MISSING_INSPECTION for g in self.gaps)


def _party_of(links: tuple[PartyLink, ...], refs: dict[str, str]) -> str | None:
    """The possessing party of a source or destination list (else the owning party)."""
    for wanted in ("possessing_party", "owning_party"):
        for link in links:
            if link.type == wanted:
                return refs.get(link.party, link.party)
    return None


def trace(facts: ChainFacts) -> Chain:
    """Walk the batch's events in time order and report every step and every gap.

    Custody starts with the manufacturer. A hand-over whose source is not the current
    custodian means goods changed hands with no event recorded: that is a gap, and the walk
    continues from the party the event names. The seller must be the last custodian.
    """
    steps: list[Step] = []
    gaps: list[Gap] = []
    ignored = tuple(e.event_id for e in facts.events if e.erroneous)
    # the chain as it stood when the goods were sold: later events (a return, an event
    # recorded afterwards to paper over a missing hand-over) do not change it
    events = [
        e
        for e in facts.events
        if not e.erroneous and (facts.sale_at is None or e.event_time <= facts.sale_at)
    ]
    custodians = [facts.manufacturer]
    current = facts.manufacturer

    def move(to: str) -> None:
        nonlocal current
        if to not in custodians:
            custodians.append(to)
        current = to

    commissioning = [e for e in events if e.biz_step == "commissioning"]
    if not commissioning:
        gaps.append(
            Gap(
                GapKind.NO_COMMISSIONING,
                facts.manufacturer,
                f"no commissioning event for {facts.batch_class}: nothing shows the batch was "
                f"made by {facts.manufacturer}",
            )
        )
    for event in events:
        source = _party_of(event.sources, facts.party_refs)
        dest = _party_of(event.destinations, facts.party_refs)
        for who in (source, dest):
            if who is not None and who.startswith(("urn:", "http")):
                gaps.append(
                    Gap(
                        GapKind.UNKNOWN_PARTY,
                        who,
                        f"event {event.event_id} names {who}, which is not a registered party",
                    )
                )
        if event.biz_step == "commissioning":
            maker = dest or facts.manufacturer
            steps.append(
                Step(
                    "commissioned",
                    event.event_time,
                    None,
                    maker,
                    event.event_id,
                    event.documents,
                    f"batch commissioned by {maker}",
                )
            )
            if maker != facts.manufacturer:
                gaps.append(
                    Gap(
                        GapKind.HANDOVER_WITHOUT_EVENT,
                        maker,
                        f"the batch was commissioned by {maker}, but the product's "
                        f"manufacturer is {facts.manufacturer}",
                    )
                )
                move(maker)
        elif event.event_type == "TransactionEvent":
            steps.append(
                Step(
                    "documents",
                    event.event_time,
                    source,
                    dest,
                    event.event_id,
                    event.documents,
                    f"business documents between {source} and {dest}",
                )
            )
        elif event.biz_step in HANDOVER_STEPS and dest is not None and dest == current:
            if event.documents:  # the receiver confirming a hand-over already recorded
                steps.append(
                    Step(
                        "documents",
                        event.event_time,
                        source,
                        dest,
                        event.event_id,
                        event.documents,
                        f"{event.biz_step} confirmed by {dest}",
                    )
                )
        elif event.biz_step in HANDOVER_STEPS and dest is not None:
            frm = source or current
            if frm != current:
                gaps.append(
                    Gap(
                        GapKind.HANDOVER_WITHOUT_EVENT,
                        frm,
                        f"goods went from {current} to {frm} with no event before {event.event_id}",
                    )
                )
                move(frm)
            steps.append(
                Step(
                    "handover",
                    event.event_time,
                    current,
                    dest,
                    event.event_id,
                    event.documents,
                    f"{event.biz_step}: {current} -> {dest}",
                )
            )
            move(dest)
        elif event.biz_step in INSPECTION_STEPS:
            steps.append(
                Step(
                    "inspected",
                    event.event_time,
                    source,
                    dest,
                    event.event_id,
                    event.documents,
                    f"{event.biz_step} while held by {current}",
                )
            )
        elif event.event_type == "AggregationEvent":
            steps.append(
                Step(
                    "packed",
                    event.event_time,
                    None,
                    current,
                    event.event_id,
                    event.documents,
                    f"packed by {current}",
                )
            )
        elif event.event_type == "TransformationEvent":
            steps.append(
                Step(
                    "transformed",
                    event.event_time,
                    None,
                    current,
                    event.event_id,
                    event.documents,
                    f"transformed while held by {current}",
                )
            )
    if current != facts.seller:
        gaps.append(
            Gap(
                GapKind.HANDOVER_WITHOUT_EVENT,
                facts.seller,
                f"no event shows the goods reaching the seller {facts.seller}; the last "
                f"recorded custodian is {current}",
            )
        )
        move(facts.seller)
    steps.append(
        Step("sold", facts.sale_at, facts.seller, None, None, (), f"sold by {facts.seller}")
    )
    if facts.brand_protected:
        gaps.extend(_authorization_gaps(facts, custodians))
    if not any(r.accredited for r in facts.reports):
        gaps.append(
            Gap(
                GapKind.MISSING_INSPECTION,
                None,
                "no inspection or sampling report from an accredited lab covers this batch",
            )
        )
    return Chain(tuple(custodians), tuple(steps), tuple(gaps), ignored)


def _authorization_gaps(facts: ChainFacts, custodians: list[str]) -> list[Gap]:
    """Every trader between the maker and the buyer needs the brand's authorization, valid on
    the day of sale, granted by the brand owner or through a line of valid grants from it."""
    valid = [g for g in facts.grants if g.valid_on(facts.sale_day)]
    # who may pass authority on: the owner, and holders of a valid 'distribute' grant from one
    granting = {facts.brand_owner}
    grown = True
    while grown:
        new = {
            g.grantee for g in valid if g.grantor in granting and g.scope == "distribute"
        } - granting
        granting |= new
        grown = bool(new)
    authorized = (
        granting | {facts.manufacturer} | {g.grantee for g in valid if g.grantor in granting}
    )
    gaps: list[Gap] = []
    for party in custodians:
        if party in authorized:
            continue
        held = [g for g in facts.grants if g.grantee == party]
        why = (
            "its authorization is expired, revoked or granted by an unauthorized party"
            if held
            else "it holds no authorization for the brand"
        )
        gaps.append(
            Gap(
                GapKind.MISSING_AUTHORIZATION,
                party,
                f"{party} handled a protected brand's goods without a valid authorization on "
                f"{facts.sale_day}: {why}",
            )
        )
    return gaps
