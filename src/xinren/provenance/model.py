"""Custody reasoning, pure: EPCIS events as custody sees them, and the chain of custody of a
batch from its maker to the seller, with every gap."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from xinren.documents.model import Grant, authorized_by

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
    ignored = tuple(e.event_id for e in facts.events if e.erroneous)
    events = _relied_on(facts)
    walk = _Walk(facts, facts.manufacturer, [facts.manufacturer])
    if not any(e.biz_step == "commissioning" for e in events):
        walk.gaps.append(
            Gap(
                GapKind.NO_COMMISSIONING,
                facts.manufacturer,
                f"no commissioning event for {facts.batch_class}: nothing shows the batch was "
                f"made by {facts.manufacturer}",
            )
        )
    for event in events:
        walk.event(event)
    walk.reach_seller()
    if facts.brand_protected:
        walk.gaps.extend(_authorization_gaps(facts, walk.custodians))
    if not any(r.accredited for r in facts.reports):
        walk.gaps.append(
            Gap(
                GapKind.MISSING_INSPECTION,
                None,
                "no inspection or sampling report from an accredited lab covers this batch",
            )
        )
    return Chain(tuple(walk.custodians), tuple(walk.steps), tuple(walk.gaps), ignored)


def _relied_on(facts: ChainFacts) -> list[CustodyEvent]:
    """The events the chain stands on: not declared erroneous, and recorded by the time of the
    sale, since later events (a return, an event recorded afterwards to paper over a missing
    hand-over) do not change the chain as it stood when the goods were sold."""
    return [
        e
        for e in facts.events
        if not e.erroneous and (facts.sale_at is None or e.event_time <= facts.sale_at)
    ]


@dataclass(slots=True)
class _Walk:
    """The walk's state: who holds the goods now, everyone who has, and what was found."""

    facts: ChainFacts
    current: str
    custodians: list[str]
    steps: list[Step] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def move(self, to: str) -> None:
        if to not in self.custodians:
            self.custodians.append(to)
        self.current = to

    def step(
        self, kind: str, event: CustodyEvent, frm: str | None, to: str | None, note: str
    ) -> None:
        self.steps.append(
            Step(kind, event.event_time, frm, to, event.event_id, event.documents, note)
        )

    def event(self, event: CustodyEvent) -> None:
        """One event: the step it records, and the gaps it reveals."""
        source = _party_of(event.sources, self.facts.party_refs)
        dest = _party_of(event.destinations, self.facts.party_refs)
        for who in (source, dest):
            if who is not None and who.startswith(("urn:", "http")):
                self.gaps.append(
                    Gap(
                        GapKind.UNKNOWN_PARTY,
                        who,
                        f"event {event.event_id} names {who}, which is not a registered party",
                    )
                )
        if event.biz_step == "commissioning":
            self.commissioned(event, dest or self.facts.manufacturer)
        elif event.event_type == "TransactionEvent":
            self.step(
                "documents", event, source, dest, f"business documents between {source} and {dest}"
            )
        elif event.biz_step in HANDOVER_STEPS and dest is not None and dest == self.current:
            if event.documents:  # the receiver confirming a hand-over already recorded
                self.step("documents", event, source, dest, f"{event.biz_step} confirmed by {dest}")
        elif event.biz_step in HANDOVER_STEPS and dest is not None:
            self.handover(event, source or self.current, dest)
        elif event.biz_step in INSPECTION_STEPS:
            self.step(
                "inspected", event, source, dest, f"{event.biz_step} while held by {self.current}"
            )
        elif event.event_type == "AggregationEvent":
            self.step("packed", event, None, self.current, f"packed by {self.current}")
        elif event.event_type == "TransformationEvent":
            self.step(
                "transformed",
                event,
                None,
                self.current,
                f"transformed while held by {self.current}",
            )

    def commissioned(self, event: CustodyEvent, maker: str) -> None:
        """The batch was made: by the product's manufacturer, or custody starts elsewhere."""
        self.step("commissioned", event, None, maker, f"batch commissioned by {maker}")
        if maker != self.facts.manufacturer:
            self.gaps.append(
                Gap(
                    GapKind.HANDOVER_WITHOUT_EVENT,
                    maker,
                    f"the batch was commissioned by {maker}, but the product's "
                    f"manufacturer is {self.facts.manufacturer}",
                )
            )
            self.move(maker)

    def handover(self, event: CustodyEvent, frm: str, dest: str) -> None:
        """Goods pass from `frm` to `dest`; if `frm` is not who held them, a hand-over is
        missing before this one."""
        if frm != self.current:
            self.gaps.append(
                Gap(
                    GapKind.HANDOVER_WITHOUT_EVENT,
                    frm,
                    f"goods went from {self.current} to {frm} with no event before "
                    f"{event.event_id}",
                )
            )
            self.move(frm)
        self.step(
            "handover", event, self.current, dest, f"{event.biz_step}: {self.current} -> {dest}"
        )
        self.move(dest)

    def reach_seller(self) -> None:
        """The walk ends with the seller selling; if no event brought the goods there, a
        hand-over is missing."""
        seller = self.facts.seller
        if self.current != seller:
            self.gaps.append(
                Gap(
                    GapKind.HANDOVER_WITHOUT_EVENT,
                    seller,
                    f"no event shows the goods reaching the seller {seller}; the last "
                    f"recorded custodian is {self.current}",
                )
            )
            self.move(seller)
        self.steps.append(
            Step("sold", self.facts.sale_at, seller, None, None, (), f"sold by {seller}")
        )


def _authorization_gaps(facts: ChainFacts, custodians: list[str]) -> list[Gap]:
    """Every trader between the maker and the buyer needs the brand's authorization, valid on
    the day of sale, granted by the brand owner or through a line of valid grants from it."""
    authorized = authorized_by(facts.brand_owner, facts.grants, facts.sale_day) | {
        facts.manufacturer
    }
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
