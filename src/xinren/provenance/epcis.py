"""GS1 EPCIS 2.0 JSON, pure: validate documents, read events as custody facts, build documents.

Partners send and expect EPCIS 2.0 JSON-LD, so that is the exchange format; custody reasoning
needs only a small part of it (`CustodyEvent`). Nothing here touches the database or a clock.
The schema is GS1's own (packaged in `epcis_schema/`), read once and cached.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from xinren.documents.model import DOCUMENT_URI_PREFIX, SHA256
from xinren.errors import ValidationFailed
from xinren.provenance.model import CustodyEvent, PartyLink

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
DOCUMENT_TYPE = "EPCISDocument"

# CBV 2.0 web vocabulary, its compact JSON-LD form, and the EPCIS 1.x URN form.
_BIZ_STEP_PREFIXES = (
    "https://ref.gs1.org/cbv/BizStep-",
    "http://ref.gs1.org/cbv/BizStep-",
    "cbv:BizStep-",
    "urn:epcglobal:cbv:bizstep:",
)
_SOURCE_DEST_PREFIXES = (
    "https://ref.gs1.org/cbv/SDT-",
    "http://ref.gs1.org/cbv/SDT-",
    "cbv:SDT-",
    "urn:epcglobal:cbv:sdt:",
)

# (event key, role, whether the entries are quantity elements {"epcClass": ...})
_EPC_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("epcList", "object", False),
    ("quantityList", "object", True),
    ("parentID", "parent", False),
    ("childEPCs", "child", False),
    ("childQuantityList", "child", True),
    ("inputEPCList", "input", False),
    ("inputQuantityList", "input", True),
    ("outputEPCList", "output", False),
    ("outputQuantityList", "output", True),
)

# RFC 3339 date-time (what JSON Schema's "date-time" means); offsets are required.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_@][\w:@\-]*$")
_MAX_MESSAGE = 400


# --- validation ---


def _format_checker() -> FormatChecker:
    """Check the two formats the schema relies on ourselves, so validation does not depend on
    which optional format packages happen to be installed."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def _is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            return bool(_DATE_TIME.match(value)) and _parse_iso(value) is not None
        except ValueError:
            return False

    @checker.checks("uri")
    def _is_uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI.match(value))

    return checker


@cache
def schema() -> dict[str, Any]:
    """GS1's EPCIS 2.0 JSON Schema (draft-07), from the package data."""
    text = (
        resources.files("xinren.provenance")
        .joinpath("epcis_schema/EPCIS-JSON-Schema.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(schema(), format_checker=_format_checker())


def json_path(parts: Iterable[str | int]) -> str:
    """`epcisBody.eventList[0].eventTime`; `$` for the document itself."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "$"


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where and where != "$" else name


def _leaves(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    for e in errors:
        if e.context:
            yield from _leaves(e.context)
        else:
            yield e


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _schema_error(error: ValidationError, others: Sequence[ValidationError]) -> ValidationFailed:
    parts: list[str | int] = list(error.absolute_path)
    if error.validator in ("anyOf", "oneOf"):
        # best_match stops at an alternative when its branches are equally bad; a plain error
        # below the same place (a bad `action` under a failed event alternative) says more.
        deeper = [
            o
            for o in others
            if o.validator not in ("anyOf", "oneOf")
            and len(o.absolute_path) > len(parts)
            and list(o.absolute_path)[: len(parts)] == parts
        ]
        if deeper:
            return _schema_error(deeper[0], ())
    if "propertyNames" in error.absolute_schema_path:  # the instance is a property's name
        parts.append(str(error.instance))
        path = json_path(parts)
        message = (
            "is not an EPCIS field here; extension fields need a namespace prefix "
            "declared in @context (e.g. example:myField)"
        )
        return ValidationFailed(f"{path}: {message} (EPCIS 2.0 JSON Schema)", field=path)
    required, instance = error.validator_value, error.instance
    if error.validator == "required" and isinstance(required, list) and isinstance(instance, dict):
        missing = [r for r in required if r not in instance]
        if missing:
            parts.append(missing[0])  # name the missing field itself, not its parent
    if error.validator in ("anyOf", "oneOf") and error.context:
        leaves = list(dict.fromkeys(_clip(e.message, 100) for e in _leaves(error.context)))
        what = (
            repr(error.instance)
            if isinstance(error.instance, (str, int, float, bool))
            else "the value"
        )
        message = f"{_clip(what, 100)} fits none of the allowed forms: {'; '.join(leaves)}"
    else:
        message = error.message
    path = json_path(parts)
    message = _clip(message, _MAX_MESSAGE)
    return ValidationFailed(f"{path}: {message} (EPCIS 2.0 JSON Schema)", field=path)


def validate(document: Any) -> None:
    """Raise `ValidationFailed` naming the JSON path of the first problem.

    Beyond GS1's schema we require an EPCISDocument (not a query document or a bare event) and
    an eventID on every event: events are stored idempotently by eventID, so a redelivered
    document must be recognisable as such.
    """
    if not isinstance(document, dict):
        raise ValidationFailed("$: an EPCIS document is a JSON object", field="$")
    if document.get("type") != DOCUMENT_TYPE:
        raise ValidationFailed(
            f"type: must be {DOCUMENT_TYPE!r}, not {_clip(repr(document.get('type')), 100)}",
            field="type",
        )
    errors = list(_validator().iter_errors(document))
    error = best_match(errors)
    if error is not None:
        raise _schema_error(error, errors)
    for i, event in enumerate(document["epcisBody"]["eventList"]):
        where = f"epcisBody.eventList[{i}]"
        if "eventID" not in event:
            field = f"{where}.eventID"
            raise ValidationFailed(
                f"{field}: every event needs an eventID; Xinren stores events idempotently by "
                "eventID, so a redelivered event is recognised and not recorded twice",
                field=field,
            )
        _custody(event, where)  # what the schema cannot say: our document URIs, times


# --- reading events ---


def _parse_iso(value: str) -> datetime | None:
    parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else None


def parse_time(value: Any, field: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime; the offset is required."""
    if isinstance(value, str) and _DATE_TIME.match(value):
        try:
            parsed = _parse_iso(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed.astimezone(UTC)
    raise ValidationFailed(
        f"{field}: {value!r} is not an RFC 3339 date-time with an offset", field=field
    )


def _short(value: str, prefixes: Sequence[str]) -> str:
    for prefix in prefixes:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def short_biz_step(value: str) -> str:
    """`shipping` for `shipping`, `https://ref.gs1.org/cbv/BizStep-shipping` and
    `urn:epcglobal:cbv:bizstep:shipping`; other (private) URIs are kept as they are."""
    return _short(value, _BIZ_STEP_PREFIXES)


def short_source_dest_type(value: str) -> str:
    """`owning_party`, `possessing_party` or `location`, whichever form the document used."""
    return _short(value, _SOURCE_DEST_PREFIXES)


def _required_str(event: Mapping[str, Any], name: str, where: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        field = _join(where, name)
        raise ValidationFailed(f"{field}: required (a non-empty string)", field=field)
    return value


def _epcs(event: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    seen: dict[tuple[str, str], None] = {}
    for key, role, quantities in _EPC_FIELDS:
        value = event.get(key)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            epc = item.get("epcClass") if quantities and isinstance(item, dict) else item
            if isinstance(epc, str):
                seen[(role, epc)] = None
    return tuple(seen)


def _links(entries: Any, key: str) -> tuple[PartyLink, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(
        PartyLink(short_source_dest_type(e["type"]), e[key])
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("type"), str) and isinstance(e.get(key), str)
    )


def _documents(event: Mapping[str, Any], where: str) -> tuple[str, ...]:
    found: list[tuple[str, str]] = []  # (field, uri)
    for i, bt in enumerate(event.get("bizTransactionList") or []):
        if isinstance(bt, dict) and isinstance(bt.get("bizTransaction"), str):
            found.append((f"bizTransactionList[{i}].bizTransaction", bt["bizTransaction"]))
    cert = event.get("certificationInfo")
    if isinstance(cert, str):
        found.append(("certificationInfo", cert))
    elif isinstance(cert, list):
        found.extend(
            (f"certificationInfo[{i}]", c) for i, c in enumerate(cert) if isinstance(c, str)
        )
    digests: dict[str, None] = {}
    for name, uri in found:
        if not uri.startswith(DOCUMENT_URI_PREFIX):
            continue  # a partner's own reference (a PO number, a certificate URL): not ours
        digest = uri[len(DOCUMENT_URI_PREFIX) :]
        if not SHA256.match(digest):
            field = _join(where, name)
            raise ValidationFailed(
                f"{field}: a {DOCUMENT_URI_PREFIX} URI ends in the document's lower-case "
                "sha256 hex digest",
                field=field,
            )
        digests[digest] = None
    return tuple(digests)


def _custody(event: Mapping[str, Any], where: str) -> CustodyEvent:
    if not isinstance(event, Mapping):
        raise ValidationFailed(f"{where or '$'}: an event is a JSON object", field=where or "$")
    biz_step = event.get("bizStep")
    action = event.get("action")
    return CustodyEvent(
        event_id=_required_str(event, "eventID", where),
        event_type=_required_str(event, "type", where),
        action=action if isinstance(action, str) else None,
        biz_step=short_biz_step(biz_step) if isinstance(biz_step, str) else None,
        event_time=parse_time(event.get("eventTime"), _join(where, "eventTime")),
        epcs=_epcs(event),
        sources=_links(event.get("sourceList"), "source"),
        destinations=_links(event.get("destinationList"), "destination"),
        documents=_documents(event, where),
        erroneous="errorDeclaration" in event,
    )


def to_custody_event(event: Mapping[str, Any]) -> CustodyEvent:
    """The custody facts of one EPCIS event, with CBV names in their short form and the time in
    UTC, so that rules compare like with like whichever spelling the sender used."""
    return _custody(event, "")


# --- writing documents ---


def document(
    events: Sequence[Mapping[str, Any]], *, document_id: str, created: datetime
) -> dict[str, Any]:
    """An EPCIS 2.0 document carrying `events` in the given order (the caller validates it)."""
    if created.tzinfo is None:
        raise ValueError("creationDate needs an aware datetime")
    return {
        "@context": [CONTEXT],
        "id": document_id,
        "type": DOCUMENT_TYPE,
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": created.astimezone(UTC).isoformat(),
        "epcisBody": {"eventList": [dict(e) for e in events]},
    }
