"""What building a case needs: references with the run's tag, evidence documents, EPCIS events
imported as one document, and orders paid and shipped; and the `Case` a story returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.model import Result
from xinren.clock import Clock
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta, document_uri
from xinren.documents.store import FileStore
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.provenance import custody as provenance_events
from xinren.provenance import epcis
from xinren.provenance.model import party_uri


@dataclass(frozen=True, slots=True)
class Case:
    order_id: int
    batch_id: int
    refs: dict[str, str]
    docs: dict[str, str]
    other_orders: tuple[int, ...] = ()


class Builder:
    """Records one story's facts through the services, every reference suffixed with `tag`."""

    def __init__(self, session: Session, clock: Clock, store: FileStore, tag: str) -> None:
        self.s, self.clock, self.store, self.tag = session, clock, store, tag
        self.events: list[dict[str, Any]] = []

    def ref(self, kind: str, name: str) -> str:
        return f"{kind}:{name}-{self.tag}"

    def doc(self, doc_type: DocType, issuer: str, subject: str, text: str, **kw: Any) -> str:
        meta = DocumentMeta(doc_type, "text/plain", issuer, subject, **kw)
        body = f"{doc_type.value} | {issuer} | {subject} | {self.tag}\n{text}\n".encode()
        return documents.add(self.s, self.clock, self.store, body, meta).sha256

    def inspection(
        self,
        doc_type: DocType,
        lab: str,
        batch_id: int,
        text: str,
        *,
        accreditation: str,
        commissioned_by: str,
        sampled_on: date,
        result: Result,
        finding: str,
    ) -> str:
        """A lab's report on a batch, filed as evidence and recorded as the batch's inspection;
        the document's sha256."""
        report = self.doc(doc_type, lab, f"batch:{batch_id}", text, accreditation=accreditation)
        catalog.add_inspection(
            self.s,
            self.clock,
            batch_id=batch_id,
            document=report,
            commissioned_by=commissioned_by,
            sampled_on=sampled_on,
            result=result,
            finding=finding,
        )
        return report

    def event(
        self,
        event_type: str,
        biz_step: str,
        at: datetime,
        epc_class: str,
        *,
        action: str | None = "OBSERVE",
        source: str | None = None,
        dest: str | None = None,
        docs: tuple[str, ...] = (),
        quantity: int = 1,
    ) -> None:
        body: dict[str, Any] = {
            "type": event_type,
            "eventTime": at.isoformat(),
            "eventTimeZoneOffset": "+00:00",
            "eventID": f"urn:uuid:{uuid.uuid4()}",
            "bizStep": biz_step,
        }
        if action is not None:
            body["action"] = action
        if event_type == "TransactionEvent":
            body["bizTransactionList"] = [
                {"type": "inv", "bizTransaction": document_uri(d)} for d in docs
            ]
            body["quantityList"] = [{"epcClass": epc_class, "quantity": quantity}]
        else:
            body["quantityList"] = [{"epcClass": epc_class, "quantity": quantity}]
            if docs:
                body["certificationInfo"] = [document_uri(d) for d in docs]
        if source is not None:
            body["sourceList"] = [
                {"type": "owning_party", "source": party_uri(source)},
                {"type": "possessing_party", "source": party_uri(source)},
            ]
        if dest is not None:
            body["destinationList"] = [
                {"type": "owning_party", "destination": party_uri(dest)},
                {"type": "possessing_party", "destination": party_uri(dest)},
            ]
        self.events.append(body)

    def import_events(self, recorded_by: str) -> None:
        doc = epcis.document(
            self.events, document_id=f"urn:uuid:{uuid.uuid4()}", created=self.clock.now()
        )
        provenance_events.import_document(self.s, self.clock, doc, recorded_by=recorded_by)
        self.events = []

    def order(self, key: str, buyer: str, merchant: str, listing: int, **kw: Any) -> int:
        view = orders.create_order(
            self.s,
            self.clock,
            f"case-{self.tag}-{key}",
            buyer=buyer,
            merchant=merchant,
            listing_id=listing,
            **kw,
        )
        for action, actor in ((Action.PAY, "platform"), (Action.SHIP, merchant)):
            orders.act(
                self.s, self.clock, view.id, action, f"case-{self.tag}-{key}-{action}", actor=actor
            )
        return view.id
