"""Brand authorizations: the owner lets a distributor or a seller trade its goods, and a
distributor may authorize others in turn (a chain the counterfeit gate and the chain of
custody both follow)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.catalog import model
from xinren.catalog.brands import get_brand
from xinren.catalog.model import Scope
from xinren.catalog.refs import document_of, one_row, party_of_kind
from xinren.catalog.tables import brand_authorizations
from xinren.clock import Clock
from xinren.documents.model import DocType, Grant
from xinren.errors import Conflict, ValidationFailed

#: A brand authorization is the chain's Grant: one shape for the record and for the reasoning.
Authorization = Grant


def authorize(
    session: Session,
    clock: Clock,
    *,
    brand_id: int,
    grantor: str,
    grantee: str,
    scope: Scope,
    valid_from: date,
    valid_to: date,
    document: str,
) -> Authorization:
    """Record a brand authorization. The grantor is the brand owner, or a distributor holding
    a valid 'distribute' authorization for the same brand (a sub-authorization)."""
    brand = get_brand(session, brand_id)
    party_of_kind(session, grantor, "grantor", "brand_owner", "supplier", "manufacturer")
    party_of_kind(session, grantee, "grantee", "supplier", "merchant", "manufacturer")
    model.check_window(valid_from, valid_to, "validity")
    doc = document_of(session, document, "document", DocType.BRAND_AUTHORIZATION)
    if doc.meta.issuer != grantor:
        raise ValidationFailed(
            f"the authorization document was issued by {doc.meta.issuer}, not by {grantor}",
            field="document",
        )
    if grantor != brand.owner:
        held = [
            a
            for a in authorizations_of(session, grantor, brand_id)
            if a.scope is Scope.DISTRIBUTE and a.valid_on(valid_from)
        ]
        if not held:
            raise Conflict(
                f"{grantor} holds no valid 'distribute' authorization for {brand.name} on "
                f"{valid_from}, so it cannot authorize others",
                field="grantor",
            )
    ident = session.execute(
        brand_authorizations.insert().returning(brand_authorizations.c.id),
        dict(
            brand_id=brand_id,
            grantor=grantor,
            grantee=grantee,
            scope=Scope(scope).value,
            valid_from=valid_from,
            valid_to=valid_to,
            document=document,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return _authorization(one_row(session, brand_authorizations, ident, "authorization"))


def _authorization(r: Any) -> Authorization:
    return Authorization(
        r.id,
        r.grantor,
        r.grantee,
        Scope(r.scope),
        r.valid_from,
        r.valid_to,
        r.document,
        r.revoked_at is not None,
        r.brand_id,
    )


def revoke_authorization(session: Session, clock: Clock, authorization_id: int) -> Authorization:
    one_row(session, brand_authorizations, authorization_id, "authorization")
    session.execute(
        update(brand_authorizations)
        .where(brand_authorizations.c.id == authorization_id)
        .where(brand_authorizations.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return _authorization(one_row(session, brand_authorizations, authorization_id, "authorization"))


def authorizations_of(session: Session, grantee: str, brand_id: int) -> list[Authorization]:
    rows = session.execute(
        select(brand_authorizations)
        .where(brand_authorizations.c.grantee == grantee)
        .where(brand_authorizations.c.brand_id == brand_id)
        .order_by(brand_authorizations.c.id)
    )
    return [_authorization(r) for r in rows]


def brand_authorizations_all(session: Session, brand_id: int) -> list[Authorization]:
    rows = session.execute(
        select(brand_authorizations)
        .where(brand_authorizations.c.brand_id == brand_id)
        .order_by(brand_authorizations.c.id)
    )
    return [_authorization(r) for r in rows]
