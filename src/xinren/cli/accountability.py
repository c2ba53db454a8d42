"""`xinren parties | documents | catalog | epcis | chain | liability | recall`.

The accountability records from a terminal, through the same services as the API: each command
is one transaction, so a command that fails has written nothing.
"""

from __future__ import annotations

import inspect
import json
import mimetypes
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, get_args, get_type_hints

import typer
import yaml
from rich.markup import escape
from rich.progress import track
from rich.table import Table
from sqlalchemy.orm import Session

from xinren.cli.common import console, err_console, friendly_errors, opened
from xinren.clock import Clock, SystemClock
from xinren.db import session_factory, unit_of_work
from xinren.documents.model import SHA256, DocType, DocumentMeta
from xinren.errors import Conflict, ValidationFailed, XinrenError
from xinren.ids import payload_hash
from xinren.liability.model import Finding
from xinren.parties.model import KINDS, Status, TraderInfo

app = typer.Typer()
parties_app = typer.Typer(help="Traders: register, verify, show.", no_args_is_help=True)
documents_app = typer.Typer(
    help="Evidence files (reports, authorizations, ...).", no_args_is_help=True
)
catalog_app = typer.Typer(help="Brands, products, batches, listings.", no_args_is_help=True)
epcis_app = typer.Typer(help="GS1 EPCIS 2.0 provenance events.", no_args_is_help=True)
app.add_typer(parties_app, name="parties")
app.add_typer(documents_app, name="documents")
app.add_typer(catalog_app, name="catalog")
app.add_typer(epcis_app, name="epcis")

#: A catalog file of this many entries shows a progress bar (an EPCIS file: one of many parts).
PROGRESS_FROM = 200
#: EPCIS events imported per part; all parts share one transaction.
EPCIS_CHUNK = 500

InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
Reviewer = Annotated[str, typer.Option("--by", help="who decides, e.g. reviewer:wang")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


# --- shared helpers ---


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the configured database, committed only if the command finishes."""
    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        yield session


def _read(path: Path) -> Any:
    """A JSON (.json, .jsonld) or YAML file's data; unreadable content is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix in (".json", ".jsonld") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise ValidationFailed(f"cannot read {path}: {err}", field=path.name) from err


def _print_json(body: Any) -> None:
    print(json.dumps(body, indent=2, ensure_ascii=False, default=str))


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A table whose cells are shown as given: never read as markup, never cut short."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else escape(str(v)) for v in row))
    return table


def _short(sha256: str) -> str:
    return sha256[:12] + "…"


def _when(iso: str | None) -> str:
    """An ISO timestamp to the minute, which is what a reader compares."""
    return (iso or "")[:16].replace("T", " ")


def _key(*parts: Any) -> str:
    """An idempotency key derived from what a command does, so running it again is a replay."""
    return f"cli-{payload_hash(list(parts))[:40]}"


def _coerce(hint: Any, value: Any, field: str) -> Any:
    """A JSON/YAML value as the parameter's type: ISO dates and enum values converted, plain
    text, numbers and booleans checked (services assume their types)."""
    options = (
        [a for a in get_args(hint) if a is not type(None)]
        if isinstance(hint, UnionType)
        else [hint]
    )
    kind = options[0] if len(options) == 1 and isinstance(options[0], type) else None
    if value is None or kind is None:
        return value
    try:
        if issubclass(kind, Enum):
            return kind(value)
        if kind is date and isinstance(value, datetime):
            return value.date()
        if kind is date and isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        wanted = (
            f"one of {', '.join(str(m.value) for m in kind)}"
            if issubclass(kind, Enum)
            else "a date (YYYY-MM-DD)"
        )
        raise ValidationFailed(f"{field} is {wanted}; got {value!r}", field=field) from None
    if kind in (str, int, bool, date) and (
        not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    ):
        raise ValidationFailed(f"{field} must be a {kind.__name__}; got {value!r}", field=field)
    return value


def _arguments(target: Callable[..., Any], data: Any, where: str) -> dict[str, Any]:
    """`data` as keyword arguments of `target` (a service function or a dataclass): unknown and
    missing keys and values of the wrong type are errors naming their place in the input."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(f"{where} must be a mapping of name: value", field=where)
    hints = get_type_hints(target)
    params = {
        name: p
        for name, p in inspect.signature(target).parameters.items()
        if name not in ("session", "clock")
    }
    for name in data:
        if name not in params:
            known = ", ".join(params)
            raise ValidationFailed(
                f"{where}: unknown key {name!r}; known: {known}", field=f"{where}.{name}"
            )
    for name, p in params.items():
        if p.default is inspect.Parameter.empty and name not in data:
            raise ValidationFailed(f"{where}.{name} is required", field=f"{where}.{name}")
    return {k: _coerce(hints.get(k), v, f"{where}.{k}") for k, v in data.items()}


def _media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Say which entry of the input file a service's error is about, e.g. `listings[0].price`."""
    try:
        yield
    except XinrenError as err:
        if err.field and err.field.startswith(where):
            raise
        field = f"{where}.{err.field}" if err.field else where
        raise type(err)(f"{where}: {err.detail}", field=field, **err.extra) from err


# --- parties ---


def _trader_info(data: Any, where: str) -> TraderInfo:
    """Trader information from a file, checked here so every error names its place there."""
    info = TraderInfo(**_arguments(TraderInfo, data, where))
    with _located(where):
        info.check()
    return info


def _decide(session: Session, clock: Clock, ref: str, to: Status, reason: str, by: str) -> bool:
    """Record a reviewer's decision once; returns whether it changed anything.

    The key is ref + decision + reason: the same command again is a no-op, but the same reason
    cannot record a later, second decision of that kind (it would be silently skipped)."""
    from xinren.parties import service as parties

    before = parties.get(session, ref).status
    after = parties.decide(
        session, clock, _key(ref, to, reason), ref, to, reason=reason, decided_by=by
    ).status
    if after is not to:
        raise Conflict(
            f"this decision ({to.value}, with this reason) was recorded for {ref} before, and "
            f"{ref} is {after.value} now; give the new decision its own --reason",
            field="reason",
        )
    return before is not to


@parties_app.command("register")
@friendly_errors
def parties_register(
    ref: Annotated[str, typer.Argument(help="<kind>:<id>, e.g. merchant:acme")],
    name: Annotated[str, typer.Option(help="the display name")],
    info: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="trader information, a JSON file"),
    ] = None,
    accreditation: Annotated[str | None, typer.Option(help="a lab's CNAS/CMA number")] = None,
    affiliated_with: Annotated[str | None, typer.Option(help="the party it belongs to")] = None,
) -> None:
    """Register a party; with --info (legal_name, address, registration_number,
    payment_account, contact_email or contact_phone, self_certified) it awaits review."""
    from xinren.parties import service as parties

    trader = _trader_info(_read(info), "info") if info else None
    with _session() as session:
        party = parties.register(
            session,
            SystemClock(),
            ref,
            display_name=name,
            info=trader,
            accreditation=accreditation,
            affiliated_with=affiliated_with,
        )
    console.print(f"{escape(party.ref)} registered: {party.status.value}")


@parties_app.command("show")
@friendly_errors
def parties_show(ref: str) -> None:
    """Show a party's full identity and its verification history."""
    from xinren.parties import service as parties

    with _session() as session:
        party, history = parties.get(session, ref), parties.history(session, ref)
    console.print(_table(ref, ("field", "value"), list(party.full().items())))
    rows = [
        (_when(h["at"]), f"{h['from']} → {h['to']}", h["reason"], h["decided_by"]) for h in history
    ]
    console.print(_table("verification history", ("at", "status", "reason", "by"), rows))


@parties_app.command("list")
@friendly_errors
def parties_list(
    kind: Annotated[str | None, typer.Option(help=", ".join(KINDS))] = None,
    status: Annotated[Status | None, typer.Option()] = None,
) -> None:
    """List parties, optionally of one kind or status."""
    from xinren.parties import service as parties

    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(KINDS)}", field="kind")
    with _session() as session:
        found = parties.list_parties(
            session, kind=kind, status=status.value if status else None, limit=10_000
        )
    rows = [(p.ref, p.display_name, p.status.value, p.accreditation) for p in found]
    console.print(
        _table(f"{len(rows)} part(y/ies)", ("ref", "name", "status", "accreditation"), rows)
    )


def _decision_command(verb: str, to: Status) -> None:
    @parties_app.command(verb, help=f"Record a reviewer's decision: the trader is {to.value}.")
    @friendly_errors
    def command(
        ref: str,
        reason: Annotated[str, typer.Option(help="why; kept in the party's history")],
        by: Reviewer,
    ) -> None:
        with _session() as session:
            changed = _decide(session, SystemClock(), ref, to, reason, by)
        console.print(f"{escape(ref)} is {to.value}" + ("" if changed else " (already recorded)"))


for _verb, _to in (
    ("verify", Status.VERIFIED),
    ("reject", Status.REJECTED),
    ("suspend", Status.SUSPENDED),
):
    _decision_command(_verb, _to)


@parties_app.command("submit-info")
@friendly_errors
def parties_submit_info(ref: str, file: InputFile) -> None:
    """Submit or correct a trader's information (a JSON file); it then awaits verification."""
    from xinren.parties import service as parties

    info = _trader_info(_read(file), "info")
    with _session() as session:
        party = parties.submit_info(
            session, SystemClock(), _key(ref, asdict(info)), ref, info, actor=ref
        )
    console.print(f"{escape(ref)} is {party.status.value}")


# --- documents ---


@documents_app.command("add")
@friendly_errors
def documents_add(
    file: InputFile,
    doc_type: Annotated[DocType, typer.Option("--type", help="what the document is")],
    issuer: Annotated[str, typer.Option(help="the party that issued it, e.g. lab:cesi")],
    subject: Annotated[str, typer.Option(help="what it is about, e.g. batch:12")],
    accreditation: Annotated[str | None, typer.Option(help="the issuing lab's number")] = None,
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    valid_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    media_type: Annotated[str | None, typer.Option(help="default: from the file name")] = None,
) -> None:
    """Store an evidence file; prints its sha256, by which other records cite it."""
    from xinren.documents import service as documents
    from xinren.documents.store import FileStore

    meta = DocumentMeta(
        doc_type,
        media_type or _media_type(file),
        issuer,
        subject,
        _coerce(date, valid_from, "valid_from"),
        _coerce(date, valid_to, "valid_to"),
        accreditation,
    )
    with _session() as session:
        doc = documents.add(session, SystemClock(), FileStore(), file.read_bytes(), meta)
    err_console.print(
        f"[dim]{doc.meta.doc_type.value} from {escape(issuer)}, {doc.size} bytes[/dim]"
    )
    print(doc.sha256)


# --- catalog import ---

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
        with _located(where):
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
            body["info"] = _trader_info(body["info"], f"{where}.info")
        party = parties.register(
            self.session, self.clock, **_arguments(parties.register, body, where)
        )
        if verify is not None and not party.verified:
            v = Verification(**_arguments(Verification, verify, f"{where}.verify"))
            _decide(self.session, self.clock, party.ref, Status.VERIFIED, v.reason, v.by)
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
        body.setdefault("media_type", _media_type(Path(file)) if file else "text/plain")
        meta = DocumentMeta(**_arguments(DocumentMeta, body, where))
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
        made = create(self.session, self.clock, **_arguments(create, body, where))
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
    data = _read(file)
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
    with _session() as session:
        importer = _Importer(session, SystemClock(), file.parent)
        for section, where, entry in track(
            todo, "importing", console=err_console, disable=len(todo) < PROGRESS_FROM
        ):
            rows.append((section, *importer.add(section, entry, where)))
    title = f"{len(rows)} entr(y/ies) created from {file.name}"
    console.print(_table(title, ("section", "key", "id", "what"), rows))


# --- EPCIS ---


def _parts(document: Any) -> list[tuple[int, Any]]:
    """The document as documents of at most EPCIS_CHUNK events, each with its first index."""
    try:
        event_list = document["epcisBody"]["eventList"]
    except (TypeError, KeyError):
        return [(0, document)]  # not a document: the import says why
    if not isinstance(event_list, list) or len(event_list) <= EPCIS_CHUNK:
        return [(0, document)]
    return [
        (i, {**document, "epcisBody": {**document["epcisBody"], "eventList": event_list[i:j]}})
        for i, j in ((i, i + EPCIS_CHUNK) for i in range(0, len(event_list), EPCIS_CHUNK))
    ]


@contextmanager
def _offset(first: int) -> Iterator[None]:
    """Number the events in an error by their place in the whole document, not the part."""
    try:
        yield
    except XinrenError as err:
        if not first:
            raise

        def shift(text: str) -> str:
            return re.sub(r"eventList\[(\d+)\]", lambda m: f"eventList[{int(m[1]) + first}]", text)

        field = shift(err.field) if err.field else None
        raise type(err)(shift(err.detail), field=field, **err.extra) from err


@epcis_app.command("import")
@friendly_errors
def epcis_import(
    file: InputFile,
    by: Annotated[str, typer.Option("--by", help="who sent it, e.g. supplier:tongda")] = "cli",
) -> None:
    """Record the events of an EPCIS 2.0 JSON-LD document, all or nothing; sending the same
    document again is a replay and changes nothing."""
    from xinren.provenance import custody

    parts = _parts(_read(file))
    created = replayed = declared = 0
    with _session() as session:
        clock = SystemClock()
        for first, part in track(
            parts, "importing events", console=err_console, disable=len(parts) == 1
        ):
            with _offset(first):
                result = custody.import_document(session, clock, part, recorded_by=by)
            created += result.created
            replayed += result.replayed
            declared += result.declared
    console.print(f"{created} created, {replayed} replayed, {declared} error declaration(s)")


@epcis_app.command("export")
@friendly_errors
def epcis_export(
    epc: Annotated[str | None, typer.Option(help="only events about this EPC or class")] = None,
    out: Annotated[Path | None, typer.Option(dir_okay=False, help="default: stdout")] = None,
) -> None:
    """Export stored events as one EPCIS 2.0 JSON-LD document, validated before it is written."""
    from xinren.provenance import custody

    with _session() as session:
        document = custody.export_document(session, SystemClock(), epc=epc)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        print(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        raise ValidationFailed(f"cannot write {out}: {err.strerror}", field="out") from err
    count = len(document["epcisBody"]["eventList"])
    console.print(f"{count} event(s) written to {escape(str(out))}")


# --- chain, liability, recall ---


@app.command()
@friendly_errors
def chain(order_id: int, as_json: AsJson = False) -> None:
    """Trace an order's goods back to their maker: custodians, steps and gaps (in red)."""
    from xinren.provenance import chain as chains

    with _session() as session:
        body = chains.as_dict(*chains.chain_of(session, order_id))
    if as_json:
        _print_json(body)
        return
    batch, product, brand = body["batch"], body["product"], body["brand"]
    console.print(
        f"[bold]order {order_id}[/bold]: listing {body['listing']}, batch {batch['id']} "
        f"(lot {escape(batch['lot'])}), {escape(product['name'])}, brand "
        f"{escape(brand['name'])} of {escape(brand['owner'])}"
    )
    console.print("custodians: " + " → ".join(escape(c) for c in body["custodians"]))
    rows = [
        (
            s["kind"],
            _when(s["at"]),
            s["from"],
            s["to"],
            s["note"],
            ", ".join(map(_short, s["documents"])),
        )
        for s in body["steps"]
    ]
    console.print(_table("steps", ("step", "at", "from", "to", "what", "documents"), rows))
    for gap in body["gaps"]:
        console.print(f"[red]gap: {gap['kind']}: {escape(gap['detail'])}[/red]")
    for event_id in body["ignored_events"]:
        console.print(f"[dim]ignored, declared erroneous: {escape(event_id)}[/dim]")
    if body["complete"]:
        console.print("[green]no gaps[/green]")


def _show_liable(title: str, liable: Sequence[Mapping[str, Any]]) -> None:
    if not liable:
        return
    console.print(f"[bold]{title}[/bold]")
    for x in liable:
        console.print(f"  {escape(x['party'])} ({x['role']})")
        for fact in x["facts"]:
            console.print(f"    • {escape(fact)}")
        if x["documents"]:
            console.print("    documents: " + ", ".join(map(_short, x["documents"])))


@app.command()
@friendly_errors
def liability(
    order_id: int,
    finding: Annotated[Finding, typer.Option(help="what is wrong with the goods")],
    by: Reviewer,
    as_json: AsJson = False,
) -> None:
    """Assess who answers for a finding on an order, record the assessment, and say why."""
    from xinren.liability import service

    with _session() as session:
        result, _ = service.assess(session, SystemClock(), order_id, finding, assessed_by=by)
    body = result.as_dict()
    if as_json:
        _print_json(body)
        return
    console.print(
        f"[bold]order {order_id}: {finding.value}[/bold] → rule {escape(result.rule)} "
        f"(policy {escape(result.policy_version)})"
    )
    _show_liable("primary", body["primary"])
    _show_liable("joint", body["joint"])
    _show_liable("pays first", [body["pays_first"]])
    _show_liable("recover from", body["recover_from"])
    _show_liable("cleared", body["cleared"])
    console.print(f"[bold]basis[/bold]: {escape(result.basis)}")


@app.command()
@friendly_errors
def recall(
    batch_id: int,
    finding: Annotated[Finding, typer.Option(help="what is wrong with the batch")],
    reason: Annotated[str, typer.Option(help="what the buyers are told")],
    evidence: Annotated[list[str], typer.Option(help="a document's sha256; repeat for more")],
    by: Reviewer,
    key: Annotated[
        str | None, typer.Option(help="idempotency key; default: from batch, finding, evidence")
    ] = None,
) -> None:
    """Recall a batch: notify every buyer of it and record the refund and compensation owed."""
    from xinren.money import Money
    from xinren.recalls import service as recalls

    with _session() as session:
        done = recalls.recall_batch(
            session,
            SystemClock(),
            key or _key("recall", batch_id, finding, evidence),
            batch_id=batch_id,
            finding=finding,
            reason=reason,
            evidence=evidence,
            decided_by=by,
        )
    title = f"recall {done.id} of batch {batch_id}: {len(done.buyers)} buyer(s) reached"
    if done.replayed:
        title += " (opened before; nothing changed)"
    rows = [
        (
            t.order_id,
            t.buyer,
            Money(t.refund, t.currency).format(),
            Money(t.compensation, t.currency).format(),
            t.basis,
        )
        for t in done.tasks
    ]
    console.print(_table(title, ("order", "buyer", "refund", "compensation", "basis"), rows))
    for currency, sums in sorted(done.totals().items()):
        console.print(
            f"total: refunds {Money(sums['refund'], currency).format()}, compensation "
            f"{Money(sums['compensation'], currency).format()}"
        )
