"""The accountability commands as a user runs them: a real database, a real document store.

Commands run in-process (typer's CliRunner) against a migrated database of their own; the
liability cases are built through the services first, then examined with the commands.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.money import Money
from xinren.provenance import epcis
from xinren.provenance.model import party_uri
from xinren.recalls import service as recalls

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "catalog.yaml"
EPCIS_EXAMPLE = ROOT / "tests/provenance/data/epcis/examples/Example_9.6.1-ObjectEvent.jsonld"
INFO = {
    "legal_name": "Acme Trading Co., Ltd.",
    "address": "1 Wensan Road, Hangzhou",
    "registration_number": "91330100MA2ACME001",
    "payment_account": "CN-ALIPAY-acme",
    "contact_email": "acme@example.com",
    "self_certified": True,
}

Run = Callable[..., Result]


def build(url: str, docs_dir: Path, make: Callable[..., stories.Case]) -> stories.Case:
    """Record one of the article's cases through the services, committed."""
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            clock = FakeClock(datetime(2026, 7, 20, tzinfo=UTC))
            return make(session, clock, FileStore(docs_dir), "cli")
    finally:
        engine.dispose()


def write_json(path: Path, body: Any) -> Path:
    path.write_text(json.dumps(body, ensure_ascii=False, default=str), encoding="utf-8")
    return path


# --- parties ---


def test_register_verify_submit_suspend_reject_show_and_list(cli, count, tmp_path):
    info = write_json(tmp_path / "info.json", INFO)
    out = cli("parties", "register", "merchant:acme", "--name", "Acme", "--info", str(info))
    assert "merchant:acme registered: pending" in out.stdout
    verify = ("parties", "verify", "merchant:acme", "--reason", "licence checked")
    assert "merchant:acme is verified" in cli(*verify, "--by", "reviewer:wang").stdout
    again = cli(*verify, "--by", "reviewer:wang")
    assert "(already recorded)" in again.stdout
    assert count("party_status_changes") == 2  # registered -> pending -> verified, once

    assert "unverified" in cli("parties", "register", "host:lily", "--name", "Lily").stdout
    assert "host:lily is pending" in cli("parties", "submit-info", "host:lily", str(info)).stdout
    cli("parties", "submit-info", "host:lily", str(info))  # the same submission: a replay
    assert count("party_status_changes") == 3

    cli("parties", "suspend", "merchant:acme", "--reason", "complaints", "--by", "reviewer:li")
    # reinstating with the reason of the first verification would be skipped as a replay
    stale = cli(*verify, "--by", "reviewer:wang", code=2)
    assert "(reason)" in stale.stderr and "own --reason" in stale.stderr
    cli("parties", "verify", "merchant:acme", "--reason", "complaints resolved", "--by", "r:li")
    cli("parties", "reject", "host:lily", "--reason", "forged licence", "--by", "reviewer:li")

    shown = cli("parties", "show", "merchant:acme").stdout
    for expected in ("Acme Trading Co., Ltd.", "CN-ALIPAY-acme", "suspended → verified"):
        assert expected in shown
    assert "complaints resolved" in shown and "reviewer:wang" in shown
    verified = cli("parties", "list", "--status", "verified").stdout
    assert "merchant:acme" in verified and "host:lily" not in verified
    hosts = cli("parties", "list", "--kind", "host").stdout
    assert "host:lily" in hosts and "rejected" in hosts and "merchant:acme" not in hosts


@pytest.mark.parametrize(
    ("args", "info", "field"),
    [
        (
            ("merchant:acme", "--name", "Acme"),
            {**INFO, "contact_email": None},
            "info.contact_email",
        ),
        (("merchant:acme", "--name", "Acme"), {**INFO, "phone": "1"}, "info.phone"),
        (
            ("merchant:acme", "--name", "Acme"),
            {**INFO, "self_certified": "yes"},
            "info.self_certified",
        ),
        (("acme", "--name", "Acme"), INFO, "ref"),
    ],
)
def test_register_with_bad_input_names_the_field_and_writes_nothing(
    cli, count, tmp_path, args, info, field
):
    path = write_json(tmp_path / "info.json", info)
    out = cli("parties", "register", *args, "--info", str(path), code=2)
    assert f"({field})" in out.stderr
    assert count("parties") == 0 and count("party_status_changes") == 0


def test_party_commands_name_what_is_wrong(cli):
    assert (
        "(ref)"
        in cli("parties", "verify", "merchant:nobody", "--reason", "x", "--by", "r", code=2).stderr
    )
    assert "(ref)" in cli("parties", "show", "merchant:nobody", code=2).stderr
    assert "(kind)" in cli("parties", "list", "--kind", "emperor", code=2).stderr


# --- documents ---


def test_documents_add_prints_the_sha256_and_stores_the_file(cli, count, tmp_path, docs_dir):
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7 lab report")
    digest = hashlib.sha256(report.read_bytes()).hexdigest()
    args = ("documents", "add", str(report), "--type", "inspection_report")
    args += ("--issuer", "lab:cesi", "--subject", "batch:1", "--accreditation", "CNAS L0125")
    out = cli(*args, "--valid-from", "2026-01-01")
    assert out.stdout.strip() == digest
    assert (docs_dir / digest[:2] / digest[2:4] / digest).read_bytes() == report.read_bytes()
    assert cli(*args, "--valid-from", "2026-01-01").stdout.strip() == digest  # same: a replay
    assert count("documents") == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (("--type", "sampling_report"), "accreditation"),
        (("--type", "invoice", "--valid-to", "2026-02-30"), "valid_to"),
        (
            ("--type", "invoice", "--valid-from", "2026-03-01", "--valid-to", "2026-02-01"),
            "valid_to",
        ),
    ],
)
def test_documents_add_with_bad_metadata_writes_nothing(
    cli, count, tmp_path, docs_dir, extra, field
):
    report = tmp_path / "report.txt"
    report.write_text("no bird's nest detected")
    args = ("documents", "add", str(report), "--issuer", "lab:cqi", "--subject", "batch:1")
    out = cli(*args, *extra, code=2)
    assert f"({field})" in out.stderr
    assert count("documents") == 0 and not docs_dir.exists()


# --- catalog import ---


def test_the_example_catalog_imports_on_a_fresh_database(cli, count):
    out = cli("catalog", "import", str(EXAMPLE))
    assert "12 entr(y/ies) created from catalog.yaml" in out.stdout
    for shown in ("merchant:xuanxuan-digital", "Huamei P50 (4G, 128 GB)", "p50-listing"):
        assert shown in out.stdout
    assert [count(t) for t in ("parties", "documents", "brands", "batches", "listings")] == [
        4,
        2,
        1,
        1,
        1,
    ]
    assert "verified" in cli("parties", "show", "lab:cesi").stdout
    again = cli("catalog", "import", str(EXAMPLE), code=2)
    assert "(brands[0].name)" in again.stderr
    assert count("listings") == 1


def _example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def _listing_batch(body: dict[str, Any]) -> None:
    body["listings"][0]["batches"] = ["p50-b"]


def _missing_category(body: dict[str, Any]) -> None:
    del body["products"][0]["category"]


def _wordy_quantity(body: dict[str, Any]) -> None:
    body["batches"][0]["quantity"] = "five thousand"


def _bad_result(body: dict[str, Any]) -> None:
    body["inspections"][0]["result"] = "maybe"


def _unknown_document(body: dict[str, Any]) -> None:
    body["inspections"][0]["document"] = "lab-report"


def _unknown_section(body: dict[str, Any]) -> None:
    body["shops"] = []


def _unverified_merchant(body: dict[str, Any]) -> None:
    del body["parties"][3]["verify"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_listing_batch, "listings[0].batches[0]"),
        (_missing_category, "products[0].category"),
        (_wordy_quantity, "batches[0].quantity"),
        (_bad_result, "inspections[0].result"),
        (_unknown_document, "inspections[0].document"),
        (_unknown_section, "shops"),
        (_unverified_merchant, "listings[0].merchant"),
    ],
)
def test_a_bad_catalog_entry_is_named_and_nothing_is_created(cli, count, tmp_path, change, field):
    body = copy.deepcopy(_example())
    change(body)
    out = cli("catalog", "import", str(write_json(tmp_path / "catalog.json", body)), code=2)
    assert f"({field})" in out.stderr
    for table in ("parties", "documents", "brands", "products", "batches", "listings"):
        assert count(table) == 0, table


def test_a_long_catalog_shows_progress_and_imports(cli, count, tmp_path):
    body = {"parties": [{"ref": f"host:h{i}", "display_name": f"Host {i}"} for i in range(250)]}
    out = cli("catalog", "import", str(write_json(tmp_path / "hosts.json", body)))
    assert "250 entr(y/ies) created" in out.stdout
    assert count("parties") == 250


# --- EPCIS ---


def _event(i: int, when: str = "2026-05-01T10:00:00+00:00") -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+00:00",
        "eventID": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, str(i))}",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{i}"],
    }


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return epcis.document(
        events, document_id=f"urn:uuid:{uuid.uuid4()}", created=datetime(2026, 5, 2, tzinfo=UTC)
    )


def test_epcis_import_replay_and_export(cli, tmp_path):
    first = cli("epcis", "import", str(EPCIS_EXAMPLE))
    assert "2 created, 0 replayed" in first.stdout
    again = cli("epcis", "import", str(EPCIS_EXAMPLE), "--by", "supplier:acme")
    assert "0 created, 2 replayed" in again.stdout

    out = tmp_path / "export.jsonld"
    assert "2 event(s) written" in cli("epcis", "export", "--out", str(out)).stdout
    exported = json.loads(out.read_text(encoding="utf-8"))
    sent = json.loads(EPCIS_EXAMPLE.read_text(encoding="utf-8"))
    ids = [e["eventID"] for e in sent["epcisBody"]["eventList"]]
    assert [e["eventID"] for e in exported["epcisBody"]["eventList"]] == ids
    one = cli("epcis", "export", "--epc", "urn:epc:id:sgtin:0614141.107346.2017").stdout
    assert [e["eventID"] for e in json.loads(one)["epcisBody"]["eventList"]] == ids[:1]

    bad = _document([_event(1), _event(2, when="yesterday")])
    failed = cli("epcis", "import", str(write_json(tmp_path / "bad.jsonld", bad)), code=2)
    assert "(epcisBody.eventList[1].eventTime)" in failed.stderr
    assert len(json.loads(cli("epcis", "export").stdout)["epcisBody"]["eventList"]) == 2


def test_a_large_epcis_document_goes_in_whole_or_not_at_all(cli, tmp_path):
    events = [_event(i) for i in range(1_100)]
    broken = copy.deepcopy(events)
    broken[1_050]["eventTime"] = "yesterday"
    path = write_json(tmp_path / "broken.jsonld", _document(broken))
    failed = cli("epcis", "import", str(path), code=2)
    assert "(epcisBody.eventList[1050].eventTime)" in failed.stderr  # counted in the whole file
    assert json.loads(cli("epcis", "export").stdout)["epcisBody"]["eventList"] == []

    path = write_json(tmp_path / "events.jsonld", _document(events))
    assert "1100 created, 0 replayed" in cli("epcis", "import", str(path)).stdout
    assert "0 created, 1100 replayed" in cli("epcis", "import", str(path)).stdout


# --- chain, liability, recall ---


def test_chain_and_liability_of_the_phone_misdescribed_on_stream(cli, count, fresh_url, docs_dir):
    case = build(fresh_url, docs_dir, stories.phone_case)
    r, order = case.refs, str(case.order_id)

    shown = cli("chain", order).stdout
    assert f"{r['maker']} → {r['supplier']} → {r['shop']}" in shown
    assert "no gaps" in shown and "handover" in shown
    body = json.loads(cli("chain", order, "--json").stdout)
    assert body["complete"] and body["custodians"] == [r["maker"], r["supplier"], r["shop"]]

    assessed = cli("liability", order, "--finding", "not_as_described", "--by", "reviewer:1")
    text_out = assessed.stdout
    assert "misrepresentation-by-host" in text_out
    for heading in ("primary", "pays first", "recover from", "cleared", "basis"):
        assert heading in text_out
    assert f"{r['host']} (host)" in text_out and "network = '5G'" in text_out
    as_json = cli("liability", order, "--finding", "not_as_described", "--by", "r:1", "--json")
    result = json.loads(as_json.stdout)
    assert result["pays_first"]["party"] == r["shop"]
    assert [x["party"] for x in result["primary"]] == [r["host"], r["shop"]]
    assert count("liability_assessments") == 2

    # an event sends the batch on to a party nobody registered: the chain shows the gaps
    grey = _event(0, when="2026-07-01T10:00:00+00:00")
    del grey["epcList"]
    grey["quantityList"] = [{"epcClass": body["batch"]["epc_class"], "quantity": 10}]
    grey["sourceList"] = [{"type": "possessing_party", "source": party_uri(r["shop"])}]
    grey["destinationList"] = [
        {"type": "possessing_party", "destination": party_uri("supplier:grey")}
    ]
    cli("epcis", "import", str(write_json(docs_dir.parent / "grey.jsonld", _document([grey]))))
    gaps = cli("chain", order).stdout
    assert "gap: unknown_party" in gaps and "no gaps" not in gaps
    assert not json.loads(cli("chain", order, "--json").stdout)["complete"]

    bad = cli("liability", order, "--finding", "fake", "--by", "reviewer:1", code=2)
    assert "--finding" in bad.output
    assert count("liability_assessments") == 2
    assert "(order_id)" in cli("chain", "999999", code=2).stderr
    assert (
        "(order_id)"
        in cli("liability", "999999", "--finding", "counterfeit", "--by", "r", code=2).stderr
    )


def test_recall_reaches_every_buyer_of_the_birds_nest_batch(cli, count, fresh_url, docs_dir):
    case = build(fresh_url, docs_dir, stories.birds_nest_case)
    report = case.docs["independent_report"]
    args = ("recall", str(case.batch_id), "--finding", "counterfeit", "--by", "reviewer:1")
    args += ("--reason", "independent sampling found no bird's nest")

    out = cli(*args, "--evidence", report).stdout
    assert "5 buyer(s) reached" in out
    assert all(f"buyer:nest-{i}" in out for i in range(5)) and "nest-cancelled" not in out
    engine = make_engine(fresh_url)
    with session_factory(engine)() as session:
        totals = recalls.get_recall(session, 1).totals()["CNY"]
    engine.dispose()
    assert f"refunds {Money(totals['refund'], 'CNY').format()}" in out
    assert f"compensation {Money(totals['compensation'], 'CNY').format()}" in out

    again = cli(*args, "--evidence", report).stdout
    assert "opened before; nothing changed" in again
    assert (count("recalls"), count("remedy_tasks")) == (1, 5)

    unknown = cli(*args, "--evidence", "0" * 64, code=2)
    assert "(evidence)" in unknown.stderr
    assert (
        "(batch_id)"
        in cli(
            "recall",
            "999999",
            "--finding",
            "counterfeit",
            "--reason",
            "r",
            "--evidence",
            report,
            "--by",
            "r",
            code=2,
        ).stderr
    )
    assert (count("recalls"), count("remedy_tasks")) == (1, 5)
