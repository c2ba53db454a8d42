"""`xinren parties | documents | catalog | epcis | chain | liability | recall`.

The accountability records from a terminal, through the same services as the API: each command
is one transaction, so a command that fails has written nothing.

The commands by use case: `parties`, `documents`, `catalog` (import), `epcis`, `findings`
(chain, liability, recall); `helpers` holds what they share.
"""

from __future__ import annotations

import typer

from xinren.cli.accountability import findings
from xinren.cli.accountability.catalog import catalog_app
from xinren.cli.accountability.documents import documents_app
from xinren.cli.accountability.epcis import epcis_app
from xinren.cli.accountability.parties import parties_app

app = typer.Typer()
app.add_typer(parties_app, name="parties")
app.add_typer(documents_app, name="documents")
app.add_typer(catalog_app, name="catalog")
app.add_typer(epcis_app, name="epcis")
app.command()(findings.chain)
app.command()(findings.liability)
app.command()(findings.recall)
