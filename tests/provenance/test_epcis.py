"""GS1 EPCIS 2.0 import and export: GS1's own examples round-trip, replays are idempotent,
rewrites are refused, invalid documents name the broken path, custody events are found by EPC."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from xinren.documents.model import document_uri
from xinren.errors import ConcurrentRequest, Conflict, NotFound, ValidationFailed
from xinren.provenance import custody, epcis
from xinren.provenance.model import CustodyEvent, PartyLink, party_uri
from xinren.provenance.tables import (
    provenance_error_declarations,
    provenance_event_epcs,
    provenance_events,
)

EXAMPLES = Path(__file__).parent / "data" / "epcis" / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*.jsonld"))
WHO = "supplier:s1"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def event_list(doc: dict) -> list[dict]:
    return doc["epcisBody"]["eventList"]


def counts(session) -> tuple[int, int, int]:
    return tuple(
        session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (provenance_events, provenance_event_epcs, provenance_error_declarations)
    )


def utc_time(event: dict) -> datetime:
    return epcis.parse_time(event["eventTime"], "eventTime")


# --- GS1's examples ---


def test_all_examples_are_copied():
    assert len(EXAMPLE_NAMES) == 7


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_round_trips(session, clock, name):
    doc = load(name)
    sent = event_list(doc)
    result = custody.import_document(session, clock, doc, recorded_by=WHO)
    assert result.created == len(sent) and result.replayed == 0
    assert result.declared == sum("errorDeclaration" in e for e in sent)
    assert result.event_ids == tuple(e["eventID"] for e in sent)

    out = custody.export_document(session, clock)
    epcis.validate(out)
    assert out["type"] == "EPCISDocument" and out["schemaVersion"] == "2.0"
    assert out["@context"] == [epcis.CONTEXT]
    exported = event_list(out)
    assert sorted(exported, key=lambda e: e["eventID"]) == sorted(sent, key=lambda e: e["eventID"])
    assert [utc_time(e) for e in exported] == sorted(utc_time(e) for e in sent)
    for e in sent:
        assert custody.get_event(session, e["eventID"]) == e


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_import_is_idempotent(session, clock, name):
    doc = load(name)
    custody.import_document(session, clock, doc, recorded_by=WHO)
    before = counts(session)
    again = custody.import_document(session, clock, load(name), recorded_by=WHO)
    assert (again.created, again.replayed, again.declared) == (0, len(event_list(doc)), 0)
    assert counts(session) == before


def test_two_gs1_examples_reuse_an_event_id_with_different_bodies(session, clock):
    # GS1's error-declaration example and its all-fields ObjectEvent share urn:uuid:374d95fc-...
    custody.import_document(
        session, clock, load("ErrorDeclarationAndCorrectiveEvent.jsonld"), recorded_by=WHO
    )
    before = counts(session)
    with pytest.raises(Conflict, match="urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"):
        custody.import_document(
            session, clock, load("object_event_all_possible_fields.jsonld"), recorded_by=WHO
        )
    assert counts(session) == before


def test_changed_body_under_a_known_event_id_is_refused_and_nothing_is_written(session, clock):
    first = load("Example_9.6.2-ObjectEvent.jsonld")
    custody.import_document(session, clock, first, recorded_by=WHO)
    before = counts(session)
    changed = copy.deepcopy(event_list(first)[0])
    changed["quantityList"][0]["quantity"] = 250
    doc = epcis.document(
        [event_list(load("Example_9.6.3-AggregationEvent.jsonld"))[0], changed],
        document_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        created=CREATED,
    )
    with pytest.raises(Conflict) as caught:
        custody.import_document(session, clock, doc, recorded_by=WHO)
    assert changed["eventID"] in caught.value.detail
    assert caught.value.status == 409 and caught.value.field == "epcisBody.eventList[1].eventID"
    assert counts(session) == before
    assert custody.get_event(session, changed["eventID"]) == event_list(first)[0]


def test_a_concurrent_import_of_the_same_event_leaves_nothing_behind(session, clock, monkeypatch):
    first = load("Example_9.6.2-ObjectEvent.jsonld")
    custody.import_document(session, clock, first, recorded_by=WHO)
    before = counts(session)
    # as if another import committed the event between our check and our write
    monkeypatch.setattr(custody, "_stored", lambda session, ids: {})
    doc = epcis.document(
        [event_list(load("Example_9.6.3-AggregationEvent.jsonld"))[0], event_list(first)[0]],
        document_id="urn:uuid:1",
        created=CREATED,
    )
    with pytest.raises(ConcurrentRequest):
        custody.import_document(session, clock, doc, recorded_by=WHO)
    assert counts(session) == before


def test_recorded_by_is_required(session, clock):
    with pytest.raises(ValidationFailed) as caught:
        custody.import_document(session, clock, load(EXAMPLE_NAMES[0]), recorded_by="")
    assert caught.value.field == "recorded_by"


def test_same_event_twice_in_one_document(session, clock):
    event = event_list(load("Example_9.6.2-ObjectEvent.jsonld"))[0]
    doc = epcis.document([event, event], document_id="urn:uuid:1", created=CREATED)
    result = custody.import_document(session, clock, doc, recorded_by=WHO)
    assert (result.created, result.replayed) == (1, 1)
    other = copy.deepcopy(event)
    other["disposition"] = "damaged"
    doc = epcis.document([other, event], document_id="urn:uuid:2", created=CREATED)
    with pytest.raises(Conflict):
        custody.import_document(session, clock, doc, recorded_by=WHO)


def test_error_declaration_arriving_later(session, clock):
    doc = load("ErrorDeclarationAndCorrectiveEvent.jsonld")
    declared = event_list(doc)[0]
    plain = {k: v for k, v in declared.items() if k != "errorDeclaration"}
    first = epcis.document([plain], document_id="urn:uuid:1", created=CREATED)
    custody.import_document(session, clock, first, recorded_by=WHO)
    assert custody.get_event(session, plain["eventID"]) == plain
    result = custody.import_document(session, clock, doc, recorded_by=WHO)
    assert (result.created, result.replayed, result.declared) == (1, 1, 1)
    assert custody.get_event(session, plain["eventID"]) == declared
    found = custody.events_for(session, ["urn:epc:id:sgtin:4012345.011111.987"])
    assert [(e.event_id, e.erroneous) for e in found] == [
        (declared["eventID"], True),
        (event_list(doc)[1]["eventID"], False),
    ]


def test_a_second_different_declaration_is_refused(session, clock):
    doc = load("ErrorDeclarationAndCorrectiveEvent.jsonld")
    custody.import_document(session, clock, doc, recorded_by=WHO)
    before = counts(session)
    other = copy.deepcopy(doc)
    event_list(other)[0]["errorDeclaration"]["reason"] = "did_not_occur"
    with pytest.raises(Conflict, match="different error declaration") as caught:
        custody.import_document(session, clock, other, recorded_by=WHO)
    assert caught.value.field == "epcisBody.eventList[0].errorDeclaration"
    assert counts(session) == before


# --- invalid documents ---


def _missing(key: str, index: int = 1):
    def mutate(doc: dict) -> dict:
        del event_list(doc)[index][key]
        return doc

    return mutate


def _set(key: str, value: object, index: int = 0):
    def mutate(doc: dict) -> dict:
        event_list(doc)[index][key] = value
        return doc

    return mutate


def _doc_type(doc: dict) -> dict:
    doc["type"] = "EPCISQueryDocument"
    return doc


INVALID = [
    ("missing eventTime", _missing("eventTime"), "epcisBody.eventList[1].eventTime"),
    ("missing eventID", _missing("eventID"), "epcisBody.eventList[1].eventID"),
    ("bad action", _set("action", "MOVE"), "epcisBody.eventList[0].action"),
    ("bad time", _set("eventTime", "2005-04-03T20:33:31"), "epcisBody.eventList[0].eventTime"),
    ("unknown field", _set("colour", "red"), "epcisBody.eventList[0].colour"),
    (
        "bad document uri",
        _set("certificationInfo", "urn:xinren:document:not-a-digest"),
        "epcisBody.eventList[0].certificationInfo",
    ),
    ("wrong type", _doc_type, "type"),
    ("not an object", lambda doc: [doc], "$"),
    ("a string", lambda doc: "EPCISDocument", "$"),
]


@pytest.mark.parametrize(("mutate", "field"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID])
def test_invalid_documents_name_the_path_and_write_nothing(session, clock, mutate, field):
    doc = mutate(load("Example_9.6.1-ObjectEvent.jsonld"))
    with pytest.raises(ValidationFailed) as caught:
        epcis.validate(doc)
    assert caught.value.field == field and caught.value.detail.startswith(field + ":")
    with pytest.raises(ValidationFailed):
        custody.import_document(session, clock, doc, recorded_by=WHO)
    assert counts(session) == (0, 0, 0)


def test_missing_event_id_says_why_we_need_it():
    doc = _missing("eventID")(load("Example_9.6.1-ObjectEvent.jsonld"))
    with pytest.raises(ValidationFailed, match="idempotently by eventID"):
        epcis.validate(doc)


def test_overlong_values_are_refused_before_the_database_sees_them(session, clock):
    doc = _set("eventID", "urn:uuid:" + "x" * 300)(load("Example_9.6.1-ObjectEvent.jsonld"))
    with pytest.raises(ValidationFailed) as caught:
        custody.import_document(session, clock, doc, recorded_by=WHO)
    assert caught.value.field == "epcisBody.eventList[0].eventID"
    assert counts(session) == (0, 0, 0)


# --- finding custody events ---


def test_events_for_finds_by_lgtin_class_and_by_epc(session, clock):
    for name in (
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.2-ObjectEvent.jsonld",
        "Example_9.6.3-AggregationEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
    ):
        custody.import_document(session, clock, load(name), recorded_by=WHO)
    lgtin = "urn:epc:class:lgtin:4012345.012345.998877"  # quantityList (9.6.2), childQuantityList
    by_class = custody.events_for(session, [lgtin])
    assert [e.event_type for e in by_class] == ["ObjectEvent", "AggregationEvent"]
    assert [[r for r, x in e.epcs if x == lgtin] for e in by_class] == [["object"], ["child"]]
    sgtin = "urn:epc:id:sgtin:0614141.107346.2018"
    found = custody.events_for(session, [sgtin, sgtin])
    assert [(e.biz_step, e.event_type) for e in found] == [
        ("shipping", "ObjectEvent"),
        ("receiving", "ObjectEvent"),
        ("receiving", "AggregationEvent"),
    ]
    assert [e.event_time for e in found] == sorted(e.event_time for e in found)
    assert all(e.event_time.tzinfo is UTC for e in found)
    assert custody.events_for(session, []) == []
    assert custody.events_for(session, ["urn:epc:id:sgtin:0.0.0"]) == []

    exported = custody.export_document(session, clock, epc=lgtin)
    assert [e["type"] for e in event_list(exported)] == ["ObjectEvent", "AggregationEvent"]


def test_erroneous_events_are_flagged(session, clock):
    doc = load("ErrorDeclarationAndCorrectiveEvent.jsonld")
    custody.import_document(session, clock, doc, recorded_by=WHO)
    found = custody.events_for(session, ["urn:epc:class:lgtin:4012345.022222.87545GHGH"])
    assert [(e.event_id, e.erroneous) for e in found] == [
        ("urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8", True),
        ("urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8", False),
    ]
    assert found[0].epcs[:2] == (
        ("input", "urn:epc:id:sgtin:4012345.011111.987"),
        ("input", "urn:epc:class:lgtin:4012345.022222.87545GHGH"),
    )


def test_get_event_of_an_unknown_id(session):
    with pytest.raises(NotFound):
        custody.get_event(session, "urn:uuid:nothing")


# --- normalisation ---


@pytest.mark.parametrize(
    "step",
    ["shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping"],
)
@pytest.mark.parametrize(
    ("source_type", "dest_type"),
    [
        ("owning_party", "possessing_party"),
        (
            "https://ref.gs1.org/cbv/SDT-owning_party",
            "https://ref.gs1.org/cbv/SDT-possessing_party",
        ),
        ("urn:epcglobal:cbv:sdt:owning_party", "urn:epcglobal:cbv:sdt:possessing_party"),
    ],
)
def test_biz_step_and_party_types_take_their_short_names(step, source_type, dest_type):
    event = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:1",
        "eventTime": "2026-01-02T08:00:00.5+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": step,
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "sourceList": [{"type": source_type, "source": party_uri("manufacturer:m1")}],
        "destinationList": [{"type": dest_type, "destination": party_uri("supplier:s1")}],
    }
    c = epcis.to_custody_event(event)
    assert c.biz_step == "shipping"
    assert c.sources == (PartyLink("owning_party", "urn:xinren:party:manufacturer:m1"),)
    assert c.destinations == (PartyLink("possessing_party", "urn:xinren:party:supplier:s1"),)
    assert c.event_time == datetime(2026, 1, 2, 0, 0, 0, 500000, tzinfo=UTC)
    assert c.event_time.tzinfo is UTC


def test_private_vocabulary_is_kept_and_naive_times_are_refused():
    event = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:1",
        "eventTime": "2026-01-02T08:00:00Z",
        "action": "OBSERVE",
        "bizStep": "https://xinren.dev/bizstep/live_unboxing",
        "epcList": [],
    }
    assert epcis.to_custody_event(event).biz_step == "https://xinren.dev/bizstep/live_unboxing"
    with pytest.raises(ValidationFailed) as caught:
        epcis.to_custody_event({**event, "eventTime": "2026-01-02T08:00:00"})
    assert caught.value.field == "eventTime"
    with pytest.raises(ValueError):
        epcis.document([], document_id="urn:uuid:1", created=datetime(2026, 1, 1))


# --- a Xinren batch, end to end ---

BATCH = "urn:xinren:class:batch:1"
REPACKED = "urn:xinren:class:batch:2"
CASE = "urn:epc:id:sscc:0614141.1234567890"
LAB_REPORT = "a1" * 32
INVOICE = "0f" * 32
MANUFACTURER = party_uri("manufacturer:m1")
SUPPLIER = party_uri("supplier:s1")


def xinren_events() -> list[dict]:
    def base(n: int, kind: str, hour: int) -> dict:
        return {
            "type": kind,
            "eventID": f"urn:uuid:6f1c0000-0000-4000-8000-00000000000{n}",
            "eventTime": f"2026-01-0{n}T{hour:02d}:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
        }

    return [
        base(1, "ObjectEvent", 9)
        | {
            "action": "ADD",
            "bizStep": "commissioning",
            "quantityList": [{"epcClass": BATCH, "quantity": 1200, "uom": "KGM"}],
            "certificationInfo": document_uri(LAB_REPORT),
        },
        base(2, "ObjectEvent", 10)
        | {
            "action": "OBSERVE",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
            "disposition": "in_transit",
            "quantityList": [{"epcClass": BATCH, "quantity": 200, "uom": "KGM"}],
            "sourceList": [
                {"type": "owning_party", "source": MANUFACTURER},
                {"type": "possessing_party", "source": MANUFACTURER},
            ],
            "destinationList": [
                {"type": "https://ref.gs1.org/cbv/SDT-owning_party", "destination": SUPPLIER},
                {"type": "possessing_party", "destination": SUPPLIER},
            ],
        },
        base(3, "TransactionEvent", 11)
        | {
            "action": "ADD",
            "bizStep": "shipping",
            "bizTransactionList": [
                {"type": "inv", "bizTransaction": document_uri(INVOICE)},
                {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:PO-77"},
            ],
            "quantityList": [{"epcClass": BATCH, "quantity": 200, "uom": "KGM"}],
        },
        base(4, "AggregationEvent", 12)
        | {
            "action": "ADD",
            "bizStep": "packing",
            "parentID": CASE,
            "childQuantityList": [{"epcClass": BATCH, "quantity": 20, "uom": "KGM"}],
        },
        base(5, "TransformationEvent", 13)
        | {
            "bizStep": "repackaging",
            "inputQuantityList": [{"epcClass": BATCH, "quantity": 20, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": REPACKED, "quantity": 400}],
        },
    ]


def test_a_document_we_build_for_a_xinren_batch(session, clock):
    sent = xinren_events()
    doc = epcis.document(sent, document_id="urn:uuid:batch-1-export", created=CREATED)
    epcis.validate(doc)
    assert doc["creationDate"] == "2026-01-01T00:00:00+00:00"
    result = custody.import_document(session, clock, doc, recorded_by="manufacturer:m1")
    assert (result.created, result.declared) == (5, 0)

    found = custody.events_for(session, [BATCH])
    ids = [e["eventID"] for e in sent]
    assert [e.event_id for e in found] == ids
    commissioning, shipping, transaction, packing, transformation = found
    assert commissioning == CustodyEvent(
        event_id=ids[0],
        event_type="ObjectEvent",
        action="ADD",
        biz_step="commissioning",
        event_time=datetime(2026, 1, 1, 1, tzinfo=UTC),
        epcs=(("object", BATCH),),
        sources=(),
        destinations=(),
        documents=(LAB_REPORT,),
    )
    assert shipping.biz_step == "shipping" and shipping.action == "OBSERVE"
    assert shipping.sources == (
        PartyLink("owning_party", MANUFACTURER),
        PartyLink("possessing_party", MANUFACTURER),
    )
    assert shipping.destinations == (
        PartyLink("owning_party", SUPPLIER),
        PartyLink("possessing_party", SUPPLIER),
    )
    assert transaction.documents == (INVOICE,)  # the PO number is not a Xinren document
    assert packing.epcs == (("parent", CASE), ("child", BATCH))
    assert transformation.epcs == (("input", BATCH), ("output", REPACKED))
    assert transformation.action is None
    assert not any(e.erroneous for e in found)
    assert [e.event_id for e in custody.events_for(session, [REPACKED])] == [ids[4]]
    assert [e.event_id for e in custody.events_for(session, [CASE])] == [ids[3]]

    exported = custody.export_document(session, clock, epc=BATCH)
    assert event_list(exported) == sent


# --- properties ---


def _pool() -> list[dict]:
    """Every example event, each eventID once (two GS1 examples share one)."""
    pool: list[dict] = []
    seen: set[str] = set()
    for name in EXAMPLE_NAMES:
        for event in event_list(load(name)):
            event = copy.deepcopy(event)
            if event["eventID"] in seen:
                event["eventID"] = f"urn:uuid:00000000-0000-4000-8000-{len(pool):012d}"
            seen.add(event["eventID"])
            pool.append(event)
    return pool + xinren_events()


POOL = _pool()
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@DB_SETTINGS
@given(
    st.permutations(range(len(POOL))).flatmap(lambda p: st.integers(0, len(p)).map(lambda n: p[:n]))
)
def test_any_subset_in_any_order_round_trips(session, clock, picked):
    chosen = [POOL[i] for i in picked]
    doc = epcis.document(chosen, document_id="urn:uuid:prop", created=CREATED)
    epcis.validate(doc)
    savepoint = session.begin_nested()
    try:
        result = custody.import_document(session, clock, doc, recorded_by=WHO)
        assert result.created == len(chosen)
        exported = event_list(custody.export_document(session, clock))
        # event time order; events at the same instant keep the order they were sent in
        assert exported == sorted(chosen, key=utc_time)
        again = custody.import_document(session, clock, doc, recorded_by=WHO)
        assert (again.created, again.replayed) == (0, len(chosen))
    finally:
        savepoint.rollback()


offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=offsets
)
steps = st.sampled_from(["shipping", "receiving", "packing", "commissioning"])
step_forms = st.sampled_from(["{}", "https://ref.gs1.org/cbv/BizStep-{}", "cbv:BizStep-{}"])


@settings(max_examples=60, deadline=None)
@given(moment=moments, step=steps, form=step_forms, quantity=st.integers(1, 10**6))
def test_generated_events_read_back_as_custody_events(moment, step, form, quantity):
    event = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:00000000-0000-4000-8000-000000000099",
        "eventTime": moment.isoformat(),
        "eventTimeZoneOffset": moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:],
        "action": "OBSERVE",
        "bizStep": form.format(step),
        "quantityList": [{"epcClass": BATCH, "quantity": quantity, "uom": "KGM"}],
    }
    epcis.validate(epcis.document([event], document_id="urn:uuid:g", created=CREATED))
    c = epcis.to_custody_event(event)
    assert c.event_time == moment and c.event_time.tzinfo is UTC
    assert c.biz_step == step and c.epcs == (("object", BATCH),)
