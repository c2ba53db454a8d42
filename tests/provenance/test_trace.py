"""The chain of custody, step by step, from plain facts: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from xinren.documents.model import Grant
from xinren.provenance.model import ChainFacts, CustodyEvent, GapKind, LabReport, PartyLink, trace

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MAKER, TRADER, SHOP = "manufacturer:m", "supplier:t", "merchant:s"
REPORT = LabReport("r" * 64, "lab:1", MAKER, date(2026, 3, 2), True, "pass", True, None)


def held(party: str) -> tuple[PartyLink, ...]:
    return (PartyLink("possessing_party", party),)


def event(
    n: int,
    biz_step: str | None,
    frm: str | None = None,
    to: str | None = None,
    *,
    event_type: str = "ObjectEvent",
    documents: tuple[str, ...] = (),
    erroneous: bool = False,
) -> CustodyEvent:
    return CustodyEvent(
        f"e{n}",
        event_type,
        "OBSERVE",
        biz_step,
        T0 + timedelta(hours=n),
        (),
        held(frm) if frm else (),
        held(to) if to else (),
        documents,
        erroneous,
    )


def facts(*events: CustodyEvent, **changes) -> ChainFacts:
    base = ChainFacts(
        sale_day=date(2026, 3, 10),
        sale_at=T0 + timedelta(days=9),
        seller=SHOP,
        manufacturer=MAKER,
        brand_owner=MAKER,
        brand_protected=False,
        batch_class="urn:epc:class:lgtin:1.2.3",
        events=events,
        grants=(),
        reports=(REPORT,),
        party_refs={},
    )
    return replace(base, **changes)


FULL = (
    event(1, "commissioning", to=MAKER),
    event(2, "shipping", MAKER, TRADER),
    event(3, "receiving", MAKER, TRADER, documents=("d" * 64,)),
    event(4, "inspecting", to=TRADER),
    event(5, "packing", event_type="AggregationEvent"),
    event(6, "shipping", TRADER, SHOP),
)


def test_a_recorded_chain_from_maker_to_seller_has_every_step_and_no_gap():
    chain = trace(facts(*FULL))
    assert chain.complete and chain.custody_evidenced
    assert chain.custodians == (MAKER, TRADER, SHOP)
    assert [s.kind for s in chain.steps] == [
        "commissioned", "handover", "documents", "inspected", "packed", "handover", "sold",
    ]  # fmt: skip
    assert chain.steps[2].note == f"receiving confirmed by {TRADER}"


def test_no_commissioning_event_is_a_gap_but_custody_still_starts_with_the_maker():
    chain = trace(facts(*FULL[1:]))
    assert [g.kind for g in chain.gaps] == [GapKind.NO_COMMISSIONING]
    assert chain.custodians[0] == MAKER


def test_goods_appearing_elsewhere_are_a_missing_handover_and_the_walk_follows_them():
    chain = trace(facts(FULL[0], event(2, "shipping", TRADER, SHOP)))
    gap = chain.gaps[0]
    assert (gap.kind, gap.party) == (GapKind.HANDOVER_WITHOUT_EVENT, TRADER)
    assert chain.custodians == (MAKER, TRADER, SHOP) and not chain.custody_evidenced


def test_goods_never_reaching_the_seller_is_a_gap_naming_the_seller():
    chain = trace(facts(*FULL[:2]))
    assert [(g.kind, g.party) for g in chain.gaps] == [(GapKind.HANDOVER_WITHOUT_EVENT, SHOP)]
    assert chain.custodians[-1] == SHOP and chain.steps[-1].kind == "sold"


def test_a_batch_commissioned_by_another_maker_starts_custody_there():
    chain = trace(facts(event(1, "commissioning", to=TRADER), event(2, "shipping", TRADER, SHOP)))
    assert [(g.kind, g.party) for g in chain.gaps] == [(GapKind.HANDOVER_WITHOUT_EVENT, TRADER)]
    assert chain.custodians == (MAKER, TRADER, SHOP)


def test_erroneous_events_and_events_after_the_sale_are_not_relied_on():
    late = replace(event(7, "shipping", SHOP, TRADER), event_time=T0 + timedelta(days=30))
    wrong = event(8, "shipping", SHOP, TRADER, erroneous=True)
    chain = trace(facts(*FULL, late, wrong))
    assert chain.complete and chain.ignored_events == ("e8",)


def test_an_unregistered_party_is_a_gap():
    chain = trace(facts(*FULL, event(7, "inspecting", to="urn:epc:id:sgln:0.0.0")))
    assert [(g.kind, g.party) for g in chain.gaps] == [
        (GapKind.UNKNOWN_PARTY, "urn:epc:id:sgln:0.0.0")
    ]


def test_no_accredited_report_is_a_gap_in_quality_not_in_custody():
    chain = trace(facts(*FULL, reports=(replace(REPORT, accredited=False),)))
    assert [g.kind for g in chain.gaps] == [GapKind.MISSING_INSPECTION]
    assert chain.custody_evidenced and not chain.complete


def test_a_protected_brand_needs_every_trader_authorized_on_the_day_of_sale():
    grant = Grant(1, MAKER, TRADER, "distribute", date(2026, 1, 1), date(2026, 12, 31), "g", False)
    chain = trace(facts(*FULL, brand_protected=True, grants=(grant,)))
    assert chain.first_unauthorized() is not None and chain.first_unauthorized().party == SHOP
    resold = replace(grant, id=2, grantor=TRADER, grantee=SHOP, scope="sell")
    assert trace(facts(*FULL, brand_protected=True, grants=(grant, resold))).complete
