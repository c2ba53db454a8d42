"""The content-addressed evidence store: sha256 names, verified reads, no overwrites."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import date

import pytest

from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.documents.store import FileStore, TamperedDocument
from xinren.errors import AlreadyExists, NotFound, ValidationFailed

REPORT = DocumentMeta(
    DocType.INSPECTION_REPORT,
    "application/pdf",
    "lab:3",
    "batch:12",
    date(2026, 1, 1),
    date(2026, 12, 31),
    "CNAS L1234",
)


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "docs")


def test_add_read_and_deduplicate(session, clock, store):
    content = b"%PDF-1.7 bird's nest sialic acid 0.1%"
    doc = documents.add(session, clock, store, content, REPORT)
    assert doc.sha256 == hashlib.sha256(content).hexdigest() and doc.size == len(content)
    again = documents.add(session, clock, store, content, REPORT)
    assert again == doc
    got, data = documents.read(session, store, doc.sha256)
    assert data == content and got.meta == REPORT
    assert [d.sha256 for d in documents.about(session, "batch:12")] == [doc.sha256]
    assert REPORT.valid_on(date(2026, 6, 1)) and not REPORT.valid_on(date(2027, 1, 1))


def test_same_bytes_other_metadata_is_refused(session, clock, store):
    documents.add(session, clock, store, b"x", REPORT)
    other = DocumentMeta(DocType.INVOICE, "application/pdf", "supplier:1", "batch:12")
    with pytest.raises(AlreadyExists, match="inspection_report from lab:3"):
        documents.add(session, clock, store, b"x", other)


def test_files_are_read_only_and_never_overwritten(store):
    digest = store.put(b"original")
    path = store.path(digest)
    assert not os.stat(path).st_mode & stat.S_IWUSR
    assert store.put(b"original") == digest
    assert path.read_bytes() == b"original"
    assert not list(path.parent.glob(".incoming-*"))


def test_a_file_changed_on_disk_is_reported_not_served(store):
    digest = store.put(b"genuine report")
    path = store.path(digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"forged report")
    with pytest.raises(TamperedDocument, match=digest):
        store.get(digest)
    with pytest.raises(TamperedDocument):  # and it is not silently replaced either
        store.put(b"genuine report")


def test_missing_and_malformed(session, store):
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(ValidationFailed):
        store.get("../etc/passwd")
    with pytest.raises(NotFound):
        documents.get(session, "a" * 64)


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        (
            DocumentMeta(DocType.SAMPLING_REPORT, "application/pdf", "lab:3", "batch:1"),
            "accreditation",
        ),
        (DocumentMeta(DocType.INVOICE, "application/pdf", "", "batch:1"), "issuer"),
        (
            DocumentMeta(
                DocType.INVOICE,
                "application/pdf",
                "s:1",
                "batch:1",
                date(2026, 2, 1),
                date(2026, 1, 1),
            ),
            "valid_to",
        ),
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_recorded(session, clock, store, meta, field):
    with pytest.raises(ValidationFailed) as info:
        documents.add(session, clock, store, b"evidence", meta)
    assert info.value.field == field
    assert not store.root.exists() or not any(store.root.rglob("*"))
