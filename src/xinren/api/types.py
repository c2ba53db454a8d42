"""Field types every API model shares, so each bound is declared (and documented in the
OpenAPI document) once: amounts, counts and ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from xinren.money import MAX_AMOUNT
from xinren.orders.model import MAX_QUANTITY

MAX_ID = 2**63 - 1
MAX_UNITS = 10**12  # the most units a batch may count

Amount = Annotated[
    StrictInt,
    Field(gt=0, le=MAX_AMOUNT, description=f"minor units (fen), 1 to {MAX_AMOUNT}"),
]
AmountOrZero = Annotated[
    StrictInt,
    Field(ge=0, le=MAX_AMOUNT, description=f"minor units (fen), 0 to {MAX_AMOUNT}"),
]
Quantity = Annotated[
    StrictInt, Field(gt=0, le=MAX_QUANTITY, description=f"units, 1 to {MAX_QUANTITY}")
]
Units = Annotated[StrictInt, Field(gt=0, le=MAX_UNITS, description=f"units, 1 to {MAX_UNITS}")]
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID, description="a record's id")]
