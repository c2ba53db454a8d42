"""Who answers for a finding and who pays the buyer first, pure: `liability.model.resolve` on
facts built by hand, and the untraceable rule of `policies/liability.yaml` (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from xinren.catalog.model import Contradiction
from xinren.liability import model
from xinren.liability import service as liability
from xinren.liability.model import Facts, Finding, Payer
from xinren.provenance.model import LabReport


def policy() -> model.Policy:
    return liability.policy()  # the shipped policy file, parsed (no database)


def report(passed: bool) -> model.Weighed:
    r = LabReport(
        "sha-report", "Lab A", "regulator", date(2026, 3, 1), passed, "sugar water", True, None
    )
    return model.Weighed(r, accredited=True, independent=True)


def facts(finding: Finding, **kw: object) -> Facts:
    base: dict[str, object] = dict(
        order_id=7,
        finding=finding,
        seller="acme",
        seller_identified=True,
        host=None,
        manufacturer="maker",
        supplier="wholesaler",
        chain_break=None,
        chain_break_detail=None,
        host_contradictions=(),
        listing_contradictions=(),
        prevailing=None,
        prevailing_why=(),
        custodians=("maker", "wholesaler", "acme"),
    )
    return Facts(**(base | kw))  # type: ignore[arg-type]


def test_an_unidentifiable_seller_makes_the_platform_pay_first():
    a = model.resolve(policy(), facts(Finding.COUNTERFEIT, seller_identified=False))
    assert a.rule == "unidentified-seller"
    assert a.pays_first.party == "platform" and [x.party for x in a.recover_from] == ["acme"]
    assert model.payer_of(a) == Payer("platform", ("acme",), "liability rule unidentified-seller")


def test_a_counterfeit_through_an_unauthorized_trader():
    a = model.resolve(
        policy(),
        facts(Finding.COUNTERFEIT, chain_break="wholesaler", chain_break_detail="no grant"),
    )
    assert a.rule == "counterfeit-unauthorized-source"
    assert [x.party for x in a.primary] == ["wholesaler"] and [x.party for x in a.joint] == ["acme"]
    assert a.pays_first.party == "acme" and [x.party for x in a.recover_from] == ["wholesaler"]
    assert "maker" in [x.party for x in a.cleared]


def test_a_failing_report_on_an_intact_chain_blames_the_maker():
    a = model.resolve(policy(), facts(Finding.COUNTERFEIT, prevailing=report(False)))
    assert a.rule == "counterfeit-at-source"
    assert a.pays_first.party == "acme" and [x.party for x in a.recover_from] == ["maker"]
    d = model.resolve(policy(), facts(Finding.SAFETY_HAZARD, prevailing=report(False)))
    assert d.rule == "manufacturing-defect" and [x.party for x in d.primary] == ["maker"]


def test_the_host_that_misdescribed_is_recovered_from():
    said = Contradiction("origin", "Yunnan", "Guangxi", "live_claim:3", "from Yunnan")
    a = model.resolve(
        policy(), facts(Finding.NOT_AS_DESCRIBED, host="star", host_contradictions=(said,))
    )
    assert a.rule == "misrepresentation-by-host"
    assert a.pays_first.party == "acme" and [x.party for x in a.recover_from] == ["star"]
    assert said.explain() in a.primary[0].facts


def test_no_evidence_past_the_seller_the_seller_answers():
    a = model.resolve(policy(), facts(Finding.QUALITY_DEFECT))
    assert a.rule == "seller-default" and a.recover_from == ()
    assert a.pays_first.party == "acme"
    # a passing report clears the maker with the reason
    b = model.resolve(policy(), facts(Finding.QUALITY_DEFECT, prevailing=report(True)))
    maker = next(x for x in b.cleared if x.party == "maker")
    assert any("conforms" in line for line in maker.facts)


def test_who_pays_first_for_an_untraceable_order():
    p = policy()
    assert model.untraceable_payer(p, "acme", True) == Payer(
        "acme", (), "the seller answers for what it sold"
    )
    assert model.untraceable_payer(p, "acme", False) == Payer(
        "platform", ("acme",), "the seller's identity cannot be produced"
    )
    assert all(r.basis for r in p.untraceable)


def test_only_an_order_of_a_listing_and_a_covered_finding_is_traced():
    assert model.traceable(True, "counterfeit")
    assert not model.traceable(False, "counterfeit")
    assert not model.traceable(True, "non_delivery")  # no liability rule covers it


def test_the_untraceable_rules_are_checked():
    body = {
        "evidence": {"inspection_precedence": []},
        "rules": [
            {
                "id": "x",
                "findings": ["counterfeit"],
                "when": {},
                "primary": ["seller"],
                "pays_first": "seller",
                "basis": "b",
            }
        ],
        "untraceable": [
            {"id": "u", "when": {}, "pays_first": "host", "explain": "e", "basis": "b"}
        ],
    }
    with pytest.raises(ValueError, match="only the seller or the platform"):
        model.parse_policy("v", body)
    body["untraceable"] = [
        {"id": "u", "when": {"seller_identified": False}, "pays_first": "platform"}
    ]
    with pytest.raises(ValueError, match="basis"):
        model.parse_policy("v", body)
    body["untraceable"][0] |= {"explain": "e", "basis": "b"}
    with pytest.raises(ValueError, match="no conditions"):
        model.parse_policy("v", body)
