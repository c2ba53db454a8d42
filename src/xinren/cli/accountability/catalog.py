"""`xinren catalog import`: a whole catalog (parties, documents, brands, products, batches,
authorizations, listings, inspections) from one file, checked as a whole in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.progress import track
from sqlalchemy.orm import Session

from xinren.cli.accountability.helpers import (
    PROGRESS_FROM,
    InputFile,
    arguments_for,
    located,
    media_type_of,
    one_transaction,
    read_data,
    table_of,
)
from xinren.cli.accountability.parties import decide_party, trader_info
from xinren.cli.common import console, err_console, friendly_errors
from xinren.clock import Clock, SystemClock
from xinren.documents.model import SHA256, DocumentMeta
from xinren.errors import ValidationFailed
from xinren.parties.model import Status

catalog_app = typer.Typer(help="Brands, products, batches, listings.", no_args_is_help=True)


SECTIONS = (
    "parties",
    "documents",
    "brands",
    "products",
    "batches",
    "inspections",
    "authorizations",
    "listings",
)
#: A key naming an entry created earlier in the file -> (the argument it fills, its section).
REFERENCES = {
    "brand": ("brand_id", "brands"),
    "product": ("product_id", "products"),
    "batch": ("batch_id", "batches"),
    "batches": ("batch_ids", "batches"),
    "document": ("document", "documents"),
}


@dataclass(frozen=True, slots=True)
class Verification:
    """A party entry's `verify:`: the reviewer's decision recorded with the registration."""

    reason: str
    by: str


class _Importer:
    """One catalog file going in; remembers each entry's `key` so later entries can name it."""

    def __init__(self, session: Session, clock: Clock, base: Path) -> None:
        from xinren.documents.store import FileStore

        self.session, self.clock, self.base, self.store = session, clock, base, FileStore()
        self.keys: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}

    def add(self, section: str, entry: Any, where: str) -> tuple[str, str, str]:
        """Create one entry; returns its key, its id and what it is, for the report."""
        if not isinstance(entry, Mapping):
            raise ValidationFailed(f"{where} must be a mapping of name: value", field=where)
        body = dict(entry)
        key = body.pop("key", None)
        if key is not None and (not isinstance(key, str) or key in self.keys[section]):
            raise ValidationFailed(
                f"{where}.key must be text, different from other keys in {section}",
                field=f"{where}.key",
            )
        ident: str | int
        with located(where):
            if section == "parties":
                ident, what = self._party(body, where)
            elif section == "documents":
                ident, what = self._document(body, where)
            else:
                ident, what = self._catalog(section, self._resolve(body, where), where)
        if key is not None:
            self.keys[section][key] = ident
        return key or "", str(ident), what

    def _resolve(self, body: dict[str, Any], where: str) -> dict[str, Any]:
        """Replace keys of earlier entries by the ids created for them."""
        for name, (argument, section) in REFERENCES.items():
            if name not in body:
                continue
            value = body.pop(name)
            if argument.endswith("_ids"):
                if not isinstance(value, list):
                    raise ValidationFailed(f"{where}.{name} is a list", field=f"{where}.{name}")
                body[argument] = [
                    self._named(section, v, f"{where}.{name}[{i}]") for i, v in enumerate(value)
                ]
            else:
                body[argument] = self._named(section, value, f"{where}.{name}")
        return body

    def _named(self, section: str, value: Any, field: str) -> Any:
        if isinstance(value, str) and value in self.keys[section]:
            return self.keys[section][value]
        if isinstance(value, str) and section == "documents" and SHA256.match(value):
            return value  # a document stored before
        if isinstance(value, int) and section != "documents":
            return value  # an id created before
        raise ValidationFailed(
            f"{field}: no entry with key {value!r} in {section} above", field=field
        )

    def _party(self, body: dict[str, Any], where: str) -> tuple[str, str]:
        from xinren.parties import service as parties

        verify = body.pop("verify", None)
        if body.get("info") is not None:
            body["info"] = trader_info(body["info"], f"{where}.info")
        party = parties.register(
            self.session, self.clock, **arguments_for(parties.register, body, where)
        )
        if verify is not None and not party.verified:
            v = Verification(**arguments_for(Verification, verify, f"{where}.verify"))
            decide_party(self.session, self.clock, party.ref, Status.VERIFIED, v.reason, v.by)
            party = parties.get(self.session, party.ref)
        return party.ref, f"{party.display_name} ({party.status.value})"

    def _document(self, body: dict[str, Any], where: str) -> tuple[str, str]:
        from xinren.documents import service as documents

        file, text = body.pop("file", None), body.pop("text", None)
        if (file is None) == (text is None) or not isinstance(file or text, str):
            raise ValidationFailed(
                f"{where}: give the document's file (a path next to the catalog) or its text",
                field=f"{where}.file",
            )
        if file is not None:
            try:
                content = (self.base / file).read_bytes()
            except OSError as err:
                raise ValidationFailed(
                    f"{where}.file: cannot read {file}: {err.strerror}", field=f"{where}.file"
                ) from err
        else:
            content = text.encode()
        body.setdefault("media_type", media_type_of(Path(file)) if file else "text/plain")
        meta = DocumentMeta(**arguments_for(DocumentMeta, body, where))
        doc = documents.add(self.session, self.clock, self.store, content, meta)
        return doc.sha256, f"{meta.doc_type.value} from {meta.issuer}"

    def _catalog(self, section: str, body: dict[str, Any], where: str) -> tuple[int, str]:
        from xinren.catalog import service as catalog

        makers: dict[str, tuple[Callable[..., Any], Callable[[Any], str]]] = {
            "brands": (catalog.create_brand, lambda b: b.name),
            "products": (catalog.create_product, lambda p: p.name),
            "batches": (catalog.create_batch, lambda b: f"lot {b.lot}, {b.quantity} units"),
            "inspections": (catalog.add_inspection, lambda i: f"{i.result.value}: {i.finding}"),
            "authorizations": (
                catalog.authorize,
                lambda a: f"{a.grantor} → {a.grantee} ({a.scope.value})",
            ),
            "listings": (catalog.create_listing, lambda x: x.title),
        }
        create, label = makers[section]
        given = {"store": self.store} if section == "listings" else {}  # the gate reads photos
        made = create(self.session, self.clock, **arguments_for(create, body, where), **given)
        return int(made.id), label(made)


CATALOG_HELP = (
    "Create parties, documents, brands, products, batches, inspections, authorizations and "
    "listings from one YAML or JSON file: all of it, or (on any error) nothing.\n\n"
    "Sections are created in that order. An entry's keys are the keyword arguments of the "
    "service that creates it. An entry may have a key of your choosing; later entries name it "
    "with brand, product, batch, batches (a list) or document instead of an id. A party may "
    "carry info (its trader information) and verify (reason, by); a document gives file (a "
    "path next to the catalog file) or text. A full example is docs/examples/catalog.yaml; "
    "a part of it:\n\n"
    """  documents:
    - key: cesi-report
      doc_type: inspection_report
      issuer: lab:cesi
      subject: lot P50-2026A
      accreditation: CNAS L0125
      text: 20 units sampled, all conform to P50-128.
  batches:
    - key: p50-a
      product: p50
      lot: P50-2026A
      production_date: 2026-03-01
      quantity: 5000
      registered_by: manufacturer:huamei-factory
  inspections:
    - batch: p50-a
      document: cesi-report
      commissioned_by: lab:cesi
      sampled_on: 2026-04-15
      result: pass
      finding: conforms to specification P50-128"""
)


@catalog_app.command("import", help=CATALOG_HELP)
@friendly_errors
def catalog_import(file: InputFile) -> None:
    """Set up a catalog in one step, checked as a whole, rather than record by record."""
    data = read_data(file)
    if not isinstance(data, Mapping):
        raise ValidationFailed(f"{file.name} is a mapping of section: entries", field=file.name)
    for section, entries in data.items():
        if section not in SECTIONS:
            raise ValidationFailed(
                f"unknown section {section!r}; sections: {', '.join(SECTIONS)}", field=section
            )
        if not isinstance(entries, list):
            raise ValidationFailed(f"{section} is a list of entries", field=section)
    todo = [(s, f"{s}[{i}]", e) for s in SECTIONS for i, e in enumerate(data.get(s) or [])]
    rows = []
    with one_transaction() as session:
        importer = _Importer(session, SystemClock(), file.parent)
        for section, where, entry in track(
            todo, "importing", console=err_console, disable=len(todo) < PROGRESS_FROM
        ):
            rows.append((section, *importer.add(section, entry, where)))
    title = f"{len(rows)} entr(y/ies) created from {file.name}"
    console.print(table_of(title, ("section", "key", "id", "what"), rows))
