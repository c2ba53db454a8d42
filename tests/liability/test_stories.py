"""The source article's cases, end to end: the chain and the evidence decide who answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from xinren.catalog import service as catalog
from xinren.catalog.model import Result
from xinren.demo import samples, stories
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.documents.store import FileStore
from xinren.errors import Conflict, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.liability import model
from xinren.liability import service as liability
from xinren.liability.model import Finding
from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.provenance import chain as chains
from xinren.provenance import custody as pe
from xinren.provenance.model import GapKind
from xinren.recalls import service as recalls


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "docs")


@pytest.fixture
def later(clock):
    """Cases date their batches before 'now'; start the clock well into the year."""
    clock.advance(days=200)
    return clock


def test_phone_case_the_host_misdescribed_and_the_chain_clears_the_supplier(session, later, store):
    case = stories.phone_case(session, later, store, "t1")
    r = case.refs
    _line, chain = chains.chain_of(session, case.order_id)
    assert chain.custodians == (r["maker"], r["supplier"], r["shop"])
    assert chain.gaps == ()
    assert [s.kind for s in chain.steps] == [
        "commissioned",
        "handover",
        "handover",
        "documents",
        "sold",
    ]
    assert case.docs["invoice"] in chain.steps[3].documents

    result, _ = liability.assess(
        session, later, case.order_id, "not_as_described", assessed_by="reviewer:1"
    )
    assert result.rule == "misrepresentation-by-host"
    assert [x.party for x in result.primary] == [r["host"], r["shop"]]
    assert result.pays_first.party == r["shop"]
    assert [x.party for x in result.recover_from] == [r["host"]]
    host = result.primary[0]
    assert any("network = '5G'" in f and "say '4G'" in f for f in host.facts)
    assert any("storage_gb = 256" in f and "say 128" in f for f in host.facts)
    assert case.docs["recording"] in host.documents
    cleared = {x.party: x.facts for x in result.cleared}
    assert set(cleared) == {r["maker"], r["supplier"]}
    assert any("conforms" in f for f in cleared[r["maker"]])
    assert "Advertising Law Art. 56" in result.basis
    # the assessment is kept, with its policy version, and announced
    [kept] = liability.history(session, case.order_id)
    assert kept["rule"] == "misrepresentation-by-host" and kept["policy_version"] == "2026.2"
    assert any(e.topic == "liability.assessed" for e in events.read(session, limit=1000))


def test_phone_case_counterfeit_claim_fails_when_the_chain_is_clean(session, later, store):
    case = stories.phone_case(session, later, store, "t2")
    result, _ = liability.assess(
        session, later, case.order_id, Finding.COUNTERFEIT, assessed_by="r"
    )
    # nothing points past the seller: no chain break, and the lab found the batch genuine
    assert result.rule == "seller-default" and result.pays_first.party == case.refs["shop"]


def test_birds_nest_independent_report_prevails_and_the_recall_reaches_every_buyer(
    session, later, store
):
    case = stories.birds_nest_case(session, later, store, "t3", buyers=5)
    r = case.refs
    found, _chain = liability.facts(session, case.order_id, Finding.COUNTERFEIT)
    assert found.prevailing is not None
    assert found.prevailing.report.document == case.docs["independent_report"]
    assert not found.prevailing.report.passed
    # both labs are accredited: independence decides, as the policy says
    assert len(found.prevailing_why) == 1
    assert (
        r["own_lab"] in found.prevailing_why[0]
        and "interest in the result" in found.prevailing_why[0]
    )

    result, _ = liability.assess(
        session, later, case.order_id, Finding.COUNTERFEIT, assessed_by="r"
    )
    assert result.rule == "counterfeit-at-source"
    assert [x.party for x in result.primary] == [r["maker"]]
    assert [x.party for x in result.joint] == [r["shop"]]
    assert result.pays_first.party == r["shop"]
    assert [x.party for x in result.recover_from] == [r["maker"]]
    assert case.docs["independent_report"] in result.primary[0].documents

    recall = recalls.recall_batch(
        session,
        later,
        "recall-nest",
        batch_id=case.batch_id,
        finding="counterfeit",
        reason="independent sampling found no bird's nest",
        evidence=[case.docs["independent_report"]],
        decided_by="reviewer:1",
    )
    assert {t.order_id for t in recall.tasks} == {case.order_id, *case.other_orders}
    assert "buyer:nest-cancelled" not in recall.buyers and len(recall.buyers) == 5
    for t in recall.tasks:
        order = orders.get_order(session, t.order_id)
        assert t.refund == order.state.paid - order.state.refunded
        assert t.compensation == max(3 * order.state.total, 50_000)
        assert t.status == "pending" and "Art. 55" in t.basis
    notices = [e for e in events.read(session, limit=1000) if e.topic == "recall.notice"]
    assert sorted(e.subject for e in notices) == sorted(recall.buyers)
    # a retry opens nothing new
    again = recalls.recall_batch(
        session,
        later,
        "recall-nest",
        batch_id=case.batch_id,
        finding="counterfeit",
        reason="independent sampling found no bird's nest",
        evidence=[case.docs["independent_report"]],
        decided_by="reviewer:1",
    )
    assert again.replayed and again.tasks == recall.tasks
    assert len([e for e in events.read(session, limit=1000) if e.topic == "recall.notice"]) == 5


def test_a_counterfeit_through_an_unauthorized_supplier(session, later, store):
    """The chain breaks at a grey-market supplier: it answers, the seller jointly."""
    case = stories.phone_case(session, later, store, "t4")
    r = case.refs
    grey = "supplier:grey-t4"
    samples.verified(session, later, grey)
    line = chains.line_of(session, case.order_id)
    batch = catalog.create_batch(
        session,
        later,
        product_id=line.product.id,
        lot="GREY-1",
        production_date=later.now().date() - timedelta(days=10),
        quantity=100,
        registered_by=r["maker"],
    )
    listing = catalog.create_listing(
        session,
        later,
        merchant=r["shop"],
        product_id=line.product.id,
        batch_ids=[batch.id],
        title="Huamei P50 cheap",
        price=99_900,
        currency="CNY",
        claims={},
    )
    o = orders.create_order(
        session,
        later,
        "grey-order",
        buyer="buyer:9",
        merchant=r["shop"],
        total=99_900,
        currency="CNY",
        category="electronics",
        listing_id=listing.id,
    )
    _, chain = chains.chain_of(session, o.id)
    kinds = [(g.kind, g.party) for g in chain.gaps]
    assert (GapKind.NO_COMMISSIONING, r["maker"]) in kinds
    assert (GapKind.HANDOVER_WITHOUT_EVENT, r["shop"]) in kinds
    assert (GapKind.MISSING_INSPECTION, None) in kinds
    # the seller is authorized through the supplier tongda; goods with no event reach the seller
    result, _ = liability.assess(session, later, o.id, Finding.COUNTERFEIT, assessed_by="r")
    assert result.rule == "seller-default"  # no event names the grey supplier: nothing proves it


def test_chain_breaks_at_the_supplier_without_authorization(session, later, store):
    case = stories.phone_case(session, later, store, "t5")
    r = case.refs
    grey = "supplier:grey-t5"
    samples.verified(session, later, grey)
    line = chains.line_of(session, case.order_id)
    batch = catalog.create_batch(
        session,
        later,
        product_id=line.product.id,
        lot="GREY-2",
        production_date=later.now().date() - timedelta(days=10),
        quantity=100,
        registered_by=r["maker"],
    )
    b = stories._Builder(session, later, store, "t5g")
    t = later.now() - timedelta(days=9)
    b.event("ObjectEvent", "commissioning", t, batch.epc_class, action="ADD", dest=r["maker"])
    b.event(
        "ObjectEvent",
        "shipping",
        t + timedelta(days=1),
        batch.epc_class,
        source=grey,
        dest=r["shop"],
    )
    b.import_events(recorded_by=grey)
    listing = catalog.create_listing(
        session,
        later,
        merchant=r["shop"],
        product_id=line.product.id,
        batch_ids=[batch.id],
        title="Huamei P50",
        price=99_900,
        currency="CNY",
    )
    o = orders.create_order(
        session,
        later,
        "grey-2",
        buyer="buyer:9",
        merchant=r["shop"],
        total=99_900,
        currency="CNY",
        category="electronics",
        listing_id=listing.id,
    )
    _, chain = chains.chain_of(session, o.id)
    assert chain.custodians == (r["maker"], grey, r["shop"])
    gaps = {(g.kind, g.party) for g in chain.gaps}
    assert (GapKind.HANDOVER_WITHOUT_EVENT, grey) in gaps  # maker -> grey: no event
    assert (GapKind.MISSING_AUTHORIZATION, grey) in gaps
    result, _ = liability.assess(session, later, o.id, Finding.COUNTERFEIT, assessed_by="r")
    assert result.rule == "counterfeit-unauthorized-source"
    assert [x.party for x in result.primary] == [grey]
    assert [x.party for x in result.joint] == [r["shop"]]
    assert result.pays_first.party == r["shop"]
    assert [x.party for x in result.recover_from] == [grey]
    assert "without a valid authorization" in result.primary[0].facts[0]


def test_manufacturing_defect_merchant_pays_and_recovers(session, later, store):
    case = stories.phone_case(session, later, store, "t6")
    r = case.refs
    report = DocumentMeta(
        DocType.INSPECTION_REPORT,
        "text/plain",
        r["lab"],
        f"batch:{case.batch_id}",
        accreditation="CNAS L0125",
    )
    doc = documents.add(session, later, store, b"battery swells at 45C", report).sha256
    catalog.add_inspection(
        session,
        later,
        batch_id=case.batch_id,
        document=doc,
        commissioned_by=r["lab"],
        sampled_on=later.now().date(),
        result=Result.FAIL,
        finding="battery swells at 45 C",
    )
    result, _ = liability.assess(
        session, later, case.order_id, Finding.SAFETY_HAZARD, assessed_by="r"
    )
    assert result.rule == "manufacturing-defect"
    assert [x.party for x in result.primary] == [r["maker"]]
    assert result.pays_first.party == r["shop"]
    assert [x.party for x in result.recover_from] == [r["maker"]]


def test_unidentifiable_seller_the_platform_pays_first(session, later, store):
    case = stories.phone_case(session, later, store, "t7")
    shop = case.refs["shop"]
    parties.decide(
        session,
        later,
        "reject-shop",
        shop,
        Status.REJECTED,
        reason="registered address does not exist; phone disconnected",
        decided_by="reviewer:2",
    )
    assert orders.parties_of(session, case.order_id)["seller"] is None
    result, _ = liability.assess(
        session, later, case.order_id, Finding.QUALITY_DEFECT, assessed_by="r"
    )
    assert result.rule == "unidentified-seller"
    assert result.pays_first.party == "platform"
    assert [x.party for x in result.recover_from] == [shop]
    assert "CRPL Art. 44" in result.basis


def test_bad_input_changes_nothing(session, later, store):
    case = stories.phone_case(session, later, store, "t8")
    with pytest.raises(ValidationFailed) as err:
        liability.assess(session, later, case.order_id, "fake", assessed_by="r")
    assert err.value.field == "finding"
    with pytest.raises(NotFound):
        liability.assess(session, later, 10**9, "counterfeit", assessed_by="r")
    with pytest.raises(ValidationFailed) as err:
        recalls.recall_batch(
            session,
            later,
            "r1",
            batch_id=case.batch_id,
            finding="counterfeit",
            reason="x",
            evidence=[],
            decided_by="r",
        )
    assert err.value.field == "evidence"
    with pytest.raises(NotFound) as err:
        recalls.recall_batch(
            session,
            later,
            "r1",
            batch_id=case.batch_id,
            finding="counterfeit",
            reason="x",
            evidence=["0" * 64],
            decided_by="r",
        )
    assert err.value.field == "evidence"
    assert liability.history(session, case.order_id) == []
    # an order without a listing cannot be traced, and says how to fix that
    samples.verified(session, later, "merchant:plain")
    deposits.pay_deposit(session, later, "d", "merchant:plain", 100_000, "CNY")
    plain = orders.create_order(
        session,
        later,
        "plain",
        buyer="buyer:1",
        merchant="merchant:plain",
        total=100,
        currency="CNY",
        category="default",
    )
    with pytest.raises(Conflict, match="create orders with listing_id"):
        chains.chain_of(session, plain.id)


def test_erroneous_events_are_not_relied_on(session, later, store):
    case = stories.phone_case(session, later, store, "t9")
    line = chains.line_of(session, case.order_id)
    exported = pe.export_document(session, later, epc=line.batch.epc_class)
    shipping = next(e for e in exported["epcisBody"]["eventList"] if e.get("bizStep") == "shipping")
    declared = dict(shipping) | {
        "errorDeclaration": {"declarationTime": later.now().isoformat(), "reason": "incorrect_data"}
    }
    doc = dict(exported) | {"epcisBody": {"eventList": [declared]}}
    pe.import_document(session, later, doc, recorded_by="r")
    _, chain = chains.chain_of(session, case.order_id)
    assert shipping["eventID"] in chain.ignored_events
    assert any(g.kind is GapKind.HANDOVER_WITHOUT_EVENT for g in chain.gaps)


def test_policy_file_is_checked():
    p = liability.policy()
    assert p.rules[-1].when == {} and [c for c, _ in p.precedence] == [
        "accredited",
        "independent",
        "later",
    ]
    bad = {
        "evidence": {"inspection_precedence": []},
        "rules": [
            {
                "id": "x",
                "findings": ["counterfeit"],
                "when": {},
                "primary": ["nobody"],
                "pays_first": "seller",
                "basis": "b",
            }
        ],
    }
    with pytest.raises(ValueError, match="unknown role"):
        model.parse_policy("v", bad)
    bad["rules"][0]["primary"] = ["seller"]
    bad["rules"][0]["when"] = {"moon_phase": True}
    with pytest.raises(ValueError, match="unknown condition"):
        model.parse_policy("v", bad)
