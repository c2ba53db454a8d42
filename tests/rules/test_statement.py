"""DSA statements of reasons: every rule of 2026.1 gives a schema-valid statement, sanctions map
to the right decision fields, reversed ones are left out, no names leave the platform, the
merchant's letter is complete in both languages, and batches respect the database's limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

import xinren
from xinren.errors import Conflict, ValidationFailed, XinrenError
from xinren.rules import letter
from xinren.rules import statement as sor
from xinren.rules.model import (
    Automation,
    SanctionKind,
    SanctionRecord,
    Source,
    ViolationRecord,
    parse_rulebook,
)

K = SanctionKind
RULEBOOK = Path(xinren.__file__).parent / "policies" / "rulebook" / "2026.1.yaml"
BOOK = parse_rulebook(yaml.safe_load(RULEBOOK.read_text("utf-8")))
CONDUCT = datetime(2026, 5, 3, 9, 30, tzinfo=UTC)
DECIDED = datetime(2026, 5, 10, 14, 0, tzinfo=UTC)
MERCHANT = "merchant:m-1042"
REVIEWER = "Wang Fang"  # a person: must never reach the database
DOC = "document:" + "ab" * 32


def sanction(
    kind: SanctionKind,
    *,
    days: int | None = None,
    amount: int | None = None,
    target: str = MERCHANT,
    status: str = "active",
    sid: int = 1,
) -> SanctionRecord:
    """A sanction as the service records it: warnings and penalties end the day they start."""
    ends = DECIDED if kind in (K.WARNING, K.PENALTY_PAYMENT) else None
    if days is not None:
        ends = DECIDED + timedelta(days=days)
    return SanctionRecord(sid, kind, target, "rule", None, amount, DECIDED, ends, status)


def violation(rule_id: str = "CF-1", *sanctions: SanctionRecord, **changes) -> ViolationRecord:
    rule = BOOK.rules[rule_id]
    fields = dict(
        id=7,
        subject=MERCHANT,
        rule_id=rule_id,
        rule_version=BOOK.version,
        category=rule.category,
        severity=rule.severity,
        points=rule.points.low,
        conduct_at=CONDUCT,
        decided_at=DECIDED,
        facts="Listing listing:12 sold goods from batch B-7 without the brand owner's consent.",
        evidence=(DOC, "order:31"),
        source=Source.OWN_INITIATIVE,
        source_identity=None,
        automated_detection=True,
        automated_decision=Automation.NOT_AUTOMATED,
        decided_by=REVIEWER,
        status="active",
        sanctions=sanctions,
    )
    fields.update(changes)
    return ViolationRecord(**fields)


def permitted(kind: SanctionKind, sid: int = 1) -> SanctionRecord:
    """A plausible sanction of each kind, as a rule would impose it."""
    return {
        K.WARNING: sanction(K.WARNING, sid=sid),
        K.LISTING_REMOVAL: sanction(K.LISTING_REMOVAL, target="listing:12", sid=sid),
        K.TRAFFIC_RESTRICTION: sanction(K.TRAFFIC_RESTRICTION, days=7, sid=sid),
        K.NEW_LISTING_BAN: sanction(K.NEW_LISTING_BAN, days=7, sid=sid),
        K.SETTLEMENT_FREEZE: sanction(K.SETTLEMENT_FREEZE, days=30, amount=120000, sid=sid),
        K.PENALTY_PAYMENT: sanction(K.PENALTY_PAYMENT, amount=500000, sid=sid),
        K.SUSPENSION: sanction(K.SUSPENSION, days=30, sid=sid),
        K.CLEARANCE: sanction(K.CLEARANCE, sid=sid),
    }[kind]


def make(v: ViolationRecord, **kw) -> dict:
    return sor.statement(v, BOOK.rules[v.rule_id], BOOK, **kw)


EACH = [(rid, k) for rid, rule in BOOK.rules.items() for k in sorted(rule.sanctions)]


@pytest.mark.parametrize(("rule_id", "kind"), EACH, ids=[f"{r}-{k}" for r, k in EACH])
def test_every_rule_and_each_permitted_sanction_gives_a_valid_statement(rule_id, kind):
    s = make(violation(rule_id, permitted(kind)))
    sor.validate(s)  # statement() validated already; the public check agrees
    assert s["category"] == BOOK.rules[rule_id].dsa["category"]


@pytest.mark.parametrize("rule_id", sorted(BOOK.rules))
def test_every_rule_with_all_its_sanctions_together_gives_a_valid_statement(rule_id):
    kinds = sorted(BOOK.rules[rule_id].sanctions)
    s = make(violation(rule_id, *(permitted(k, i) for i, k in enumerate(kinds))))
    assert s["puid"] == "xinren-violation-7"
    assert s["content_type"] == ["CONTENT_TYPE_PRODUCT"]
    assert s["account_type"] == "ACCOUNT_TYPE_BUSINESS"


def test_counterfeit_with_removal_penalty_and_freeze_maps_to_the_right_fields():
    v = violation(
        "CF-1",
        sanction(K.LISTING_REMOVAL, target="listing:12", sid=1),
        sanction(K.PENALTY_PAYMENT, amount=500000, status="ended", sid=2),
        sanction(K.SETTLEMENT_FREEZE, days=30, amount=120000, sid=3),
        points=12,
    )
    s = make(v)
    assert s["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert s["end_date_visibility_restriction"] is None  # a removal has no end
    assert s["decision_monetary"] == "DECISION_MONETARY_OTHER"  # the penalty outweighs a freeze
    assert s["end_date_monetary_restriction"] == "2026-06-09"  # money held until the freeze ends
    assert s["decision_monetary_other"] == (
        "penalty of CNY 5,000.00 deducted from the deposit; settlements also frozen until "
        "2026-06-09"
    )
    assert "decision_provision" not in s and "decision_account" not in s
    assert s["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert s["illegal_content_legal_ground"].startswith("Trademark Law of the PRC Art. 57")
    assert s["illegal_content_explanation"].startswith("Selling counterfeit goods: ")
    assert s["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert s["category_specification"] == ["KEYWORD_TRADEMARK_INFRINGEMENT"]
    assert "category_specification_other" not in s
    assert (s["content_date"], s["application_date"]) == ("2026-05-03", "2026-05-10")
    assert (s["automated_detection"], s["automated_decision"]) == (
        "Yes",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    )
    assert s["source_type"] == "SOURCE_VOLUNTARY" and "source_identity" not in s
    assert "territorial_scope" not in s  # 2026.1 names none
    facts = s["decision_facts"]
    for part in ("CF-1", "rulebook 2026.1", "12 serious points", DOC, "order:31", "listing:12"):
        assert part in facts
    assert facts.endswith(v.facts)


def test_a_freeze_alone_is_a_monetary_suspension_with_its_end_date():
    s = make(violation("CF-1", sanction(K.SETTLEMENT_FREEZE, days=21)))
    assert s["decision_monetary"] == "DECISION_MONETARY_SUSPENSION"
    assert s["end_date_monetary_restriction"] == "2026-05-31"
    assert "decision_monetary_other" not in s


def test_reversed_sanctions_are_left_out():
    v = violation(
        "CF-1",
        sanction(K.LISTING_REMOVAL, target="listing:12", sid=1),
        sanction(K.PENALTY_PAYMENT, amount=500000, status="reversed", sid=2),
        sanction(K.SETTLEMENT_FREEZE, days=30, status="reversed", sid=3),
    )
    s = make(v)
    assert "decision_monetary" not in s and "decision_monetary_other" not in s
    assert "penalty" not in s["decision_facts"] and "settlement" not in s["decision_facts"]
    assert "penalty" not in letter.plain_text(v, BOOK.rules["CF-1"], BOOK)


def test_a_violation_whose_sanctions_were_all_reversed_has_nothing_to_report():
    v = violation("CF-1", sanction(K.LISTING_REMOVAL, target="listing:12", status="reversed"))
    with pytest.raises(Conflict, match="no sanction in force"):
        make(v)


def test_clearance_terminates_the_account_with_no_end_date():
    s = make(violation("PG-1", sanction(K.CLEARANCE), points=48))
    assert s["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert s["end_date_account_restriction"] is None
    assert s["category"] == "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"


def test_suspension_suspends_service_and_account_and_the_heaviest_provision_wins():
    v = violation(
        "TI-1",
        sanction(K.NEW_LISTING_BAN, days=7, sid=1),
        sanction(K.SUSPENSION, days=30, sid=2),  # e.g. a ladder threshold
    )
    s = make(v)
    assert s["decision_provision"] == "DECISION_PROVISION_TOTAL_SUSPENSION"
    assert s["end_date_service_restriction"] == "2026-06-09"
    assert s["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert s["end_date_account_restriction"] == "2026-06-09"


def test_a_warning_alone_is_visibility_other_and_is_dropped_beside_a_real_restriction():
    s = make(violation("LF-1", sanction(K.WARNING)))
    assert s["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
    assert s["decision_visibility_other"] == "warning"
    s = make(violation("MR-1", sanction(K.WARNING, sid=1), sanction(K.TRAFFIC_RESTRICTION, days=7)))
    assert s["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DEMOTED"]
    assert s["end_date_visibility_restriction"] == "2026-05-17"
    assert "decision_visibility_other" not in s


def test_incompatible_ground_and_keyword_other():
    s = make(violation("LF-1", sanction(K.WARNING), points=1))
    assert s["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert s["incompatible_content_ground"] == (
        "Xinren rulebook LF-1: ship within the promised time"
    )
    assert s["category_specification"] == ["KEYWORD_OTHER"]
    assert s["category_specification_other"] == "Late fulfilment"
    assert "illegal_content_legal_ground" not in s


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (Source.NOTICE, "SOURCE_ARTICLE_16"),
        (Source.TRUSTED_FLAGGER, "SOURCE_TRUSTED_FLAGGER"),
        (Source.COMPLAINT, "SOURCE_TYPE_OTHER_NOTIFICATION"),
        (Source.AUTOMATED_DETECTION, "SOURCE_VOLUNTARY"),
        (Source.INSPECTION, "SOURCE_VOLUNTARY"),
        (Source.OWN_INITIATIVE, "SOURCE_VOLUNTARY"),
    ],
)
def test_source_type_and_identity_only_for_notifications(source, expected):
    s = make(violation("CF-1", sanction(K.WARNING), source=source, source_identity="brand:b-9"))
    assert s["source_type"] == expected
    assert s.get("source_identity") == (None if expected == "SOURCE_VOLUNTARY" else "brand:b-9")


@pytest.mark.parametrize("notifier", ["buyer:wang-xiaoming", "host:li", "reviewer:ann"])
def test_a_notifier_who_may_be_a_person_is_not_named(notifier):
    s = make(violation("CF-1", sanction(K.WARNING), source=Source.NOTICE, source_identity=notifier))
    assert s["source_type"] == "SOURCE_ARTICLE_16" and "source_identity" not in s
    flagged = make(
        violation(
            "CF-1", sanction(K.WARNING), source=Source.TRUSTED_FLAGGER, source_identity="cca:x"
        )
    )
    assert flagged["source_identity"] == "cca:x"


def test_automation_territorial_scope_reference_url_and_puid_prefix():
    from dataclasses import replace

    book = replace(BOOK, territorial_scope=("DE", "FR"))
    rule = replace(
        BOOK.rules["CF-1"], dsa={**BOOK.rules["CF-1"].dsa, "reference_url": "https://x.test/r"}
    )
    v = violation(
        "CF-1",
        sanction(K.WARNING),
        automated_detection=False,
        automated_decision=Automation.PARTIALLY,
    )
    s = sor.statement(v, rule, book, puid_prefix="xinren-eu")
    assert s["territorial_scope"] == ["DE", "FR"]
    assert s["decision_ground_reference_url"] == "https://x.test/r"
    assert s["automated_detection"] == "No"
    assert s["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert s["puid"] == "xinren-eu-violation-7"


def test_no_legal_names_reach_the_statement():
    v = violation(
        "CF-1",
        sanction(K.LISTING_REMOVAL, target="listing:12"),
        source=Source.NOTICE,
        source_identity="brand:b-9",
    )
    text = json.dumps(make(v), ensure_ascii=False)
    assert REVIEWER not in text and "decided_by" not in text
    assert MERCHANT in text and "brand:b-9" in text  # parties by their refs only


def test_long_facts_are_cut_to_the_limit_keeping_the_rule_and_evidence():
    s = make(violation("CF-1", sanction(K.WARNING), facts="x" * 6000))
    assert len(s["decision_facts"]) == 5000 and s["decision_facts"].endswith("…")
    assert s["decision_facts"].startswith(f"Merchant {MERCHANT}; rule CF-1")
    assert DOC in s["decision_facts"]


def test_an_invalid_statement_is_our_bug_not_the_callers(monkeypatch):
    monkeypatch.setitem(BOOK.rules["CF-1"].dsa, "category", "STATEMENT_CATEGORY_NOPE")
    with pytest.raises(XinrenError) as caught:
        make(violation("CF-1", sanction(K.WARNING)))
    assert not isinstance(caught.value, ValidationFailed)
    assert caught.value.status == 500 and caught.value.field == "category"
    assert "STATEMENT_CATEGORY_NOPE" in caught.value.detail


def test_a_bad_puid_prefix_is_caught():
    with pytest.raises(XinrenError) as caught:
        make(violation("CF-1", sanction(K.WARNING)), puid_prefix="xinren eu")
    assert caught.value.field == "puid"


def test_a_record_under_another_rule_is_refused():
    with pytest.raises(XinrenError, match="decided under CF-1"):
        sor.statement(violation("CF-1", sanction(K.WARNING)), BOOK.rules["MR-1"], BOOK)


def test_the_packaged_example_is_valid():
    example = json.loads(
        (Path(sor.__file__).parent / "dsa_schema" / "example-statement.json").read_text("utf-8")
    )
    sor.validate(example)


# --- the letter ---


def counterfeit() -> ViolationRecord:
    return violation(
        "CF-1",
        sanction(K.LISTING_REMOVAL, target="listing:12", sid=1),
        sanction(K.PENALTY_PAYMENT, amount=500000, status="ended", sid=2),
        sanction(K.SETTLEMENT_FREEZE, days=30, amount=120000, sid=3),
        points=12,
    )


@pytest.mark.parametrize(
    ("lang", "title", "appeal", "free", "next_step"),
    [
        ("en", "Selling counterfeit goods", "within 180 days", "free of charge", "At 36 serious"),
        ("zh", "出售假冒商品", "180 天内", "申诉免费", "累计达到 36 分（严重违规）"),
    ],
)
def test_plain_text_names_rule_points_sanctions_and_the_appeal_window(
    lang, title, appeal, free, next_step
):
    text = letter.plain_text(
        counterfeit(), BOOK.rules["CF-1"], BOOK, lang, totals={"serious": 24, "general": 3}
    )
    for part in ("CF-1", "2026.1", title, " 12 ", "24", appeal, free, "2026-11-06", next_step):
        assert part in text, part
    for part in ("listing:12", "CNY 5,000.00", "2026-06-09", DOC, "order:31", "2026-05-03"):
        assert part in text, part
    assert REVIEWER not in text


def test_plain_text_without_totals_leaves_the_total_out():
    text = letter.plain_text(counterfeit(), BOOK.rules["CF-1"], BOOK, "en")
    assert "add up to" not in text and "within 180 days" in text


def test_plain_text_refuses_an_unknown_language():
    with pytest.raises(ValidationFailed) as caught:
        letter.plain_text(counterfeit(), BOOK.rules["CF-1"], BOOK, "fr")
    assert caught.value.field == "lang"


# --- batches ---


def test_250_statements_make_batches_of_100_100_50_all_valid():
    statements = [make(violation("CF-1", sanction(K.WARNING), id=i)) for i in range(1, 251)]
    out = sor.batches(statements)
    assert [len(b["statements"]) for b in out] == [100, 100, 50]
    assert [s["puid"] for b in out for s in b["statements"]] == [s["puid"] for s in statements]
    assert sor.batches([]) == []


def test_a_bad_statement_sinks_its_batch_and_is_named():
    statements = [make(violation("CF-1", sanction(K.WARNING), id=i)) for i in range(1, 6)]
    statements[3] = {**statements[3], "category": "STATEMENT_CATEGORY_NOPE"}
    with pytest.raises(XinrenError) as caught:
        sor.batches(statements)
    assert caught.value.status == 500 and caught.value.field == "statements[3].category"
