"""Document metadata rules, pure: what a piece of evidence must say about itself."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from xinren.errors import ValidationFailed

SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: How an EPCIS event names a Xinren document (bizTransaction or certificationInfo).
DOCUMENT_URI_PREFIX = "urn:xinren:document:"


class DocType(enum.StrEnum):
    BRAND_AUTHORIZATION = "brand_authorization"
    INSPECTION_REPORT = "inspection_report"
    SAMPLING_REPORT = "sampling_report"
    INVOICE = "invoice"
    SCREENSHOT = "screenshot"
    STREAM_RECORDING = "stream_recording"
    BUSINESS_LICENSE = "business_license"
    OTHER = "other"


LAB_REPORTS = frozenset({DocType.INSPECTION_REPORT, DocType.SAMPLING_REPORT})


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    doc_type: DocType
    media_type: str
    issuer: str  # a party reference, e.g. "lab:3" or "brand_owner:7"
    subject: str  # what it is about, e.g. "batch:12", "listing:9", "order:1001"
    valid_from: date | None = None
    valid_to: date | None = None
    accreditation: str | None = None  # e.g. the CNAS/CMA number of the issuing lab

    def check(self) -> None:
        """Raise naming the field when the metadata cannot stand as evidence."""
        for name in ("issuer", "subject", "media_type"):
            value = getattr(self, name)
            if not value or len(value) > 200:
                raise ValidationFailed(f"{name} is required (at most 200 characters)", field=name)
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationFailed("valid_to is before valid_from", field="valid_to")
        if self.doc_type in LAB_REPORTS and not self.accreditation:
            raise ValidationFailed(
                "an inspection or sampling report must name the issuing lab's accreditation "
                "(e.g. its CNAS or CMA number)",
                field="accreditation",
            )

    def valid_on(self, day: date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)


def check_digest(value: str) -> str:
    """A document's id is the sha256 of its bytes, so anything else names no document."""
    if not SHA256.match(value):
        raise ValidationFailed("a document id is a lower-case sha256 hex digest", field="sha256")
    return value


def document_uri(sha256: str) -> str:
    """The URI an EPCIS event uses to link a Xinren document, e.g. urn:xinren:document:<sha>."""
    return DOCUMENT_URI_PREFIX + sha256


@dataclass(frozen=True, slots=True)
class Grant:
    """A brand authorization: the catalog records it, the chain of custody reasons with it."""

    id: int
    grantor: str
    grantee: str
    scope: str
    valid_from: date
    valid_to: date
    document: str
    revoked: bool
    brand_id: int | None = None

    def valid_on(self, day: date) -> bool:
        return not self.revoked and self.valid_from <= day <= self.valid_to


def authorized_by(owner: str, grants: Sequence[Grant], day: date) -> frozenset[str]:
    """Who holds a brand's authority on `day`: its owner, every distributor reached from the
    owner through valid 'distribute' grants, and every party one of them granted (to sell or to
    distribute). The one rule for the counterfeit gate and the chain of custody alike."""
    valid = [g for g in grants if g.valid_on(day)]
    granting = {owner}
    grown = True
    while grown:
        new = {g.grantee for g in valid if g.grantor in granting and g.scope == "distribute"}
        grown = bool(new - granting)
        granting |= new
    return frozenset(granting | {g.grantee for g in valid if g.grantor in granting})


def may_read(meta: DocumentMeta, reader: str | None, *, staff: bool) -> bool:
    """Evidence is for staff, its issuer and the party it is about: invoices and reports carry
    prices and business terms, so to anyone else a document does not exist."""
    return staff or (reader is not None and reader in (meta.issuer, meta.subject))


def may_file(issuer: str, uploader: str | None, *, editor: bool) -> bool:
    """Reviewers and the platform file evidence whoever issued it; any other party files only
    documents it issued itself, so no one can put a report in a lab's or an owner's name."""
    return editor or issuer == uploader
