"""The HTTP routes: one module per URL prefix (a test holds each prefix to one module), each
route parsing its input, calling one service function and serialising the answer."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """Every router, in the order the app includes them."""
    from xinren.api.routes import (
        cases,
        catalog,
        documents,
        events,
        keys,
        ledger,
        merchants,
        notices,
        orders,
        parties,
        provenance,
        remedies,
        rules,
        transparency,
    )

    return [
        ledger.router,
        orders.router,
        merchants.router,
        events.router,
        parties.router,
        catalog.router,
        documents.router,
        provenance.router,
        rules.router,
        cases.router,
        remedies.router,
        notices.router,
        notices.reporters_router,
        transparency.router,
        keys.router,
    ]
