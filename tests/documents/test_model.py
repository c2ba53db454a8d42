"""What a piece of evidence must say about itself, and when a brand authorization holds: pure
rules, no database."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import pytest

from xinren.documents.model import (
    DOCUMENT_URI_PREFIX,
    LAB_REPORTS,
    DocType,
    DocumentMeta,
    Grant,
    authorized_by,
    check_digest,
    document_uri,
    may_file,
    may_read,
)
from xinren.errors import ValidationFailed

DIGEST = hashlib.sha256(b"evidence").hexdigest()


def test_a_document_id_is_a_lower_case_sha256_hex_digest():
    assert check_digest(DIGEST) == DIGEST
    for wrong in (DIGEST.upper(), DIGEST[:-1], DIGEST + "0", "g" * 64, "", f" {DIGEST}"):
        with pytest.raises(ValidationFailed) as caught:
            check_digest(wrong)
        assert caught.value.field == "sha256"


def test_an_epcis_event_names_a_document_by_its_digest():
    assert document_uri(DIGEST) == DOCUMENT_URI_PREFIX + DIGEST == f"urn:xinren:document:{DIGEST}"


BASE = DocumentMeta(DocType.INVOICE, "application/pdf", "supplier:1", "batch:2")


def _meta(**changes):
    return replace(BASE, **changes)


@pytest.mark.parametrize("name", ["issuer", "subject", "media_type"])
def test_issuer_subject_and_media_type_are_required_and_bounded(name):
    _meta(**{name: "x" * 200}).check()
    for bad in ("", "x" * 201):
        with pytest.raises(ValidationFailed) as caught:
            _meta(**{name: bad}).check()
        assert caught.value.field == name


def test_validity_may_not_end_before_it_starts():
    _meta(valid_from=date(2026, 1, 1), valid_to=date(2026, 1, 1)).check()
    with pytest.raises(ValidationFailed) as caught:
        _meta(valid_from=date(2026, 1, 2), valid_to=date(2026, 1, 1)).check()
    assert caught.value.field == "valid_to"


@pytest.mark.parametrize("doc_type", sorted(LAB_REPORTS))
def test_a_lab_report_names_the_labs_accreditation(doc_type):
    with pytest.raises(ValidationFailed) as caught:
        _meta(doc_type=doc_type).check()
    assert caught.value.field == "accreditation"
    _meta(doc_type=doc_type, accreditation="CNAS L1234").check()
    _meta(doc_type=DocType.INVOICE).check()  # other documents need none


def test_validity_bounds_are_inclusive_and_open_ends_are_unbounded():
    meta = _meta(valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
    assert meta.valid_on(date(2026, 1, 1)) and meta.valid_on(date(2026, 12, 31))
    assert not meta.valid_on(date(2025, 12, 31)) and not meta.valid_on(date(2027, 1, 1))
    assert _meta().valid_on(date(1970, 1, 1))
    assert _meta(valid_to=date(2026, 1, 1)).valid_on(date(2000, 1, 1))
    assert _meta(valid_from=date(2026, 1, 1)).valid_on(date(2100, 1, 1))


def _grant(revoked: bool = False) -> Grant:
    return Grant(
        1,
        "brand_owner:o",
        "merchant:s",
        "sell",
        date(2026, 1, 1),
        date(2026, 6, 30),
        DIGEST,
        revoked,
    )


def test_a_grant_holds_from_its_first_to_its_last_day_unless_revoked():
    grant = _grant()
    assert grant.valid_on(date(2026, 1, 1)) and grant.valid_on(date(2026, 6, 30))
    assert not grant.valid_on(date(2025, 12, 31)) and not grant.valid_on(date(2026, 7, 1))
    assert not _grant(revoked=True).valid_on(date(2026, 3, 1))


def test_evidence_is_read_by_staff_its_issuer_and_the_party_it_is_about():
    meta = _meta(issuer="lab:3", subject="merchant:acme")
    assert may_read(meta, None, staff=True)
    assert may_read(meta, "lab:3", staff=False) and may_read(meta, "merchant:acme", staff=False)
    assert not may_read(meta, "merchant:rival", staff=False)
    assert not may_read(meta, None, staff=False)


def test_a_party_files_only_documents_it_issued_unless_an_editor_files_them():
    assert may_file("lab:3", "lab:3", editor=False)
    assert not may_file("lab:3", "merchant:acme", editor=False)
    assert not may_file("lab:3", None, editor=False)
    assert may_file("lab:3", None, editor=True)


def _g(n: int, grantor: str, grantee: str, scope: str, to: date = date(2026, 12, 31)) -> Grant:
    return Grant(n, grantor, grantee, scope, date(2026, 1, 1), to, DIGEST, False)


def test_a_brands_authority_runs_from_the_owner_through_distributors_to_sellers():
    owner = "brand_owner:o"
    grants = [
        _g(1, owner, "supplier:d1", "distribute"),
        _g(2, "supplier:d1", "supplier:d2", "distribute"),
        _g(3, "supplier:d2", "merchant:a", "sell"),
        _g(4, "merchant:a", "merchant:b", "sell"),  # a seller cannot pass authority on
        _g(5, "supplier:x", "merchant:c", "sell"),  # granted by someone without authority
        _g(6, owner, "merchant:late", "sell", to=date(2026, 3, 31)),  # expired by June
    ]
    held = authorized_by(owner, grants, date(2026, 6, 1))
    assert held == {owner, "supplier:d1", "supplier:d2", "merchant:a"}
    assert "merchant:late" in authorized_by(owner, grants, date(2026, 3, 1))
    # without the first link, nothing below it holds
    assert authorized_by(owner, grants[1:], date(2026, 6, 1)) == {owner}
