"""Provenance events: import and export GS1 EPCIS 2.0 documents, find custody events by EPC.

Events are append-only. A partner redelivering a document is normal (at-least-once delivery),
so an eventID already stored with the same body is a replay; a different body under a known
eventID is refused, because EPCIS corrects events with error declarations, never by rewriting
them. An import is all-or-nothing: every check runs before the first write, and the writes sit
in a savepoint so a concurrent import cannot leave half a document behind.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import (
    ConcurrentRequest,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    XinrenError,
)
from xinren.provenance import epcis
from xinren.provenance.model import CustodyEvent
from xinren.provenance.tables import (
    provenance_error_declarations as declarations,
)
from xinren.provenance.tables import (
    provenance_event_epcs as event_epcs,
)
from xinren.provenance.tables import (
    provenance_events as events,
)

_CHUNK = 500
# column widths of the tables, checked up front so a long value is a 422 on every database
_MAX_EVENT_ID = 200
_MAX_EVENT_TYPE = 30
_MAX_BIZ_STEP = 200
_MAX_EPC = 200
_MAX_RECORDED_BY = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: `created` new events, `replayed` ones already stored unchanged,
    `declared` new error declarations; `event_ids` in document order."""

    created: int
    replayed: int
    declared: int
    event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _New:
    custody: CustodyEvent
    body: dict[str, Any]


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _too_long(value: str | None, limit: int, field: str) -> None:
    if value is not None and len(value) > limit:
        raise ValidationFailed(f"{field}: at most {limit} characters", field=field)


def _check_storable(custody: CustodyEvent, where: str) -> None:
    _too_long(custody.event_id, _MAX_EVENT_ID, f"{where}.eventID")
    _too_long(custody.event_type, _MAX_EVENT_TYPE, f"{where}.type")
    _too_long(custody.biz_step, _MAX_BIZ_STEP, f"{where}.bizStep")
    for _, epc in custody.epcs:
        if len(epc) > _MAX_EPC:
            raise ValidationFailed(
                f"{where}: EPC or EPC class {epc[:60]!r}... is longer than {_MAX_EPC} characters",
                field=where,
            )


def _with_declarations() -> Select[Any]:
    return select(
        events.c.id,
        events.c.event_id,
        events.c.event_time,
        events.c.body,
        events.c.recorded_by,
        declarations.c.body.label("declaration"),
    ).select_from(events.outerjoin(declarations, declarations.c.event_id == events.c.event_id))


def _stored(session: Session, event_ids: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(event_ids):
        q = _with_declarations().where(events.c.event_id.in_(list(chunk)))
        for row in session.execute(q):
            found[row.event_id] = row
    return found


def _merged(row: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(row.body)
    if row.declaration is not None:
        body["errorDeclaration"] = row.declaration
    return body


def import_document(
    session: Session,
    clock: Clock,
    document: Any,
    *,
    recorded_by: str,
    speaks_for: frozenset[str] | None = None,
) -> ImportResult:
    """Record the events of an EPCIS document; replays are idempotent, nothing is overwritten.

    Raises `ValidationFailed` for a document that is not valid EPCIS 2.0 (or lacks eventIDs),
    `Conflict` when a known eventID arrives with another body or another error declaration.

    `speaks_for` (the party URIs of a non-staff caller) limits what a party may record: only
    events naming itself as source or destination, and error declarations only on events it
    recorded. Otherwise anyone could write a hand-over into someone else's chain and so choose
    who is liable.
    """
    if not recorded_by or len(recorded_by) > _MAX_RECORDED_BY:
        raise ValidationFailed(
            f"recorded_by is required (at most {_MAX_RECORDED_BY} characters)",
            field="recorded_by",
        )
    epcis.validate(document)
    event_list: list[dict[str, Any]] = document["epcisBody"]["eventList"]
    ids = [e["eventID"] for e in event_list]
    plan = _Plan(_stored(session, list(dict.fromkeys(ids))), recorded_by, speaks_for)
    for i, event in enumerate(event_list):
        plan.add(event, f"epcisBody.eventList[{i}]")
    _write(session, clock, plan.new_events, plan.new_declarations, recorded_by)
    return ImportResult(len(plan.new_events), plan.replayed, len(plan.new_declarations), tuple(ids))


class _Plan:
    """What an import will write, checked event by event against what is stored and against
    the events earlier in the same document, before anything is written."""

    def __init__(
        self, stored: dict[str, Any], recorded_by: str, speaks_for: frozenset[str] | None
    ) -> None:
        self.stored, self.recorded_by, self.speaks_for = stored, recorded_by, speaks_for
        self.bodies: dict[str, dict[str, Any]] = {k: r.body for k, r in stored.items()}
        self.declared_as: dict[str, dict[str, Any]] = {
            k: r.declaration for k, r in stored.items() if r.declaration is not None
        }
        self.new_events: list[_New] = []
        self.new_declarations: list[tuple[str, dict[str, Any]]] = []
        self.replayed = 0

    def add(self, event: dict[str, Any], where: str) -> None:
        custody = epcis.to_custody_event(event)
        _check_storable(custody, where)
        eid = custody.event_id
        body = {k: v for k, v in event.items() if k != "errorDeclaration"}
        if self.speaks_for is not None and eid not in self.stored:
            named = {link.party for link in (*custody.sources, *custody.destinations)}
            if not named & self.speaks_for:
                raise Forbidden(
                    f"{where}: a party records only events that name it in sourceList or "
                    f"destinationList (as {sorted(self.speaks_for)[0]}); ask the parties to the "
                    "hand-over, or a reviewer, to record this one",
                    field=f"{where}.sourceList",
                )
        if eid in self.bodies:
            if self.bodies[eid] != body:
                raise Conflict(
                    f"{where}.eventID: event {eid} is already recorded with a different body; "
                    "events are append-only: declare an error on it (errorDeclaration) and send "
                    "a corrective event instead",
                    field=f"{where}.eventID",
                )
            self.replayed += 1
        else:
            self.bodies[eid] = body
            self.new_events.append(_New(custody, body))
        declaration = event.get("errorDeclaration")
        if declaration is not None:
            self.declare(eid, declaration, where)

    def declare(self, eid: str, declaration: dict[str, Any], where: str) -> None:
        """An error declaration is made once, by whoever recorded the event or a reviewer."""
        if eid in self.declared_as:
            if self.declared_as[eid] != declaration:
                raise Conflict(
                    f"{where}.errorDeclaration: event {eid} already carries a different error "
                    "declaration; an event is declared erroneous once",
                    field=f"{where}.errorDeclaration",
                )
            return
        stored = self.stored.get(eid)
        if (
            self.speaks_for is not None
            and stored is not None
            and stored.recorded_by != self.recorded_by
        ):
            raise Forbidden(
                f"{where}.errorDeclaration: event {eid} was recorded by "
                f"{stored.recorded_by}; only it or a reviewer may declare it erroneous",
                field=f"{where}.errorDeclaration",
            )
        self.declared_as[eid] = declaration
        self.new_declarations.append((eid, declaration))


def _write(
    session: Session,
    clock: Clock,
    new_events: list[_New],
    new_declarations: list[tuple[str, dict[str, Any]]],
    recorded_by: str,
) -> None:
    if not new_events and not new_declarations:
        return
    now = clock.now()
    try:
        with session.begin_nested():
            for new in new_events:
                c = new.custody
                row_id = session.execute(
                    events.insert().returning(events.c.id),
                    dict(
                        event_id=c.event_id,
                        event_type=c.event_type,
                        action=c.action,
                        biz_step=c.biz_step,
                        event_time=c.event_time,
                        body=new.body,
                        recorded_by=recorded_by,
                        created_at=now,
                    ),
                ).scalar_one()
                if c.epcs:
                    session.execute(
                        event_epcs.insert(),
                        [dict(event=row_id, epc=epc, role=role) for role, epc in c.epcs],
                    )
            if new_declarations:
                session.execute(
                    declarations.insert(),
                    [
                        dict(
                            event_id=eid,
                            declaration_time=epcis.parse_time(
                                d["declarationTime"], "errorDeclaration.declarationTime"
                            ),
                            body=d,
                            recorded_by=recorded_by,
                            created_at=now,
                        )
                        for eid, d in new_declarations
                    ],
                )
    except IntegrityError as err:  # checked above; only a concurrent import gets here
        raise ConcurrentRequest(
            "another import recorded some of these events at the same time; retry (a retry "
            "replays them, or reports a conflict)"
        ) from err


def export_document(session: Session, clock: Clock, *, epc: str | None = None) -> dict[str, Any]:
    """All events, or those touching `epc` (an EPC or EPC class), as one EPCIS 2.0 document in
    event-time order, error declarations merged back into their events.

    The result is validated before it is returned, so we never hand a partner an invalid file.
    """
    q = _with_declarations()
    if epc is not None:
        q = q.where(events.c.id.in_(select(event_epcs.c.event).where(event_epcs.c.epc == epc)))
    q = q.order_by(events.c.event_time, events.c.id)
    bodies = [_merged(row) for row in session.execute(q)]
    doc = epcis.document(bodies, document_id=f"urn:uuid:{uuid.uuid4()}", created=clock.now())
    try:
        epcis.validate(doc)
    except ValidationFailed as err:  # stored events are valid; this is our bug, not the caller's
        raise XinrenError(f"the exported EPCIS document is not valid: {err.detail}") from err
    return doc


def events_for(session: Session, epcs: Iterable[str]) -> list[CustodyEvent]:
    """Custody events touching any of `epcs` (EPCs or EPC classes such as an LGTIN), in time
    order, each flagged `erroneous` once an error declaration names it."""
    wanted = list(dict.fromkeys(epcs))
    rows: dict[int, Any] = {}
    for chunk in _chunks(wanted):
        touching = select(event_epcs.c.event).where(event_epcs.c.epc.in_(list(chunk)))
        for row in session.execute(_with_declarations().where(events.c.id.in_(touching))):
            rows[row.id] = row
    ordered = sorted(rows.values(), key=lambda r: (r.event_time, r.id))
    return [
        dataclasses.replace(epcis.to_custody_event(r.body), erroneous=r.declaration is not None)
        for r in ordered
    ]


def get_event(session: Session, event_id: str) -> dict[str, Any]:
    """One event as received, with its error declaration if it has one."""
    row = session.execute(_with_declarations().where(events.c.event_id == event_id)).first()
    if row is None:
        raise NotFound(f"no provenance event {event_id}", field="eventID")
    return _merged(row)
